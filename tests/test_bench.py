"""The bench's side-by-side harness and the GPU check, on the CPU: the reference's figures
are read as bench/steps.py keys its own, a missing set-up is named with its fix, and
bench/gpu_check.sh's dry run prints its one table (CI runs it so the script cannot rot)."""

import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

from conftest import run_program  # pylint: disable=wrong-import-position
import peer  # pylint: disable=wrong-import-position
from nat_tf.space import ops  # pylint: disable=wrong-import-position

FAKE_RUN = """#!/usr/bin/env bash
# Stands in for shared/peer/run.sh: writes the reference harness's JSON for the arguments.
python3 - "$@" <<'PY'
import json, sys
out, batch = sys.argv[1], int(sys.argv[sys.argv.index("--batch") + 1])
cell = [[7, 1, 2], [0, 0, 2], [3, 2, 3], [1, 0, 3], [2, 3, 4], [4, 1, 4], [5, 4, 5], [6, 2, 5]]
names = ["max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
         "dil_conv_3x3", "dil_conv_5x5", "conv_3x3", "null"]
json.dump({"w_step": {"median_s": batch / 64, "warmup_archs_normal_reduce": [[cell, cell]],
                      "archs_normal_reduce": [[cell, [[0, 0, t] for _, _, t in cell]]]},
           "theta_step": {"median_s": 0.5}, "eval": {"grad_train": {"median_s": 0.25}},
           "eval_arch": {"op_names": names}, "peak_rss_mb": 2048}, open(out, "w"))
PY
"""


def _fake_peer(tmp_path):
  scripts, setup = tmp_path / "scripts", tmp_path / "setup"
  scripts.mkdir()
  (setup / "venv" / "bin").mkdir(parents=True)
  (setup / "venv" / "bin" / "python").write_text("")
  (scripts / "run.sh").write_text(FAKE_RUN)
  (scripts / "run.sh").chmod(0o755)
  return str(scripts), str(setup)


def test_the_reference_figures_are_read_under_the_bench_keys(tmp_path):
  scripts, setup = _fake_peer(tmp_path)
  peer.check_ready(scripts, setup)
  figures, _ = peer.measure(scripts, setup, batch_size=256, steps=3)
  assert figures["weight_step_s"] == 4.0 and figures["policy_step_s"] == 0.5
  assert figures["scored_per_s_1"] == 4.0
  assert figures["peak_rss_weights_gb"] == pytest.approx(2048 * 2 ** 20 / 1e9)


def test_the_reference_draws_become_our_architectures_and_a_reversed_cell_is_refused(tmp_path):
  scripts, setup = _fake_peer(tmp_path)
  _, draws = peer.measure(scripts, setup, batch_size=64, steps=1)
  normal = [[7, 0, 3, 1, 2, 4, 5, 6], [1, 0, 2, 0, 3, 1, 4, 2]]  # (op ids, sources)
  assert draws["warmup"] == [[normal, normal]]
  assert draws["timed"] == [[normal, [[0] * 8, [0] * 8]]]
  with pytest.raises(SystemExit, match="not in target order"):
    peer.weight_draws({"eval_arch": {"op_names": list(ops.FULLY_CONCAT)},
                       "w_step": {"warmup_archs_normal_reduce": [],
                                  "archs_normal_reduce": [[[[0, 0, 3], [0, 1, 2]]]]}})


def test_replayed_architectures_need_one_per_timed_step(tmp_path):
  import steps  # pylint: disable=import-outside-toplevel
  path = tmp_path / "draws.json"
  cell = [[0] * 8, [0] * 8]
  path.write_text(json.dumps({"warmup": [[cell, cell]] * 3, "timed": [[cell, cell]] * 2}))
  assert len(steps.replayed_architectures(str(path), 2)) == steps.WARMUP + 2
  with pytest.raises(SystemExit, match="--steps=3 needs 3 timed"):
    steps.replayed_architectures(str(path), 3)


def test_a_reference_not_set_up_is_named_with_its_fix(tmp_path):
  scripts, _ = _fake_peer(tmp_path)
  done = run_program("bench/run_all.py", "--peer", f"--peer_scripts={scripts}",
                     f"--peer_setup={tmp_path / 'none'}")
  assert done.returncode == 1
  assert "not set up in" in done.stderr and "setup.sh" in done.stderr, done.stderr


@pytest.mark.skipif(bool(tf.config.list_physical_devices("GPU")), reason="a GPU is visible")
def test_gpu_check_without_a_gpu_says_what_to_install():
  done = subprocess.run([os.path.join(REPO, "bench", "gpu_check.sh")], capture_output=True,
                        text=True, check=False, env={**os.environ, "PYTHON": sys.executable})
  assert done.returncode == 1 and "tensorflow[and-cuda]" in done.stderr, done.stderr


@pytest.mark.slow
def test_gpu_check_dry_run_prints_one_table_of_the_three_variants():
  done = subprocess.run([os.path.join(REPO, "bench", "gpu_check.sh"), "--dry_run"],
                        capture_output=True, text=True, check=False, timeout=900,
                        env={**os.environ, "PYTHON": sys.executable})
  assert done.returncode == 0, done.stderr[-3000:]
  lines = done.stdout.splitlines()
  assert "| metric | float32 | bfloat16 mixed | float32 XLA |" in lines
  step_row = next(line for line in lines if line.startswith("| weight step (s, median)"))
  assert all(float(cell) > 0 for cell in step_row.strip("|").split("|")[1:]), step_row
  assert any(line.startswith("device: no GPU; CPU ") for line in lines)


def test_the_train_final_step_bench_times_the_protocol_it_is_given():
  done = run_program("bench/train_final_step.py", "--gin_file=gin/train_final_digits.gin",
                     "--gin_bindings=train_final.batch_size = 16", "--steps=1")
  assert done.returncode == 0, done.stderr[-3000:]
  figures = json.loads(done.stdout.splitlines()[-1])
  assert (figures["batch_size"], figures["dataset"]) == (16, "digits")
  assert figures["train_step_s"] > 0 and figures["images_per_s"] == pytest.approx(
      16 / figures["train_step_s"])


def test_the_train_final_step_bench_names_an_unknown_genotype():
  done = run_program("bench/train_final_step.py", "--genotype=DARTS_V9")
  assert done.returncode == 1
  assert done.stderr.strip().splitlines()[-1].startswith("error: 'DARTS_V9' is neither"), \
      done.stderr[-2000:]
