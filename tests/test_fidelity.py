"""The supernet's fidelity (nat_tf.analysis.fidelity): Kendall's tau within inputs and
overall, its bootstrap interval, the weight phase's transformed draws, and
bench/supernet_fidelity.py end to end on the tiny run, resumed without training again."""

import json
import os

import numpy as np
import pytest
from scipy import stats
import tensorflow as tf

from conftest import run_program
from nat_tf import atomic
from nat_tf.analysis import derive
from nat_tf.analysis import fidelity
from nat_tf.analysis import study
from nat_tf.errors import UsageError
from nat_tf.nn import architecture as arch_lib
from nat_tf.space import ops


def test_tau_of_one_group_is_scipys_tau_b_ties_included():
  rng = np.random.default_rng(0)
  x, y = rng.integers(0, 5, 30), rng.integers(0, 4, 30)  # many ties on both sides
  assert fidelity.kendall_tau_b(x, y, [0] * 30) == pytest.approx(stats.kendalltau(x, y)[0])


def test_tau_within_groups_ignores_pairs_across_groups():
  # Inside each group the two orders agree; across groups they disagree.
  x = [1, 2, 3, 11, 12, 13]
  y = [11, 12, 13, 1, 2, 3]
  groups = ["a", "a", "a", "b", "b", "b"]
  assert fidelity.kendall_tau_b(x, y, groups) == 1.0
  assert fidelity.kendall_tau_b(x, y, [0] * 6) < 0
  assert np.isnan(fidelity.kendall_tau_b([1, 1], [1, 2], [0, 0]))  # no untied pair


def test_the_interval_holds_the_tau_and_is_wide_without_a_relation():
  rng = np.random.default_rng(1)
  x = np.arange(24.0)
  groups = np.repeat(["a", "b", "c"], 8)
  tau, low, high = fidelity.tau_interval(x, x + rng.normal(0, 0.5, 24), groups, resamples=500)
  assert 0.5 < low <= tau <= high <= 1.0
  tau, low, high = fidelity.tau_interval(x, rng.normal(size=24), groups, resamples=500)
  assert low < 0 < high and low <= tau <= high


def test_transformed_draws_turn_edges_into_skips_and_nulls_at_the_given_rate():
  op_list = ops.op_list("loose_end")
  generator = tf.random.Generator.from_seed(0)
  drawn = arch_lib.random(generator, 2000, 4, op_list)
  assert not np.any(drawn.numpy()[..., arch_lib.OP_IDS, :] == op_list.null_id)
  unchanged = arch_lib.randomly_transformed(generator, drawn, 0.0, op_list)
  np.testing.assert_array_equal(unchanged, drawn)
  half = arch_lib.randomly_transformed(generator, drawn, 0.5, op_list).numpy()
  np.testing.assert_array_equal(half[..., arch_lib.SOURCES, :],
                                drawn.numpy()[..., arch_lib.SOURCES, :])
  new_ops = half[..., arch_lib.OP_IDS, :]
  changed = new_ops != drawn.numpy()[..., arch_lib.OP_IDS, :]
  assert np.all(np.isin(new_ops[changed], [op_list.skip_id, op_list.null_id]))
  # 0.25 null, 0.25 skip (plus the skips drawn: 1/8 of the non-null ops) on 32,000 edges
  assert np.mean(new_ops == op_list.null_id) == pytest.approx(0.25, abs=0.02)
  assert np.mean(new_ops == op_list.skip_id) == pytest.approx(0.25 + 0.5 / 8, abs=0.02)


def test_a_transform_probability_outside_0_1_is_refused_naming_the_binding():
  from nat_tf.search import supernet_steps  # pylint: disable=import-outside-toplevel
  with pytest.raises(UsageError, match=r"WeightTrainer.transform_probability=1.5: a probability"):
    supernet_steps.WeightTrainer(None, None, None, 64, transform_probability=1.5)


