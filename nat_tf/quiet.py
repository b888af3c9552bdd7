"""Quiet logs for the bin/ programs: the stack's known, harmless noise silenced where it
starts, every other line kept, and absl's own --verbosity (-v) to bring all of it back.

At the default verbosity (0, INFO) and below, left out, and why that is safe:
- TensorFlow's C++ INFO, WARNING and ERROR lines (TF_CPP_MIN_LOG_LEVEL=3, unless the
  environment sets it): the CUDA-driver, oneDNN and CPU-instruction notices of every
  start, TF-TRT's "Could not find TensorRT", the 30-line "Type inference failed" dump
  of TensorFlow's own tf.data graph each time a step function is traced, one "Running
  replicate on split optimization" line per epoch's dataset, and two lines that TF 2.21
  logs as errors on every CPU-only run: "failed call to cuInit" as it lists its devices,
  and "oneDNN supports DT_INT32 only on platforms with AVX-512" as the first policy step
  is optimised. A failure of a C++ op reaches Python as an exception either way, and the
  programs print it as their one error line.
- While TensorFlow and TF-Agents are imported, the known lines they print on every
  machine, matched line by line (anything else the import prints is shown): the CUDA
  plugin registration errors of TF 2.15 ("Unable to register cuDNN factory: ... one has
  already been registered", tensorflow#62075); what TF 2.21's C++ code logs before absl's
  logging is initialised, which TF_CPP_MIN_LOG_LEVEL does not reach (absl's "All log
  messages before absl::InitializeLog()" notice, the oneDNN and CUDA-driver notices); and
  Gym's deprecation banner (gym comes with TF-Agents; nothing here uses it).
- What SavedModel says while it writes a policy or network export (matched by message):
  "Found untraced functions such as ..." (the saved objects' internal functions, which
  a loaded export never calls), TF-Agents' input names ("0/step_type") that it renames,
  the temporary folder it writes assets and a fingerprint to, TF 2.21's "Sharding callback
  duration" line per checkpoint, and the UserWarning that
  loading needs tfp's distributions registered (export.py's loaders import tfp first).
  reload_check loads every export in a fresh process and compares what it serves, so
  a real problem with an export still fails loudly.
- gin's lines for each place it looks for an included file ("system_path_file_exists:",
  "Path not found:"): when none holds it, the one error line names the file and every
  place searched.
--verbosity=1 (debug) shows all of it, TensorFlow's C++ log from INFO, every Python
warning once per place, and the debug lines of this project (a line per checkpoint).

TensorFlow reads its log level once, when it loads, so `start` runs in the programs
before anything imports it, and reads --verbosity from the command line itself. It
also puts absl's log handler in place first (as absl.app would later), so that
TensorFlow's Python logger, which adds a handler of its own when it finds none, does
not print each of its lines a second time.
"""

import contextlib
import logging
import os
import re
import sys
import tempfile
import warnings

from absl import logging as absl_logging

DEBUG = 1  # absl's verbosity of debug logging
_IMPORT_NOISE = re.compile(
    r"Unable to register cu(DNN|FFT|BLAS) factory: Attempting to register factory for plugin "
    r"cu\w+ when one has already been registered"
    r"|^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|\] oneDNN custom operations are on\. |\] Could not find cuda drivers on your machine"
    r"|^Gym has been unmaintained since 2022"
    r"|^Please upgrade to Gymnasium, the maintained drop-in replacement of Gym"
    r"|^See the migration guide at https://gymnasium\.farama\.org/")
_LOG_NOISE = re.compile(  # message templates, as logged
    r"^Found untraced functions such as"
    r"|^Function `%s` contains input name\(s\) %s with unsupported characters"
    r"|^`%s` is not a valid tf\.function parameter name\. Sanitizing to"
    r"|^Assets written to: |^Writing fingerprint to |^Sharding callback duration: "
    r"|^system_path_file_exists:%s$|^Path not found: %s$")
_WARNING_NOISE = r"Encoding a StructuredValue with type tfp\.distributions\."
_quiet = False  # whether `start` asked for quiet logs


def start(argv=None, stack=True):
  """Quiet logs for this program unless --verbosity (in `argv`, default sys.argv) asks for
  debug; with `stack`, TensorFlow and TF-Agents are imported here (`import_stack`), as
  the programs that use them would anyway."""
  global _quiet
  _quiet = verbosity(sys.argv if argv is None else argv) < DEBUG
  absl_logging.use_absl_handler()
  if _quiet:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    absl_logging.get_absl_handler().addFilter(_DropRecords(_LOG_NOISE))
    warnings.filterwarnings("ignore", _WARNING_NOISE, UserWarning)
  elif not sys.warnoptions:
    warnings.simplefilter("default")
  if stack:
    import_stack()


def import_stack():
  """Import TensorFlow and TF-Agents; after `start` asked for quiet logs, without the known
  lines they print while they load."""
  with _dropped_stderr_lines(_IMPORT_NOISE) if _quiet else contextlib.nullcontext():
    import tensorflow  # pylint: disable=import-outside-toplevel,unused-import
    import tf_agents  # pylint: disable=import-outside-toplevel,unused-import


def verbosity(argv):
  """absl's --verbosity / -v as `argv` gives it (0, INFO, if it does not): needed before
  absl parses the flags. A malformed value counts as 0; absl then reports it."""
  value = 0
  for i, arg in enumerate(argv[1:], 1):
    if arg == "--":
      break
    name, has_value, text = arg.lstrip("-").partition("=")
    if arg.startswith("-") and name in ("verbosity", "v"):
      if not has_value:
        text = argv[i + 1] if i + 1 < len(argv) else ""
      try:
        value = int(text)
      except ValueError:
        value = 0
  return value


class _DropRecords(logging.Filter):
  """Drops log records whose message template matches `pattern`."""

  def __init__(self, pattern):
    super().__init__()
    self.pattern = pattern

  def filter(self, record):
    return not self.pattern.search(str(record.msg))


@contextlib.contextmanager
def _dropped_stderr_lines(pattern):
  """Everything written to file descriptor 2 inside the block (by Python or by C++
  libraries, which bypass sys.stderr) is held, then written out without the lines that
  match `pattern`."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as held:
    os.dup2(held.fileno(), 2)
    try:
      yield
    finally:
      sys.stderr.flush()
      os.dup2(saved, 2)
      os.close(saved)
      held.seek(0)
      lines = held.read().decode("utf-8", "replace").splitlines(keepends=True)
      sys.stderr.write("".join(line for line in lines if not pattern.search(line)))
      sys.stderr.flush()
