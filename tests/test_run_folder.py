"""A run folder survives mistakes, damaged checkpoints and concurrent use (issue 16):
config.gin replaced only after a resume restored the run, no half-made folder after a
failed start, the newest intact checkpoint used when the latest is damaged, one
bin/train per folder, SIGINT/SIGTERM saving and saying how to resume."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import gin
import pytest
import tensorflow as tf

from conftest import TINY_RUN
from conftest import kept_checkpoints
from conftest import run_bin
from nat_tf import run_folder
from nat_tf.errors import UsageError
from nat_tf.search import runs
from nat_tf.training import checkpoints

TRAIN = [sys.executable, "bin/train"]


def _bindings(data_dir, *extra):
  return [f"--gin_bindings={b}" for b in TINY_RUN + [f"SearchSetup.data_dir = '{data_dir}'",
                                                      *extra]]


def _error_lines(result):
  return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def _one_error(result, *parts):
  """The one error line of a program that exited 2, checked to hold every part and to be
  the last line it printed."""
  lines = _error_lines(result)
  assert result.returncode == 2 and len(lines) == 1, result.stderr[-3000:]
  assert result.stderr.rstrip().splitlines()[-1] == lines[0], result.stderr[-3000:]
  assert "Traceback" not in result.stderr, result.stderr[-3000:]
  for part in parts:
    assert part in lines[0], lines[0]
  return lines[0]


def test_a_finished_run_is_not_trained_again_and_an_unsaved_one_is_not_finished(run_copy,
                                                                                  tmp_path):
  before = sorted(os.listdir(run_copy / "checkpoints"))
  assert checkpoints.finished(run_copy) and runs.train_unless_finished(str(run_copy)) == 0.0
  assert sorted(os.listdir(run_copy / "checkpoints")) == before
  assert not checkpoints.finished(tmp_path / "never_started")
  status = json.loads((run_copy / "status.json").read_text())
  (run_copy / "status.json").write_text(json.dumps(dict(status, finished=False)))
  assert not checkpoints.finished(run_copy)


def test_a_run_saved_with_a_renamed_parameter_reopens_with_its_value(run_copy):
  config = run_copy / "config.gin"
  saved = config.read_text()
  assert "cost_weight" not in saved  # the tiny run binds no weight: 0.0
  config.write_text(saved + "\nTransformationEnvironment.cost_weight = 0.35\n")
  try:
    search, _ = runs.load(str(run_copy))
    assert search.environment.reward.cost_weight == 0.35
  finally:
    gin.clear_config()


def test_a_resume_with_a_structure_changing_binding_keeps_the_run_usable(
    run_copy, digits_data_dir, tmp_path):
  config = (run_copy / "config.gin").read_text()
  # A fresh interpreter: what TensorFlow logs about the checkpoint's unread values as the
  # process ends must not follow the error line.
  result = subprocess.run(TRAIN + _bindings(digits_data_dir, "Supernet.channels = 16")
                          + [f"--root_dir={run_copy}"], capture_output=True, text=True,
                          check=False)
  _one_error(result, "does not fit what this configuration builds",
             "Bindings that differ from it: Supernet.channels = 16")
  assert (run_copy / "config.gin").read_text() == config
  derived = run_bin("derive", f"--run_dir={run_copy}", "--genotype=DARTS_V2",
                    f"--output_dir={tmp_path / 'derived'}")
  assert derived.returncode == 0, derived.stderr[-3000:]


def test_a_mistyped_binding_on_a_resume_leaves_config_gin_alone(run_copy, digits_data_dir):
  config = (run_copy / "config.gin").read_text()
  result = run_bin("train", *_bindings(digits_data_dir, "SearchSetup.batch_size = 'abc'"),
                   f"--root_dir={run_copy}")
  _one_error(result, "SearchSetup.batch_size='abc' must be an integer")
  assert (run_copy / "config.gin").read_text() == config
  assert os.path.isdir(run_copy / "checkpoints")


def test_a_failed_first_start_in_an_existing_folder_removes_only_what_it_made(tmp_path):
  folder = tmp_path / "mine"
  folder.mkdir()
  (folder / "notes.txt").write_text("the user's")
  with pytest.raises(UsageError, match="SearchSetup.batch_size=0"):
    runs.train(str(folder), bindings=["SearchSetup.batch_size = 0"])
  assert os.listdir(folder) == ["notes.txt"]


def test_the_latest_checkpoint_damaged_readers_fall_back_to_the_newest_intact_one(run_copy):
  kept = kept_checkpoints(run_copy)
  latest, previous = kept[-1], kept[-2]
  data = f"{latest}.data-00000-of-00001"
  os.truncate(data, os.path.getsize(data) // 2)
  try:
    _, path = runs.load(str(run_copy))
    assert path == previous
    with pytest.raises(UsageError, match=rf"{os.path.basename(latest)}\.data-00000-of-00001.*"
                       "does not read back: Read less bytes than requested"):
      runs.load(str(run_copy), checkpoint=os.path.basename(latest))
  finally:
    gin.clear_config()


def test_bin_derive_takes_a_checkpoint_and_names_a_damaged_one(run_copy, tmp_path):
  latest = kept_checkpoints(run_copy)[-1]
  os.remove(f"{latest}.data-00000-of-00001")
  result = run_bin("derive", f"--run_dir={run_copy}", "--genotype=DARTS_V2",
                   f"--checkpoint={os.path.basename(latest)}",
                   f"--output_dir={tmp_path / 'derived'}")
  _one_error(result, f"{os.path.basename(latest)}", "does not read back")
  assert not os.path.exists(tmp_path / "derived")


def test_a_resume_falls_back_from_a_damaged_latest_checkpoint(run_copy, digits_data_dir):
  """The damaged last epoch's checkpoint is skipped; the run resumes from the one before
  and ends where it would have."""
  latest = kept_checkpoints(run_copy)[-1]
  os.truncate(f"{latest}.data-00000-of-00001", 100)
  status = json.loads((run_copy / "status.json").read_text())
  runs.train(str(run_copy), bindings=TINY_RUN + [f"SearchSetup.data_dir = '{digits_data_dir}'"])
  resumed = json.loads((run_copy / "status.json").read_text())
  for key in ("epoch", "weight_steps", "policy_steps", "finished"):
    assert resumed[key] == status[key], key
  assert checkpoints.damage(latest) is None  # saved again, whole


def _wait_for(predicate, timeout=300):
  deadline = time.time() + timeout
  while time.time() < deadline:
    if predicate():
      return True
    time.sleep(0.2)
  return False


def _holder_pid(root_dir):
  try:
    return json.loads((root_dir / run_folder.LOCK_FILE).read_text())["pid"]
  except (FileNotFoundError, ValueError, KeyError):
    return None


@pytest.mark.slow
def test_a_second_bin_train_on_a_folder_in_use_stops_at_once(digits_data_dir, tmp_path):
  root = tmp_path / "run"
  args = _bindings(digits_data_dir) + [f"--root_dir={root}"]
  first = subprocess.Popen(TRAIN + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
  try:
    assert _wait_for(lambda: _holder_pid(root) == first.pid)
    start = time.time()  # the second run forked (run_bin): its time, not TensorFlow's import
    second = run_bin("train", *args)
    _one_error(second, f"is in use by process {first.pid}")
    assert time.time() - start < 30
    _, stderr = first.communicate(timeout=600)
    assert first.returncode == 0, stderr[-3000:]
  finally:
    first.kill()
  status = json.loads((root / "status.json").read_text())
  assert status["finished"] and status["weight_steps"] == 2 * 9


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path):
  dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                        capture_output=True, text=True, check=True)
  folder = tmp_path / "run"
  folder.mkdir()
  (folder / run_folder.LOCK_FILE).write_text(json.dumps({"pid": int(dead.stdout)}))
  with run_folder.opened(str(folder)):
    assert _holder_pid(folder) == os.getpid()


def _interrupted(args, root, signum):
  """Start the program `args` on `root`, send `signum` once its first checkpoint is saved,
  check the one `interrupted:` line of its exit, and return its status.json."""
  process = subprocess.Popen(args + [f"--root_dir={root}"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
  try:
    assert _wait_for(lambda: (root / "status.json").exists())
    time.sleep(1.0)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=300)
  finally:
    process.kill()
  assert process.returncode == 128 + signum, stderr[-3000:]
  assert "Traceback" not in stderr, stderr[-3000:]
  lines = [line for line in stderr.splitlines() if line.startswith("interrupted:")]
  assert len(lines) == 1 and signal.Signals(signum).name in lines[0], stderr[-3000:]
  assert f"in {root}: run the same command again to resume" in lines[0]
  status = json.loads((root / "status.json").read_text())
  assert f"saved as {status['checkpoint']}" in lines[0]
  return status


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_steps_taken_and_says_how_to_resume(signum, digits_data_dir,
                                                                tmp_path):
  # The first epoch's checkpoint (21 steps); the signal lands in the second epoch.
  status = _interrupted(TRAIN + _bindings(digits_data_dir, "train_eval.epochs = 20"),
                        tmp_path / "run", signum)
  assert status["weight_steps"] + status["policy_steps"] > 21 and not status["finished"]


def test_a_signal_stops_train_final_after_saving_its_steps(digits_data_dir, tmp_path):
  # Epochs of 3 steps, a checkpoint every 2 steps and at epoch ends: the signal comes after
  # the first checkpoint, mid-run.
  bindings = ["train_final.epochs = 300", "train_final.steps_per_epoch = 3",
              "build_network.layers = 3", "train_final.checkpoint_every = 2",
              f"train_final.data_dir = '{digits_data_dir}'"]
  args = [sys.executable, "bin/train_final", "--gin_file=gin/train_final_digits.gin",
          "--genotype=DARTS_V2", *[f"--gin_bindings={b}" for b in bindings]]
  status = _interrupted(args, tmp_path / "run", signal.SIGINT)
  assert status["checkpoint"] == f"ckpt-{status['steps']}" and status["steps"] >= 2


# Read-only folders. Root writes into any folder whatever its mode, so as root the probes
# run in a child process without the capabilities that let it (setpriv).

_NO_DAC_OVERRIDE = ["setpriv", "--inh-caps=-dac_override,-dac_read_search",
                    "--bounding-set=-dac_override,-dac_read_search", "--"]


def _child(script, *args):
  """Run `script` in a fresh Python that folder permissions apply to."""
  prefix = []
  if os.geteuid() == 0:
    if not shutil.which("setpriv"):
      pytest.skip("running as root without setpriv: permissions cannot be tested")
    prefix = _NO_DAC_OVERRIDE
  return subprocess.run(prefix + [sys.executable, "-c", script, *args], capture_output=True,
                        text=True, check=False,
                        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


REPLACE_FOLDER = """
import os, sys
from nat_tf import atomic
from nat_tf.errors import UsageError
for attempt in range(2):
  try:
    atomic.check_replaceable(sys.argv[1], ["x"]) if attempt else None
    with atomic.directory(sys.argv[1]) as folder:
      open(os.path.join(folder, "x"), "w").write("new")
  except UsageError as error:
    print("UsageError:", error)
"""


def test_a_read_only_output_folder_is_one_error_and_leaves_nothing_hidden(tmp_path):
  output = str(tmp_path / "out")
  os.mkdir(output)
  with open(os.path.join(output, "x"), "w") as handle:
    handle.write("old")
  os.chmod(output, 0o555)
  result = _child(REPLACE_FOLDER, output)
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.splitlines()
  assert len(lines) == 2 and "cannot be replaced" in lines[0] and "is read-only" in lines[1]
  assert sorted(os.listdir(tmp_path)) == ["out"]
  assert open(os.path.join(output, "x")).read() == "old"


READ_DIGITS = """
import sys
from nat_tf.data import datasets
from nat_tf.errors import UsageError
try:
  datasets.load_encoded("digits", "train", sys.argv[1])
except UsageError as error:
  print("UsageError:", error)
"""


def test_a_read_only_data_dir_without_the_bundled_data_is_one_error(tmp_path):
  data_dir = str(tmp_path / "data")
  os.mkdir(data_dir)
  os.chmod(data_dir, 0o555)
  result = _child(READ_DIGITS, data_dir)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "is read-only and the bundled dataset is not prepared there" in result.stdout
