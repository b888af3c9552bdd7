"""bin/train end to end: outputs, resume after a kill, non-finite stops, errors, gin files."""

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import gin
import pytest
import tensorflow as tf

from conftest import TINY_RUN
from conftest import run_bin
from conftest import user_env
from nat_tf.errors import NonFiniteError
from nat_tf.search import train_eval
from nat_tf.space import catalogue
from nat_tf.space import cost

TRAIN = [sys.executable, "bin/train"]


def _bindings(data_dir, *extra):
  return [f"--gin_bindings={b}" for b in TINY_RUN + [f"SearchSetup.data_dir = '{data_dir}'",
                                                      *extra]]


def test_a_run_leaves_config_status_checkpoints_summaries_and_policy(tiny_run):
  listing = set(os.listdir(tiny_run))
  assert {"config.gin", "operative_config.gin", "status.json", "checkpoints", "policy"} <= listing
  assert any(name.startswith("events.out.tfevents.") for name in listing), \
      "summaries belong in the run folder itself, so TensorBoard names the run after it"
  status = json.load(open(os.path.join(tiny_run, "status.json")))
  assert status["finished"] is True and status["epoch"] == 2
  assert status["weight_steps"] == 2 * 9 and status["policy_steps"] == 2 * 12
  assert "Supernet.channels = 8" in open(os.path.join(tiny_run, "operative_config.gin")).read()
  assert sorted(os.listdir(os.path.join(tiny_run, "policy"))) == ["greedy", "sampling", "space.json"]


def test_a_run_scores_its_policy_on_held_out_cells(tiny_run):
  held_out = json.load(open(os.path.join(tiny_run, "policy_eval.json")))
  assert held_out["cells"] == 8
  policies = held_out["policies"]
  assert policies["keep"]["kept"] == 1 and policies["keep"]["accuracy_change"] == 0
  assert policies["uniform"]["madds_change"] < 0 < policies["uniform"]["changed"]
  text = train_eval.format_held_out(held_out)
  assert text.startswith("on 8 held-out random input cells")
  greedy = policies["greedy"]
  assert (f"greedy     kept {greedy['kept']:.2f} skip {greedy['skipped']:.2f} "
          f"null {greedy['nulled']:.2f}  accuracy {greedy['accuracy_change']:+.3f}") in text


def _summaries(run_dir):
  """{tag: [(step, value proto)]} of every event file in run_dir."""
  found = {}
  for name in sorted(os.listdir(run_dir)):
    if name.startswith("events.out.tfevents."):
      for event in tf.compat.v1.train.summary_iterator(os.path.join(run_dir, name)):
        for value in event.summary.value:
          found.setdefault(value.tag, []).append((event.step, value))
  return found


def test_summaries_hold_the_rewards_and_each_new_transformation_of_the_target_once(tiny_run):
  found = _summaries(tiny_run)
  assert {"policy/reward_mean", "policy/entropy", "policy/loss/policy_gradient"} <= set(found)
  images = [value.tensor.string_val[2] for _, value in found["policy/transformed_target"]]
  assert images and all(png.startswith(b"\x89PNG") for png in images)
  assert all(a != b for a, b in zip(images, images[1:])), "an unchanged target was drawn again"


def test_every_scalar_is_at_the_global_step_and_policy_curves_have_a_point_per_update(tiny_run):
  """One step axis in TensorBoard (weight and policy steps counted together), TF-Agents'
  own Losses/* (at its count of policy updates) replaced by policy/loss/*."""
  found = _summaries(tiny_run)
  assert not [tag for tag in found if tag.startswith("Losses/")]
  # 2 epochs of 9 weight steps then 12 policy steps: policy steps 10-21 and 31-42.
  policy_steps = [*range(10, 22), *range(31, 43)]
  for tag in ("policy/reward_mean", "policy/loss", "policy/loss/policy_gradient",
              "policy/loss/entropy_regularization", "policy/actions/skip"):
    assert [step for step, _ in found[tag]] == policy_steps, tag


NOISE = ["Unable to register cu", "TensorRT", "cuda drivers", "cuInit", "oneDNN",
         "cpu_feature_guard", "InitializeLog", "Sharding callback",
         "Gym has been unmaintained", "gymnasium", "Type inference failed",
         "replicate on split", "untraced functions"]


def test_the_log_is_quiet_and_every_progress_line_says_the_time_left(tiny_run_process):
  _, result = tiny_run_process
  log = result.stderr + result.stdout
  assert not [noise for noise in NOISE if noise in log], log[-3000:]
  progress = [line for line in log.splitlines() if " steps, " in line]
  assert len(progress) == 5, log[-3000:]  # steps 10, 20, 30, 40 and the last, 42
  assert all(re.search(r"\d+:\d\d:\d\d left", line) for line in progress), progress
  # Step 10 is the first policy step: not timed (it traces), so a lower bound, said so.
  assert "at least" in progress[0] and "policy steps not timed yet" in progress[0]
  assert progress[-1].endswith("42/42 steps, 0:00:00 left")
  assert len([line for line in log.splitlines() if "checkpoint ckpt-" in line]) == 1, \
      "only the last checkpoint is logged at the default verbosity"


