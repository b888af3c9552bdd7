"""A run folder's gin configuration: saved when a run starts, read back to rebuild it.

Library code that starts, resumes or reopens a run (search runs, train_final runs,
studies) needs these without defining the programs' absl flags, so they live here
rather than in nat_tf.cli, which only bin/ imports.
"""

import os

import gin

from nat_tf import atomic
from nat_tf.errors import UsageError

OPERATIVE_CONFIG = "operative_config.gin"
CONFIG = "config.gin"


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
    saved = set(_binding_lines(handle.read()))
  return [line for line in _binding_lines(gin.config_str()) if line not in saved]


def read_config(folder, bindings=(), kind="search run", program="bin/train"):
  """Apply the config.gin that `write_config` saved in `folder`, then `bindings` over it
  (e.g. a moved data_dir), to rebuild what the run built."""
  config = os.path.join(folder, CONFIG)
  if not os.path.isfile(config):
    raise UsageError(f"{folder!r} is not a {kind}: {CONFIG} is missing ({program} writes it "
                     "when a run starts)")
  with gin.unlock_config():
    gin.parse_config_files_and_bindings([config], list(bindings))


def write_operative_config(folder):
  """Save the gin parameters this run actually used, next to its outputs."""
  if folder:
    atomic.write_text(os.path.join(folder, OPERATIVE_CONFIG), gin.operative_config_str())
