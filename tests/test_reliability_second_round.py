"""Run folders and inputs, second round (issue 39): an unreadable checkpoint index, what a
killed save leaves, mistyped flags, a gin include of a missing file, a damaged or empty
config.gin, a folder of the other kind of run, a derivation into the folder of its input,
repeated seeds and a negative learning rate, one bin/study per folder, an interrupted
line that names no wrong flag, bounds on a network's size and a concat list, damaged study
files, a resume with another node count, and a write error while saving."""

import json
import logging
import os
import re
import resource
import signal
import types

import gin
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from conftest import TINY_RUN
from conftest import kept_checkpoints
from conftest import run_bin
from nat_tf import run_folder
from nat_tf.analysis import compare
from nat_tf.analysis import study
from nat_tf.errors import Interrupted
from nat_tf.errors import UsageError
from nat_tf.evaluate import train_final
from nat_tf.rl import agent as agent_lib
from nat_tf.rl import environment
from nat_tf.search import runs
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import genotype_format
from nat_tf.space.genotype import GenotypeError
from nat_tf.training import checkpoints
from nat_tf.training import position
from nat_tf.training import step_loop

INDEX = os.path.join(run_folder.CHECKPOINT_DIR, run_folder.CHECKPOINT_INDEX)


@pytest.mark.parametrize("index, damaged_latest", [
    (b"\xff\x00 not a checkpoint index {{", False),
    (b"", False),  # parses, names no checkpoint
    (b'model_checkpoint_path: "ckpt-999"\n', False),  # names one that does not exist
    (b"garbage", True),
])
def test_an_unreadable_index_is_rebuilt_and_the_newest_intact_checkpoint_restored(
    run_copy, caplog, index, damaged_latest):
  kept = kept_checkpoints(run_copy)
  status = json.loads((run_copy / "status.json").read_text())
  (run_copy / INDEX).write_bytes(index)
  if damaged_latest:
    os.truncate(f"{kept[-1]}.data-00000-of-00001", 100)
  state = position.SearchState()
  with caplog.at_level(logging.WARNING):
    checkpointer = checkpoints.Checkpointer(str(run_copy), state)
  assert str(run_copy / INDEX) in caplog.text
  # The manager knows every checkpoint again, so a later save keeps and sweeps them as before.
  assert checkpointer.saved.checkpoints == kept == kept_checkpoints(run_copy)
  path = checkpointer.restore(for_inference=True)
  assert path == kept[-2 if damaged_latest else -1]
  if not damaged_latest:
    assert {key: status[key] for key in state.status()} == state.status()
    assert state.total_steps > 0


def test_derive_reopens_a_run_whose_index_is_garbage_at_its_newest_checkpoint(run_copy):
  kept = kept_checkpoints(run_copy)
  (run_copy / INDEX).write_text("garbage")
  gin.clear_config()  # what other tests bound must not reach the run's rebuilt configuration
  try:
    _, path = runs.load(str(run_copy))
  finally:
    gin.clear_config()
  assert path == kept[-1]


def _leftovers(root):
  """Fake leftovers of a save killed mid-way, beside what must stay; returns both lists."""
  stale = [os.path.join("checkpoints", "ckpt-16_temp"), ".network.x1y2.tmp",
           ".status.json.a1b2.tmp"]
  kept = [os.path.join("checkpoints", "ckpt-8.index"), "network", "notes.tmp"]
  for name in stale[:2] + kept[1:2]:
    os.makedirs(root / name)
    (root / name / "part").write_text("x")
  for name in stale[2:] + kept[:1] + kept[2:]:
    (root / name).write_text("x")
  return stale, kept


def test_the_next_start_removes_what_a_killed_save_left_and_nothing_else(tmp_path, caplog):
  root = tmp_path / "run"
  (root / "checkpoints").mkdir(parents=True)
  stale, kept = _leftovers(root)
  with run_folder.lock(str(root)):  # another holder: its saves may be under way
    with pytest.raises(UsageError, match="in use by process"):
      with run_folder.opened(str(root)):
        pass
  assert all(os.path.exists(root / name) for name in stale)
  # absl's logger: an earlier absl.app run in this process may have set its level above INFO.
  with caplog.at_level(logging.INFO, logger="absl"):
    with run_folder.opened(str(root)):
      assert not any(os.path.exists(root / name) for name in stale)
  assert all(os.path.exists(root / name) for name in kept)
  assert "interrupted save" in caplog.text and "ckpt-16_temp" in caplog.text


@pytest.mark.parametrize("program, args, named", [
    ("cost", ["--dataset=cifar11"], "--dataset=cifar11"),
    ("cost", ["--channels=abc"], "--channels=abc"),
    ("cost", ["--gin_binding=x"], "'gin_binding'. Did you mean: gin_bindings"),
    ("study", ["--root-dir=x"], "'root-dir'. Did you mean: root_dir"),
])
def test_a_mistyped_flag_or_value_is_one_error_line(program, args, named):
  result = run_bin(program, *args)
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert result.returncode == 2, result.stderr[-3000:]
  assert len(lines) == 1 and lines[0].startswith("error:") and named in lines[0], lines