TF_CPP_LINE = re.compile(r"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \w+\.cc:\d+\] ", re.MULTILINE)


@pytest.mark.parametrize("verbosity, shown", [([], False), (["--verbosity=1"], True)])
def test_verbosity_1_brings_back_what_tensorflow_and_gym_print_as_they_load(verbosity, shown,
                                                                            tmp_path):
  result = run_bin("train", "--gin_bindings=train_eval.epoch = 3", f"--root_dir={tmp_path}",
                   *verbosity, env=user_env(), fresh=True)
  assert result.returncode == 2 and "error: bad gin configuration" in result.stderr
  assert bool(TF_CPP_LINE.search(result.stderr)) == shown, result.stderr[-3000:]
  assert ("Gym has been unmaintained" in result.stderr) == shown, result.stderr[-3000:]


EXPORTED_POLICY = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorflow as tf
    import tensorflow_probability  # registers the distributions' type specs
    from tf_agents.trajectories import time_step as ts
    from nat_tf.space import action_spaces, catalogue, graph
    policy = tf.saved_model.load(sys.argv[1])
    space = action_spaces.action_space("nat", "fully_concat")
    darts = catalogue.get("DARTS")
    arrays = graph.genotype_graph(darts, space)
    observation = {k: tf.constant(arrays[k][None]) for k in ("op_ids", "sources", "adjacency", "mask")}
    action = policy.action(ts.restart(observation, 1)).action.numpy()[0]
    print(space.apply_genotype(darts, action[0], action[1]))
