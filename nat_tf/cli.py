"""Shared plumbing of the bin/ programs: flags -> gin -> call, with one-line errors.

Every program takes `--gin_file` (repeatable), `--gin_bindings` (repeatable) and
`--root_dir`. A mistyped flag or a bad flag value, a bad gin file or binding, or bad
input raised as UsageError, ends the program with status 2 and one line on stderr
naming the problem; so does a TypeError raised inside a gin configurable (a binding of
the wrong type). SIGINT and SIGTERM end it with one line saying what was saved (status
128 + the signal). Anything else is a bug and keeps its traceback.
"""

import json
import logging
import os
import sys

from absl import app
from absl import flags
import gin

from nat_tf import interrupts
from nat_tf import run_config
from nat_tf import run_folder
from nat_tf.errors import Interrupted
from nat_tf.errors import UsageError

FLAGS = flags.FLAGS
flags.DEFINE_multi_string("gin_file", [], "Gin files to load, in order (repeatable).")
flags.DEFINE_multi_string("gin_bindings", [],
                          "Gin bindings applied after the files, e.g. "
                          "\"train_eval.epochs = 10\" (repeatable).")
flags.DEFINE_string("root_dir", None, "Folder for this run's outputs.")

_GIN_CALL_NOTE = "\n  In call to configurable"


def fail(message):
  """Print one error line and exit with status 2; nothing is logged after it. (TensorFlow
  logs warnings about objects deleted as the process ends: after a checkpoint that did not
  fit, one line per value it did not restore, which the error line has already named.)"""
  print(f"error: {message}", file=sys.stderr)
  logging.getLogger("tensorflow").setLevel(logging.ERROR)
  sys.exit(2)


def _one_line(error):
  """The message alone: gin appends "In call to configurable ..." lines to errors raised
  inside a configurable, which say nothing to a user."""
  return " ".join(str(error).split(_GIN_CALL_NOTE)[0].split())


def parse_gin():
  """Load --gin_file and --gin_bindings; a bad one exits with status 2."""
  for path in FLAGS.gin_file:
    if not os.path.isfile(path):
      fail(f"gin file {path!r} does not exist (--gin_file)")
  run_config.add_search_paths(FLAGS.gin_file)
  try:
    gin.parse_config_files_and_bindings(FLAGS.gin_file, FLAGS.gin_bindings)
  except run_config.GIN_ERRORS as error:
    fail(f"bad gin configuration: {_one_line(error)}{run_config.renamed_hint(str(error))}")


def required(name):
  """The value of flag --`name`; exits with status 2, naming the flag, if it is missing."""
  value = FLAGS[name].value
  if not value:
    fail(f"--{name} is required: {FLAGS[name].help}")
  return value


def define_checkpoint_flag():
  """--checkpoint, for every program that reads a run: which kept checkpoint to use."""
  flags.DEFINE_string("checkpoint", None,
                      "Checkpoint name (e.g. ckpt-500) or path; default: the latest that reads "
                      "back whole.")


def opened_root_dir():
  """bin/train's and bin/train_final's --root_dir, created and locked for this process
  (run_folder.opened: a failed first start leaves nothing behind); a context manager."""
  if not FLAGS.root_dir:
    fail("--root_dir is required: the folder for this run's outputs")
  return run_folder.opened(FLAGS.root_dir, exclusive=is_chief_process())


def is_chief_process():
  """Whether TF_CONFIG makes this process the chief (worker 0) of a multi-worker run, or
  there is no TF_CONFIG; read before TensorFlow starts, for the run folder's lock."""
  try:
    config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = config.get("task", {})
    kind, index = task.get("type"), task.get("index", 0)
  except (ValueError, AttributeError):
    return True  # make_strategy reports a bad TF_CONFIG in one line
  return kind in (None, "chief") or (kind == "worker" and index == 0
                                     and "chief" not in config.get("cluster", {}))


def root_dir(required=True):
  """--root_dir, created; exits with status 2 if it is required and missing."""
  if not FLAGS.root_dir:
    if required:
      fail("--root_dir is required: the folder for this run's outputs")
    return None
  os.makedirs(FLAGS.root_dir, exist_ok=True)
  return FLAGS.root_dir


def _parse_flags(argv):
  """absl's flag parsing, but a mistyped flag or a bad flag value ends the program like any
  other bad input (absl's own parser prints two lines and exits with status 1)."""
  try:
    return FLAGS(argv)
  except flags.Error as error:
    fail(f"{' '.join(str(error).split())} (--helpfull lists every flag)")


def run(main):
  """app.run(main) with gin parsed first and UsageError turned into one line."""

  def guarded(argv):
    interrupts.install()
    try:
      if len(argv) > 1:
        fail(f"unexpected arguments {argv[1:]}; every input is a --flag")
      parse_gin()
      main()
    except UsageError as error:
      fail(_one_line(error))
    except TypeError as error:
      if _GIN_CALL_NOTE not in str(error):
        raise
      fail(f"bad gin configuration: {_one_line(error)} (in {_configurable(error)}; check the "
           "types of its bindings)")
    except Interrupted as stop:
      print(f"interrupted: {stop}", file=sys.stderr)
      sys.exit(128 + stop.signum)

  app.run(guarded, flags_parser=_parse_flags)


def _configurable(error):
  """The configurable gin names in the note it appends to an error raised in one."""
  note = str(error).split(_GIN_CALL_NOTE, 1)[1]
  return note.split("(")[0].strip(" '") or "a configurable"
