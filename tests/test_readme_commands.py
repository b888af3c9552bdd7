"""The README's commands work as printed after its set-up (issue 17).

Every `.venv/bin/...` command of the README (tests/readme_commands.py extracts them from
its indented code blocks and inline code) is checked: its program exists, its flags are
the program's own and parse (absl's parser and bin/'s gin parsing, every gin file it
names included), and it is either run here or skipped with its reason in NOT_RUN.

The runs use the README's words with two substitutions, nothing else:
- `.venv/bin/python` is sys.executable, the interpreter of this suite: CI's .ci/run makes
  .venv with the README's set-up line and runs the suite with .venv/bin/python, which
  test_the_set_up_is_what_ci_runs checks;
- the folders read are session fixtures and output folders are under tmp_path. `RUN` (a
  placeholder) is tiny_run, a run of DARTS-like cells; bin/export's `--train_dir=DIR` is
  final_run, a bin/train_final run; `runs/loose_end`, which the
  README's `bin/train --gin_file=gin/quickstart_loose_end.gin --root_dir=runs/loose_end`
  writes, is quickstart_run("loose_end", seed): that gin file trained in-process as
  bin/train trains it, with two bindings the README's command does not have (the session's
  digits data dir and the seed tests/test_learning.py's loose-end run uses,
  conftest.QUICKSTART_SEEDS), so it is
  slow like the tests that train it; `runs/nb201`, which the README's bin/train on
  gin/nasbench201.gin writes, is nasbench201_run, that command as printed but for the
  table's path. No fixture trains the README's main command
  (gin/quickstart.gin at its default seed): tests/test_learning.py trains that gin file
  at other seeds and fewer epochs.
"""

import json
import os
import subprocess
import sys

import pytest

import readme_commands
from conftest import QUICKSTART_SEEDS
from conftest import run_program
from conftest import trained_group
from nat_tf.analysis import derive
from nat_tf.analysis import ground_truth_derive

COMMANDS = readme_commands.commands()
RUN_HERE = ("bin/derive", "bin/compare", "bin/export", "bin/cost")
NOT_RUN = {
    "pip": "the set-up itself: .ci/run installs requirements.txt with it before the suite",
    "tensorboard": "a server that runs until stopped; its console script is checked to exist",
    "pytest": "the suite itself: .ci/run runs exactly the README's test command",
    "bin/train": "trains for minutes (quickstart) to days (CIFAR-10, several machines); "
                 "tests/test_train.py, test_learning.py and test_multi_worker.py run bin/train "
                 "and the quickstart gin files",
    "bin/train_final": "trains from scratch for minutes (mnist5k) to days (CIFAR-10); "
                       "tests/test_train_final.py runs its protocols for 3 steps",
    "bin/study": "trains every kept architecture from scratch per seed; tests/test_study.py "
                 "runs a tiny study",
    "bench/run_all.py": "a benchmark of about 6 minutes on two cores (40 with --peer); "
                        "tests/test_bench.py checks its --peer set-up and the GPU check",
    "bench/train_final_step.py": "times 20 training steps of the CIFAR-10 network, minutes; "
                                 "tests/test_bench.py runs it on the digits protocol",
    "bench/learning_report.py": "trains a quickstart run per family, variant and seed",
    "bench/precision.py": "scores a trained run twice over its held-out split, a benchmark",
    "bench/study_report.py": "three quickstart runs and their studies, about 100 minutes; "
                             "tests/test_study.py runs a tiny study",
    "bench/supernet_fidelity.py": "trains some twenty architectures from scratch, 20-70 "
                                  "minutes; tests/test_fidelity.py runs it on the tiny run",
    "bench/holdout_stability.py": "derives ten times from a trained quickstart run and "
                                  "reselects thousands of times, a measurement",
    "bench/nasbench201_report.py": "trains three policies on the table and searches every "
                                   "held-out cell, minutes; tests/test_nasbench201_report.py "
                                   "runs its searches on a few cells",
}
# The folders the README's commands read, by (flag, printed value): the fixture standing
# for each, the arguments it is called with (None: not a function), and whether it is slow.
INPUTS = {("run_dir", "RUN"): ("tiny_run", None, False),
          ("train_dir", "DIR"): ("final_run", None, False),
          ("train_dir", "runs/final_mobilenetv2"): ("final_run", None, False),
          ("run_dir", "runs/loose_end"):
              ("quickstart_run", ("loose_end", QUICKSTART_SEEDS["loose_end"]), True),
          ("run_dir", "runs/nb201"): ("nasbench201_run", None, False)}
OUTPUT_FLAGS = ("output_dir", "root_dir")
# The trained fixture behind each folder fixture, whose xdist group its readers join.
TRAINED_BY = {"tiny_run": "tiny_run_process", "nasbench201_run": "nasbench201_run_process"}


def _id(command):
  return f"{command.program} {' '.join(command.arguments)}"[:80]


def _marks(command):
  """Slow where a fixture it reads is; in the xdist group of the fixture it reads."""
  marks = []
  for (flag, value), (fixture, arguments, slow) in INPUTS.items():
    if command.flag(flag) == value:
      marks += [pytest.mark.slow] if slow else []
      marks.append(trained_group(TRAINED_BY.get(fixture, fixture), *(arguments or ())))
  return marks