""")


@pytest.mark.parametrize("kind", ["greedy", "sampling"])
def test_exported_policy_transforms_darts_in_a_fresh_process(tiny_run, kind):
  result = subprocess.run([sys.executable, "-c", EXPORTED_POLICY,
                           os.path.join(tiny_run, "policy", kind)],
                          capture_output=True, text=True, check=True)
  assert result.stdout.startswith("Genotype(normal=Cell(edges=(Edge(op=")


def _status(root_dir):
  try:
    with open(os.path.join(root_dir, "status.json")) as handle:
      return json.load(handle)
  except (FileNotFoundError, json.JSONDecodeError):
    return None


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_step_count(digits_data_dir, tiny_run, tmp_path):
  """Killed after a checkpoint and restarted, the run ends where the uninterrupted
  `tiny_run` (same configuration) ended."""
  args = _bindings(digits_data_dir, "train_eval.checkpoint_every = 7")
  killed = tmp_path / "killed"
  process = subprocess.Popen(TRAIN + args + [f"--root_dir={killed}"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
  deadline = time.time() + 300
  while time.time() < deadline:
    status = _status(killed)
    if status and status["weight_steps"] + status["policy_steps"] >= 14:
      break
    time.sleep(0.2)
  process.send_signal(signal.SIGKILL)
  process.wait()
  interrupted = _status(killed)
  assert interrupted and not interrupted["finished"]
  # Whatever the kill interrupted, the latest checkpoint reads back whole.
  latest = tf.train.latest_checkpoint(str(killed / "checkpoints"))
  assert tf.train.load_checkpoint(latest).get_variable_to_shape_map()
  resumed = run_bin("train", *args, f"--root_dir={killed}")
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  final, reference = _status(killed), _status(tiny_run)
  for key in ("epoch", "weight_steps", "policy_steps", "finished"):
    assert final[key] == reference[key], key


@pytest.mark.slow
def test_repeated_non_finite_steps_stop_with_a_clear_error(digits_data_dir, tmp_path):
  gin.clear_config()
  gin.parse_config(TINY_RUN + [f"SearchSetup.data_dir = '{digits_data_dir}'",
                               "WeightTrainer.learning_rate = 1e30",
                               "train_eval.checkpoint_every = 1",
                               "train_eval.max_nonfinite = 3"])
  try:
    with pytest.raises(NonFiniteError, match="3 consecutive non-finite weights steps"
                       ".*last good checkpoint is .*ckpt-.*WeightTrainer.learning_rate"):
      train_eval.train_eval(str(tmp_path))
  finally:
    gin.clear_config()
  latest = tf.train.latest_checkpoint(str(tmp_path / "checkpoints"))
  assert tf.train.load_checkpoint(latest).get_variable_to_shape_map()
  assert not _status(tmp_path)["finished"]


@pytest.mark.parametrize("args, message", [
    (["--gin_bindings=train_eval.epoch = 3"], "bad gin configuration"),
    (["--gin_file=gin/darts.gin"], "cifar10"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=train_eval.target_genotype = 'ENAS'"],
     "5 intermediate nodes per cell but the policy was trained on 4"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=SearchSetup.action_space = 'natp'"],
     "unknown action space 'natp'"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=SearchSetup.seed = (1"],
     "EOF in multi-line statement"),  # Python 3.12 on: "unexpected EOF ..."
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=SearchSetup.batch_size = 0"],
     "SearchSetup.batch_size=0 must be an integer >= 1"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=SearchSetup.batch_size = 'abc'"],
     "SearchSetup.batch_size='abc' must be an integer >= 1"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=train_eval.checkpoint_every = 0"],
     "train_eval.checkpoint_every=0 must be an integer >= 1"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=Supernet.channels = 'wide'"],
     "bad gin configuration: "),
    (["--gin_file=gin/quickstart.gin",
      "--gin_bindings=SearchSetup.cost_weight = 1e999"],
     "SearchSetup.cost_weight=inf must be a finite number"),
    (["--gin_file=gin/quickstart.gin",
      "--gin_bindings=TransformationEnvironment.cost_weight = 0.1"],
     "TransformationEnvironment.cost_weight is now SearchSetup.cost_weight"),
    (["--gin_file=gin/quickstart.gin",
      "--gin_bindings=train_eval.target_genotype = '{bad_bytes}'"],
     "not UTF-8 text (byte 9"),
    (["--gin_file=gin/quickstart.gin", "--gin_bindings=SearchSetup.data_dir = '{a_file}'"],
     "is a file; give a folder"),
], ids=["unknown_parameter", "no_data", "node_count", "action_space", "gin_token_error",
        "batch_size_0", "batch_size_type", "checkpoint_every_0", "channels_type",
        "cost_weight_inf", "cost_weight_old_name", "genotype_bytes", "data_dir_file"])
def test_bad_configuration_exits_2_with_one_line(args, message, digits_data_dir, empty_tfds_dir,
                                                tmp_path):
  (tmp_path / "bad_bytes.txt").write_bytes(b"Genotype(\xff)")
  (tmp_path / "a_file").write_text("not a folder")
  args = [arg.format(bad_bytes=tmp_path / "bad_bytes.txt", a_file=tmp_path / "a_file")
          for arg in args]
  start = time.time()
  result = run_bin("train", *args, f"--root_dir={tmp_path / 'run'}",
                   env=dict(os.environ, TFDS_DATA_DIR=empty_tfds_dir))
  lines = [l for l in result.stderr.strip().splitlines() if l.startswith("error:")]
  assert result.returncode == 2, result.stderr[-2000:]
  assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
  assert "Traceback" not in result.stderr, result.stderr[-2000:]
  assert time.time() - start < 60
  assert not os.path.exists(tmp_path / "run"), "a failed first start left a run folder"


@pytest.mark.slow
@pytest.mark.parametrize("gin_file", ["gin/loose_end.gin", "gin/enas.gin", "gin/natpp_darts.gin"])
def test_loose_end_enas_and_natpp_configurations_train_on_digits(gin_file, digits_data_dir,
                                                                 tmp_path):
  """The shipped gin files, shrunk and pointed at digits, run end to end."""
  small = ["SearchSetup.dataset = 'digits'", f"SearchSetup.data_dir = '{digits_data_dir}'",
           "Supernet.channels = 4", "Supernet.layers = 3", "CellEncoder.features = 16",
           "CellEncoder.hidden = 8", "CellEncoder.edge_hidden = 8", "train_eval.epochs = 1"]
  result = run_bin("train", f"--gin_file={gin_file}", f"--root_dir={tmp_path}",
                   *[f"--gin_bindings={b}" for b in small])
  assert result.returncode == 0, result.stderr[-3000:]
  assert "transformed genotype:" in result.stdout and "multiply-adds" in result.stdout
  assert _status(tmp_path)["finished"]


def test_the_report_numbers_nodes_as_genotypes_and_diagrams_do():
  """genotype.node_name (which diagram labels use too): the genotype's index, the inputs
  also by DARTS's names."""
  before, after = catalogue.get("DARTS_V2"), catalogue.get("NAT_DARTS")
  costs = {"before": cost.report(before, "cifar10"), "after": cost.report(after, "cifar10")}
  text = train_eval.format_report({"genotype": before, "transformed": after, "cost": costs})
  assert "  normal edge from 0 (c_{k-2}) to 3: sep_conv_3x3 -> skip_connect" in text
  assert "  normal edge from 1 (c_{k-1}) to 4: sep_conv_3x3 -> skip_connect" in text
  assert "('skip_connect', 0, 3)" in text  # the same numbers as the genotype printed above