def test_a_gin_include_of_a_missing_file_is_one_error_line(tmp_path):
  gin_file = tmp_path / "outer.gin"
  gin_file.write_text("include 'nope.gin'\n")
  result = run_bin("train", f"--gin_file={gin_file}", f"--root_dir={tmp_path / 'run'}")
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert result.returncode == 2, result.stderr[-3000:]
  assert len(lines) == 1 and lines[0].startswith("error: bad gin configuration: Unable to open "
                                                 "file: nope.gin"), lines
  assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("config, message", [
    ("# only a comment\n\n", "binds nothing: the search run's configuration is lost"),
    ("SearchSetup.seed = \n", "is damaged, so the search run cannot be rebuilt"),
    ("SearchSetup.no_such_parameter = 1\n", "is damaged, so the search run cannot be rebuilt"),
    ("\x00\xff garbage ((\n", "is damaged, so the search run cannot be rebuilt"),
])
def test_a_run_whose_config_gin_is_damaged_is_refused_in_one_error(run_copy, config, message):
  (run_copy / "config.gin").write_bytes(config.encode("latin-1"))
  try:
    with pytest.raises(UsageError, match=message):
      runs.load(str(run_copy))
  finally:
    gin.clear_config()


def test_a_folder_of_the_other_kind_of_run_is_named_as_what_it_is(final_run, run_copy):
  try:
    with pytest.raises(UsageError, match="is a train_final run \\(written by bin/train_final\\), "
                                         "not a search run"):
      runs.load(final_run)  # bin/derive's and bin/compare's --run_dir
    with pytest.raises(UsageError, match="is a search run \\(written by bin/train\\), not a "
                                         "train_final run"):
      train_final.load(str(run_copy))  # bin/export's --train_dir
  finally:
    gin.clear_config()
  with pytest.raises(UsageError, match="is a search run"):
    train_final.train_final(str(run_copy), catalogue.get("DARTS_V2"), dataset="digits")
  assert not (run_copy / train_final.RUN_FILE).exists()  # bin/train_final wrote none into it


def test_derive_refuses_an_output_folder_that_holds_its_input_genotype(tiny_run, tmp_path):
  output = tmp_path / "derived"
  output.mkdir()
  genotype = output / "genotype.json"  # an earlier derivation's output, now the input
  genotype.write_text(genotype_format.to_json(catalogue.get("DARTS_V2")))
  before = genotype.read_bytes()
  result = run_bin("derive", f"--run_dir={tiny_run}", f"--genotype={genotype}",
                   f"--output_dir={output}")
  lines = [line for line in result.stderr.splitlines() if line.strip()]
  assert result.returncode == 2, result.stderr[-3000:]
  assert len(lines) == 1 and "lies in --output_dir=" in lines[0], lines
  assert genotype.read_bytes() == before and os.listdir(output) == ["genotype.json"]


@pytest.mark.parametrize("values, message", [
    (["0", "1", "0"], "--seeds=0,1,0 repeats 0; give each seed once"),
    (["2", "-1"], "--seeds=2,-1: -1 is negative"),
])
def test_repeated_or_negative_seeds_are_refused_before_anything_is_written(values, message,
                                                                            tmp_path):
  with pytest.raises(UsageError, match=message):
    compare.parse_seeds(values)
  output = tmp_path / "study"
  with pytest.raises(UsageError, match=message):
    study.study_run("no_run", {"DARTS_V2": catalogue.get("DARTS_V2")}, str(output),
                    [int(value) for value in values])
  assert not output.exists()


def test_a_learning_rate_of_the_agent_below_zero_is_refused():
  editor = environment.ArchitectureEditor(action_spaces.action_space("nat", "fully_concat"), 4)
  for rate in (-1, 0.0):
    with pytest.raises(UsageError, match=rf"make_agent.learning_rate={rate} must be > 0"):
      agent_lib.make_agent(ts.time_step_spec(editor.observe.spec), editor.action_spec, 9, 4,
                           learning_rate=rate)


def test_a_second_study_on_a_folder_in_use_stops_at_once(tmp_path):
  output = tmp_path / "study"
  output.mkdir()
  with run_folder.lock(str(output), "--output_dir"):
    with pytest.raises(UsageError, match=rf"--output_dir=.* is in use by process {os.getpid()}"):
      study.study_run("no_run", {"DARTS_V2": catalogue.get("DARTS_V2")}, str(output), [0])
  assert os.listdir(output) == [run_folder.LOCK_FILE]