def _cases():
  return [pytest.param(c, marks=_marks(c), id=_id(c)) for c in COMMANDS]


def test_every_command_is_run_here_or_skipped_with_its_reason():
  assert len(COMMANDS) > 10, "the README's commands were not found"
  unknown = [c.text for c in COMMANDS if c.program not in RUN_HERE and c.program not in NOT_RUN]
  assert not unknown, f"list these in RUN_HERE or NOT_RUN (with the reason): {unknown}"


def test_every_program_is_started_by_the_venvs_interpreter_or_is_its_own_script():
  assert not readme_commands.unprefixed(), "start these with .venv/bin/python"
  for command in COMMANDS:
    if command.words[0] != readme_commands.PYTHON:
      assert os.path.isfile(os.path.join(sys.prefix, "bin", command.program)), command.text


def test_programs_exist_and_take_their_flags_and_gin_files():
  scripts = [c for c in COMMANDS if c.program.startswith(("bin/", "bench/"))]
  for command in scripts:
    assert os.path.isfile(os.path.join(readme_commands.ROOT, command.program)), command.text
  words = [[c.program, *c.arguments] for c in scripts]
  checked = subprocess.run([sys.executable, readme_commands.__file__], input=json.dumps(words),
                           capture_output=True, text=True, check=False, timeout=600)
  assert checked.returncode == 0, checked.stderr[-3000:]
  errors = {c.text: e for c, e in zip(scripts, json.loads(checked.stdout)) if e}
  assert not errors, errors


def test_the_set_up_is_what_ci_runs():
  """.ci/run runs the README's test line verbatim; every set-up line of the README makes
  .venv as that line does."""
  with open(os.path.join(readme_commands.ROOT, ".ci", "run"), encoding="utf-8") as handle:
    ci = handle.read().splitlines()
  with open(readme_commands.README, encoding="utf-8") as handle:
    set_up = [line.strip() for line in handle if line.strip().startswith("python3.11 -m venv")]
  test_line = next(line for line in set_up if " -m pytest " in line)
  assert test_line in ci
  making_venv = test_line.rsplit(" && ", 1)[0] + " && "
  assert len(set_up) == 2 and all(line.startswith(making_venv) for line in set_up), set_up


def test_the_venvs_interpreter_runs_this_suite_in_ci():
  """Run from the repository's .venv (CI), `.venv/bin/python` is this suite's interpreter,
  the one the commands below run on."""
  venv = os.path.join(readme_commands.ROOT, ".venv")
  if os.path.realpath(sys.prefix) != os.path.realpath(venv):
    pytest.skip(f"this suite runs from {sys.prefix}, not the repository's .venv; the prefix "
                "resolves in CI, where .ci/run makes .venv")
  assert os.path.samefile(os.path.join(venv, "bin", "python"), sys.executable)


def _words(command, request, tmp_path):
  """The command's words as run: the shortest form (optional flags left out), the
  interpreter and the folders substituted as the module doc says."""
  words = [sys.executable, *command.required[1:]]
  for index, word in enumerate(words):
    name, _, value = word.partition("=")
    flag = name.lstrip("-")
    if (flag, value) in INPUTS:
      fixture, arguments, _ = INPUTS[flag, value]
      folder = request.getfixturevalue(fixture)
      words[index] = f"{name}={folder(*arguments) if arguments else folder}"
    elif flag in OUTPUT_FLAGS:
      words[index] = f"{name}={tmp_path / value.replace('/', '_')}"
  return words


def _check_outputs(command, words, stdout):
  """What the README says the command gives: derive's files and a network never costlier
  than the input, cost's JSON, the others' files."""
  output = readme_commands.flag_value(words, "output_dir")
  if command.program == "bin/derive" and command.flag("run_dir") == "runs/nb201":
    assert sorted(os.listdir(output)) == sorted(ground_truth_derive.OUTPUT_FILES)
    with open(os.path.join(output, "derivation.json"), encoding="utf-8") as handle:
      derivation = json.load(handle)
    for key in ("params", "madds"):
      assert derivation["kept"][key] <= derivation["input"][key], derivation
    assert derivation["kept"]["accuracy"] >= derivation["input"]["accuracy"], derivation
  elif command.program == "bin/derive":
    assert sorted(os.listdir(output)) == sorted(derive.OUTPUT_FILES)
    with open(os.path.join(output, "cost.json"), encoding="utf-8") as handle:
      for setting in json.load(handle).values():
        for key in ("params", "madds"):
          assert setting["after"][key] <= setting["before"][key], setting
  elif command.program == "bin/cost":
    assert {"params", "madds"} <= set(json.loads(stdout))
  else:
    assert os.listdir(output), f"{command.text} wrote nothing"


@pytest.mark.parametrize("command", _cases())
def test_the_command_runs_as_printed(command, request, tmp_path):
  if command.program in NOT_RUN:
    pytest.skip(NOT_RUN[command.program])
  words = _words(command, request, tmp_path)
  # words[0] is this interpreter: run_program runs the rest, its start-up shared
  env = {**os.environ, **dict(e.split("=", 1) for e in command.env)}
  result = run_program(*words[1:], env=env)
  assert result.returncode == 0, (words, result.stderr[-3000:])
  _check_outputs(command, words, result.stdout)
