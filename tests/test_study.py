"""bin/study: the plan's trainings, its refusals, and a tiny study end to end with a kill."""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import run_bin
from nat_tf import atomic
from nat_tf.analysis import compare
from nat_tf.analysis import study
from nat_tf.errors import UsageError
from nat_tf.space import catalogue
from nat_tf.space import cost

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DARTS = catalogue.get("DARTS_V2")
# A few training steps of 3 cells on digits, and 2 samples per search: seconds per training.
TINY_STUDY = ["train_final.epochs = 1", "train_final.steps_per_epoch = 2",
              "build_network.layers = 3", "proposals.samples = 2"]


def _plan(per_seed_keys):
  """A plan with one input whose methods keep `per_seed_keys[method]` = [key per seed]."""
  seeds = [0, 1]
  methods = [{"method": method, "per_seed": [{"seed": seed, "architecture": key}
                                             for seed, key in zip(seeds, keys)]}
             for method, keys in per_seed_keys.items()]
  return {"request": {"seeds": seeds}, "inputs": [{"name": "DARTS_V2", "methods": methods}]}


def test_each_distinct_architecture_is_trained_once_per_seed_seed_by_seed():
  plan = _plan({"input": ["a", "a"], "NAT": ["b", "a"], "random search": ["c", "c"],
                "skip everywhere": ["a", "a"]})
  assert study.trainings(plan) == [(0, "a"), (0, "b"), (0, "c"), (1, "a"), (1, "c")]


def test_a_training_gets_the_runs_data_dir_the_users_bindings_and_the_seed_last():
  protocol = {"gin_files": [], "bindings": ["train_final.seed = 9", "train_final.epochs = 1"],
              "data_dir": "/data"}
  assert study.protocol_bindings(protocol, 3) == [
      "train_final.data_dir = '/data'", "train_final.seed = 9", "train_final.epochs = 1",
      "train_final.seed = 3"]
  assert study.protocol_bindings({**protocol, "data_dir": None}, 3)[0] == "train_final.seed = 9"


def test_the_protocol_defaults_to_mnist5k_for_bundled_runs_only():
  assert study.protocol_files([], "digits") == [study.BUNDLED_PROTOCOL]
  assert os.path.isfile(study.BUNDLED_PROTOCOL)
  assert study.protocol_files(["gin/x.gin"], "cifar10") == [os.path.abspath("gin/x.gin")]
  with pytest.raises(UsageError, match="--gin_file=gin/train_final_cifar10.gin"):
    study.protocol_files([], "cifar10")


def test_a_foreign_folder_or_another_request_is_refused(tmp_path):
  (tmp_path / "notes.txt").write_text("mine")
  with pytest.raises(UsageError, match=r"holds files that are not a study's \(notes.txt\)"):
    study.check_output_dir(str(tmp_path))
  folder = str(tmp_path / "study")
  asked = study.request("run", {"DARTS_V2": DARTS}, [0], [], [], None)
  atomic.write_json(os.path.join(folder, study.PLAN_FILE),
                    {"request": asked, "inputs": [], "architectures": {}, "protocol": {}})
  study.check_output_dir(folder)
  assert study.load_or_make_plan(folder, asked, lambda: pytest.fail("planned again"))["request"] == asked
  other = study.request("run", {"DARTS_V2": DARTS}, [0, 1], [], [], None)
  with pytest.raises(UsageError, match="another request .different seeds.; rerun with the same"):
    study.load_or_make_plan(folder, other, lambda: pytest.fail("planned again"))


def test_bin_study_refuses_a_repeated_input_in_one_line(tmp_path):
  result = run_bin("study", "--run_dir=nowhere", "--genotypes=DARTS_V2,DARTS_V2",
                   f"--output_dir={tmp_path}", "--seeds=0")
  assert result.returncode == 2
  errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
  assert errors == ["error: --genotypes names 'DARTS_V2' twice; give each input once"]
  assert result.stderr.strip().splitlines()[-1] == errors[0]


def _study_command(tiny_run, output, data_dir):
  bindings = TINY_STUDY + [f"train_final.data_dir = '{data_dir}'"]
  return ["--gin_file=gin/train_final_digits.gin", f"--run_dir={tiny_run}",
          "--genotypes=DARTS_V2", "--seeds=0", f"--output_dir={output}",
          *[f"--gin_bindings={binding}" for binding in bindings]]


def _finished_reports(output):
  return {path: os.stat(path).st_mtime_ns
          for path in glob.glob(os.path.join(output, "trainings", "*", "report.json"))}


def _kill_after_first_training(args, output, log_path):
  """Start bin/study; SIGKILL it once a training has finished; the finished reports."""
  with open(log_path, "w", encoding="utf-8") as log:
    process = subprocess.Popen([sys.executable, os.path.join("bin", "study"), *args], cwd=ROOT,
                               stdout=log, stderr=subprocess.STDOUT)
  try:
    deadline = time.time() + 300
    while not _finished_reports(output) and process.poll() is None and time.time() < deadline:
      time.sleep(0.2)
  finally:
    process.send_signal(signal.SIGKILL)
    process.wait()
  return _finished_reports(output)


