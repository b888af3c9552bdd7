"""A run folder's gin configuration: saved when a run starts, read back to rebuild it.

Library code that starts, resumes or reopens a run (search runs, train_final runs,
studies) needs these without defining the programs' absl flags, so they live here
rather than in nat_tf.cli, which only bin/ imports.
"""

import os
import re
import tokenize

import gin

from nat_tf import atomic
from nat_tf.errors import UsageError

OPERATIVE_CONFIG = "operative_config.gin"
CONFIG = "config.gin"

# Parameters renamed after runs were saved with them, old name: new name. A run folder's
# config.gin is read with the new names; a gin file or binding that uses an old one fails
# and the error names the new one (`renamed_hint`).
RENAMED = {"TransformationEnvironment.cost_weight": "SearchSetup.cost_weight"}
# Per kind of run folder: the function whose parameters its config.gin always binds, and the
# program that writes it; a folder of another kind is named as what it is.
KINDS = {"search run": ("train_eval", "bin/train"),
         "train_final run": ("train_final", "bin/train_final")}
# What gin raises for a configuration it cannot parse or apply: a bad value, an unknown name,
# a malformed line, an `include` of a file that is not there (OSError).
GIN_ERRORS = (ValueError, SyntaxError, KeyError, TypeError, ImportError, tokenize.TokenError,
              OSError)


def with_current_names(text):
  """Gin config `text` with every binding of a RENAMED parameter under its new name."""
  for old, new in RENAMED.items():
    text = re.sub(rf"^(\s*){re.escape(old)}(\s*=)", rf"\g<1>{new}\g<2>", text, flags=re.M)
  return text


def renamed_hint(message):
  """'; X is now Y' if gin's error `message` is about the old name X of a parameter, else ''."""
  for old, new in RENAMED.items():
    configurable, parameter = old.rsplit(".", 1)
    if f"'{configurable}'" in message and f"'{parameter}'" in message:
      return f"; {old} is now {new}"
  return ""


def add_search_paths(gin_files):
  """Let `include 'darts.gin'` inside a gin file find the file next to it."""
  for path in gin_files:
    gin.add_config_file_search_path(os.path.dirname(os.path.abspath(path)))


def write_config(folder):
  """Save every gin binding of this run (files and --gin_bindings), before it starts, so a
  run can be rebuilt from its folder even if it never finished."""
  atomic.write_text(os.path.join(folder, CONFIG), gin.config_str())


def _binding_lines(text):
  return [line.strip() for line in text.splitlines()
          if line.strip() and not line.lstrip().startswith("#")]


def changed_bindings(folder):
  """The lines of the current gin config that `folder`'s config.gin does not hold: what a
  resume with other bindings changes."""
  path = os.path.join(folder, CONFIG)
  with open(path, encoding="utf-8") as handle:
    saved = set(_binding_lines(with_current_names(handle.read())))
  return [line for line in _binding_lines(gin.config_str()) if line not in saved]


def bound_or_none(parameter):
  """The value gin binds to `parameter` ('configurable.name') in the config parsed now, or
  None where it binds none (the configurable's own default is then None as well)."""
  try:
    return gin.query_parameter(parameter)
  except ValueError:
    return None


def other_settings(folder):
  """What to add to an error of a resume that does not fit the run in `folder`: the
  bindings that differ from its config.gin and what to do."""
  return (f"the run in {folder!r} was built with other settings, its config.gin is left as it "
          f"was. Bindings that differ from it: {'; '.join(changed_bindings(folder)) or '(none)'}; "
          "resume without changing them, or give a new --root_dir")


def read_config(folder, bindings=(), kind="search run", program="bin/train"):
  """Apply the config.gin that `write_config` saved in `folder`, then `bindings` over it
  (e.g. a moved data_dir), to rebuild what the run built; a RENAMED parameter saved under
  its old name is read under its new one."""
  config = os.path.join(folder, CONFIG)
  if not os.path.isfile(config):
    raise UsageError(f"{folder!r} is not a {kind}: {CONFIG} is missing ({program} writes it "
                     "when a run starts)")
  with open(config, encoding="utf-8", errors="replace") as handle:
    saved = with_current_names(handle.read())
  if not _binding_lines(saved):
    raise UsageError(f"{config!r} binds nothing: the {kind}'s configuration is lost, so it "
                     f"cannot be rebuilt ({program} writes it when a run starts)")
  check_kind(folder, kind, program)
  with gin.unlock_config():
    try:
      gin.parse_config_files_and_bindings([], [saved], finalize_config=False)
    except GIN_ERRORS as error:
      raise UsageError(f"{config!r} is damaged, so the {kind} cannot be rebuilt: "
                       f"{' '.join(str(error).split())}") from error
    gin.parse_config_files_and_bindings([], list(bindings))


def check_kind(folder, kind, program):
  """Refuse a folder whose config.gin binds another kind's function and not `kind`'s, naming
  what it is: a train_final run given to bin/derive, a search run given to bin/export
  --train_dir or to bin/train_final (which would write its run.json into it). A folder
  without config.gin passes."""
  path = os.path.join(folder, CONFIG)
  if not os.path.isfile(path):
    return
  with open(path, encoding="utf-8", errors="replace") as handle:
    bound = {line.split(".", 1)[0] for line in _binding_lines(handle.read())}
  if KINDS[kind][0] in bound:
    return
  for other, (function, writer) in KINDS.items():
    if function in bound:
      raise UsageError(f"{folder!r} is a {other} (written by {writer}), not a {kind}; give a "
                       f"folder that {program} wrote")


def write_operative_config(folder):
  """Save the gin parameters this run actually used, next to its outputs."""
  if folder:
    atomic.write_text(os.path.join(folder, OPERATIVE_CONFIG), gin.operative_config_str())