def test_no_input_or_a_negative_count_is_refused_before_anything_is_written(tmp_path):
  with pytest.raises(UsageError, match="--genotypes is empty"):
    fidelity.fidelity_run("run", {}, str(tmp_path / "out"))
  with pytest.raises(UsageError, match="--samples=-1"):
    fidelity.fidelity_run("run", {"x": None}, str(tmp_path / "out"), samples=-1)
  (tmp_path / "notes.txt").write_text("mine")
  with pytest.raises(UsageError, match=r"not a study's \(notes.txt\)"):
    fidelity.fidelity_run("run", {"x": None}, str(tmp_path))
  assert os.listdir(tmp_path) == ["notes.txt"]


def test_derive_says_whether_the_runs_fidelity_was_measured_and_shown(tmp_path):
  run_dir = str(tmp_path)
  assert derive.fidelity_line(run_dir).startswith("supernet fidelity: not measured for this run")
  measured = {"level": 0.95, "architectures": 24, "clearly_above_zero": False,
              "tau_within_inputs": {"tau": 0.1, "low": -0.2, "high": 0.4}}
  path = os.path.join(run_dir, derive.FIDELITY_REPORT)
  atomic.write_json(path, measured)
  line = derive.fidelity_line(run_dir)
  assert line.startswith("warning: supernet fidelity not clearly above zero: within-input "
                         "Kendall tau +0.10 (95% interval -0.20 to +0.40, 24 architectures")
  atomic.write_json(path, {**measured, "clearly_above_zero": True})
  assert derive.fidelity_line(run_dir).startswith("supernet fidelity: within-input Kendall")
  atomic.write_json(path, {"level": 0.95})
  assert derive.fidelity_line(run_dir).startswith("warning: supernet fidelity unreadable")


def _bench(tiny_run, output, data_dir):
  bindings = ["train_final.epochs = 1", "train_final.steps_per_epoch = 2",
              "build_network.layers = 3", f"train_final.data_dir = '{data_dir}'"]
  return run_program(
      "bench/supernet_fidelity.py", f"--run_dir={tiny_run}", "--genotypes=DARTS_V2",
      f"--output_dir={output}", "--samples=1", "--randoms=1",
      "--gin_file=gin/train_final_digits.gin", *[f"--gin_bindings={b}" for b in bindings])


def test_the_bench_scores_trains_and_ranks_every_candidate_and_resumes(tiny_run, digits_data_dir,
                                                                      tmp_path):
  output = str(tmp_path / "fidelity")
  done = _bench(tiny_run, output, digits_data_dir)
  assert done.returncode == 0, done.stderr[-3000:]
  result = json.load(open(os.path.join(output, "fidelity.json")))
  rows = result["rows"]
  assert {row["input"] for row in rows} == {"DARTS_V2"}
  assert rows[0]["source"] == "input" and 2 <= len(rows) <= 4  # input, greedy, sample, random
  keys = [row["architecture"] for row in rows]
  assert len(set(keys)) == len(keys)  # each distinct architecture of an input once
  for row in rows:
    report = json.load(open(os.path.join(study.training_dir(output, row["architecture"], 0),
                                         "report.json")))
    assert row["top1"] == report["top1"] and 0 <= row["supernet_accuracy"] <= 1
  x, y = [r["supernet_accuracy"] for r in rows], [r["top1"] for r in rows]
  overall = result["tau_overall"]
  assert overall["tau"] == pytest.approx(fidelity.kendall_tau_b(x, y, [0] * len(rows)),
                                         nan_ok=True)
  assert result["clearly_above_zero"] == (result["tau_within_inputs"]["low"] > 0)
  assert open(os.path.join(output, "fidelity.md")).read() in done.stdout

  stamps = {row["architecture"]: os.stat(os.path.join(study.training_dir(
      output, row["architecture"], 0), "report.json")).st_mtime_ns for row in rows}
  again = _bench(tiny_run, output, digits_data_dir)
  assert again.returncode == 0, again.stderr[-3000:]
  assert f"study: {len(stamps)} of {len(stamps)} trainings already finished" in again.stderr
  assert {key: os.stat(os.path.join(study.training_dir(output, key, 0), "report.json")
                       ).st_mtime_ns for key in stamps} == stamps