def test_a_training_folder_in_use_stops_the_study_before_it_trains(tmp_path, monkeypatch):
  folder = tmp_path / "trainings" / "abc-seed0"
  folder.mkdir(parents=True)
  monkeypatch.setattr(study.train_final, "train_final", lambda *args: pytest.fail("trained"))
  with run_folder.lock(str(folder), "--root_dir"):  # a bin/train_final on it
    with pytest.raises(UsageError, match=rf"training=.*abc-seed0.* is in use by process "
                                         rf"{os.getpid()}"):
      study.train_one(str(folder), catalogue.get("DARTS_V2"),
                      {"gin_files": [], "bindings": [], "data_dir": None}, 0)
  assert os.listdir(folder) == [run_folder.LOCK_FILE]


def test_the_interrupted_line_names_the_folder_not_a_flag(monkeypatch, tmp_path):
  monkeypatch.setattr(step_loop.interrupts, "pending", lambda: signal.SIGTERM)
  folder = str(tmp_path / "study" / "trainings" / "abc-seed0")
  checkpointer = types.SimpleNamespace(
      root_dir=folder, manager=types.SimpleNamespace(latest_checkpoint=f"{folder}/ckpt-4"))
  loop = types.SimpleNamespace(checkpointer=checkpointer, saved_steps=4,
                               state=types.SimpleNamespace(total_steps=4))
  with pytest.raises(Interrupted) as stopped:
    step_loop.StepLoop._stop_if_interrupted(loop)  # pylint: disable=protected-access
  assert str(stopped.value) == (f"stopped by SIGTERM after step 4, saved as ckpt-4 in {folder}: "
                                "run the same command again to resume from there")


@pytest.mark.parametrize("flag, message", [
    ("--layers=100000000", "layers=100000000: a network has at most 1000 cells"),
    ("--channels=100000000000", "channels=100000000000: the initial width C is at most 4096"),
])
def test_a_network_size_past_its_bound_is_one_error_line_before_any_layout(flag, message):
  result = run_bin("cost", "--genotype=DARTS_V2", flag)
  assert result.returncode == 2 and result.stderr.strip().splitlines() == [f"error: {message}"]


def test_a_concat_list_naming_a_node_twice_is_refused_however_long(tmp_path):
  fields = genotype_format.to_dict(catalogue.get("DARTS_V2"))
  fields["normal_concat"] = [2] * 300_000  # under the file-size bound
  path = tmp_path / "genotype.json"
  path.write_text(json.dumps(fields))
  with pytest.raises(GenotypeError, match="normal cell: concat names node 2 twice"):
    genotype_format.read_file(str(path))


@pytest.mark.parametrize("name, content, message", [
    (study.PLAN_FILE, "", "cannot be read (Expecting value"),
    (study.PLAN_FILE, "[]", "is damaged: it lacks request, inputs, architectures, protocol"),
    (study.REPORT_FILE, '{"top1": 0.9', "cannot be read"),
    (study.REPORT_FILE, "[]", "is damaged: it lacks top1, cost, dataset, test_examples"),
])
def test_a_damaged_file_in_a_study_folder_is_named_with_its_fix(tmp_path, name, content, message):
  path = tmp_path / name
  path.write_text(content)
  fix = "delete it to plan" if name == study.PLAN_FILE else "delete its training folder"
  with pytest.raises(UsageError, match=f"{re.escape(str(path))} {re.escape(message)}.*; {fix}"):
    study.read_json(str(path))


def test_a_resume_with_another_node_count_names_the_changed_binding(run_copy, digits_data_dir):
  config = (run_copy / "config.gin").read_text()
  bindings = TINY_RUN + [f"SearchSetup.data_dir = '{digits_data_dir}'", "Supernet.num_nodes = 5"]
  with pytest.raises(UsageError, match=r"was built with other settings, its config.gin is left as "
                     r"it was\. Bindings that differ from it: .*Supernet\.num_nodes = 5"):
    runs.train(str(run_copy), bindings=bindings)
  assert (run_copy / "config.gin").read_text() == config


def test_a_write_error_while_saving_is_one_error_and_keeps_the_saved_checkpoints(tmp_path):
  state = position.SearchState()
  weights = tf.Variable(tf.zeros([64, 1024]))  # 256 KiB: over the limit below
  checkpointer = checkpoints.Checkpointer(str(tmp_path), state, weights=weights)
  first = checkpointer.save()
  status = (tmp_path / "status.json").read_text()
  state.count_step(0)  # the next save is ckpt-1
  limits = resource.getrlimit(resource.RLIMIT_FSIZE)
  resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, limits[1]))  # Python ignores SIGXFSZ
  try:
    with pytest.raises(UsageError, match=r"could not write checkpoint ckpt-1 in .*; the kept "
                       r"checkpoints are as they were: free disk space \(or raise the file-size"):
      checkpointer.save()
  finally:
    resource.setrlimit(resource.RLIMIT_FSIZE, limits)
  assert kept_checkpoints(str(tmp_path)) == [first]
  assert (tmp_path / "status.json").read_text() == status