def test_a_tiny_study_killed_mid_way_resumes_and_writes_table_and_plot(tiny_run, digits_data_dir,
                                                                       tmp_path):
  output = str(tmp_path / "study")
  args = _study_command(tiny_run, output, digits_data_dir)
  finished = _kill_after_first_training(args, output, str(tmp_path / "first.log"))
  assert finished, open(tmp_path / "first.log").read()[-3000:]
  assert not os.path.exists(os.path.join(output, "study.json"))  # killed mid-study

  result = run_bin("study", *args)
  assert result.returncode == 0, result.stderr[-3000:]
  plan = json.load(open(os.path.join(output, study.PLAN_FILE)))
  total = len(study.trainings(plan))
  assert 1 <= len(finished) < total
  assert f"study: {len(finished)} of {total} trainings already finished" in result.stderr
  after = _finished_reports(output)
  assert {path: after[path] for path in finished} == finished  # not trained again
  assert len(after) == total == len(os.listdir(os.path.join(output, "trainings")))

  table = json.load(open(os.path.join(output, "study.json")))
  markdown = open(os.path.join(output, "study.md")).read()
  assert markdown in result.stdout
  assert open(os.path.join(output, "study.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
  (entry,) = table["inputs"]
  rows = {row["method"]: row for row in entry["rows"]}
  assert tuple(rows) == compare.METHODS
  assert table["trainings"] == total == len({key for row in rows.values()
                                             for key in row["architectures"]})
  input_cost = cost.report(DARTS, "digits", channels=8, layers=3)
  assert (rows["input"]["params"]["mean"], rows["input"]["madds"]["mean"]) == (
      input_cost["params"], input_cost["madds"])
  assert rows["input"]["top1_minus_input"]["values"] == [0.0]
  for row in rows.values():
    (key,) = row["architectures"]
    report = json.load(open(os.path.join(study.training_dir(output, key, 0), "report.json")))
    assert row["top1"]["values"] == [report["top1"]]
    assert row["top1_minus_input"]["values"] == [report["top1"] - rows["input"]["top1"]["mean"]]
    assert row["madds"]["mean"] <= rows["input"]["madds"]["mean"]
    assert f"| {row['method']} | {report['top1']:.4f} ± 0.0000 |" in markdown
    if row["method"] != "input":  # one seed gives no interval, so no verdict
      assert row["verdict"] == "inconclusive" and f"| {row['method']} | " in markdown
  assert "one seed: none" in markdown
  assert entry["test_examples"] == 297 and entry["holdout_examples"] == 90


def _results(input_top1, nat_top1, dataset="mnist5k"):
  """study.results of a three-seed plan of one input and NAT, with NAT's architecture
  at half the input's multiply-adds and the given test top-1 per seed."""
  seeds = [0, 1, 2]
  versus = {"examples": 90, "only_input": 0, "only_candidate": 0, "p_value": 1.0}
  step = {"changed_edges": 0, "holdout_accuracy": 0.5, "versus_input": versus}
  methods = [{"method": method, "per_seed": [{**step, "seed": seed, "architecture": key}
                                             for seed in seeds]}
             for method, key in (("input", "a"), ("NAT", "b"))]
  plan = {"request": {"seeds": seeds, "run_dir": "run"},
          "protocol": {"gin_files": ["train_final_mnist5k.gin"], "bindings": []},
          "inputs": [{"name": "ResBlock", "genotype": "", "holdout_examples": 90,
                      "random_rejected": [3, 0, 1], "selection": "", "evaluations_per_seed": 9,
                      "methods": methods}]}
  reports = {(seed, key): {"top1": top1, "dataset": dataset, "test_examples": 1000,
                           "cost": {"params": 1, "madds": madds}}
             for key, madds, values in (("a", 2e6, input_top1), ("b", 1e6, nat_top1))
             for seed, top1 in zip(seeds, values)}
  results = study.results(plan, reports)
  return results["inputs"][0], study.markdown(results)


def test_a_method_gets_its_paired_interval_and_verdict_against_the_fixed_margin():
  entry, markdown = _results([0.980, 0.982, 0.978], [0.979, 0.982, 0.979])
  nat = entry["rows"][1]
  assert not entry["input_broken"] and nat["verdict"] == "non-inferior"
  low, high = nat["top1_minus_input"]["ci95"]
  assert -study.MARGIN < low < 0 < high
  assert f"| NAT | +0.00 [{100 * low:+.2f}, {100 * high:+.2f}] | non-inferior | 0.50 |" in markdown
  assert "left out [3, 0, 1] disconnected draws per seed" in markdown
  entry, _ = _results([0.980, 0.982, 0.978], [0.960, 0.965, 0.962])
  assert entry["rows"][1]["verdict"] == "inferior"


def test_an_input_below_its_datasets_floor_is_reported_broken_not_judged():
  entry, markdown = _results([0.980, 0.787, 0.978], [0.985, 0.970, 0.979])
  assert entry["input_broken"] and entry["rows"][1]["verdict"] == "input broken"
  assert "**Input broken**: it trained to 0.7870 on some seed, below the floor of 0.97" in markdown
  assert "| NAT | +" not in markdown  # no verdict table
  entry, _ = _results([0.5, 0.5, 0.5], [0.6, 0.6, 0.6], dataset="digits")  # no floor for digits
  assert not entry["input_broken"] and entry["rows"][1]["verdict"] == "non-inferior"


def test_an_unknown_extra_rule_is_refused_naming_the_flag():
  with pytest.raises(UsageError, match=r"--rules=not_worse,best: 'best' is not one of"):
    study.request("run", {"DARTS_V2": DARTS}, [0], [], [], None, ["not_worse", "best"])
