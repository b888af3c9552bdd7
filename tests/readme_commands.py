"""The README's commands as data, for tests/test_readme_commands.py.

A command is every `.venv/bin/...` invocation the README prints: the lines of its
indented code blocks (a trailing backslash continues a line; `&&` separates commands;
leading NAME=value words are environment) and its inline code spans. Words in square
brackets are optional flags. `unprefixed` finds code that starts a bin/ or bench/
program with no interpreter. Run as a script, this module reads commands (JSON lists of
words) on stdin and prints, per command, what its program says of its flags: one
process, so TensorFlow and gin's configurables load once for every program.
"""

import contextlib
import dataclasses
import io
import json
import os
import re
import runpy
import shlex
import sys
from typing import Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
PREFIX = ".venv/bin/"
PYTHON = PREFIX + "python"
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_INLINE = re.compile(r"`([^`]+)`")


@dataclasses.dataclass(frozen=True)
class Command:
  """One printed command: `words` from `.venv/bin/...` on, optional ones in brackets."""
  text: str
  env: Tuple[str, ...]
  words: Tuple[str, ...]
  indented: bool

  @property
  def program(self):
    """What runs: a script path (bin/derive), 'pytest' (-m pytest), or a console script."""
    if self.words[0] != PYTHON:
      return self.words[0][len(PREFIX):]
    return "pytest" if self.words[1:3] == ("-m", "pytest") else self.words[1]

  @property
  def arguments(self):
    """The words after the program, brackets removed (optional flags included)."""
    start = 1 if self.words[0] != PYTHON else 3 if self.program == "pytest" else 2
    return tuple(word.strip("[]") for word in self.words[start:])

  @property
  def required(self):
    """The words as a user types the command at its shortest: optional flags left out."""
    return tuple(word for word in self.words if not word.startswith("["))

  def flag(self, name):
    """The value of --`name` in the command, or None."""
    return flag_value(self.arguments, name)


def flag_value(words, name):
  """The value of --`name` among `words`, or None."""
  return next((word.split("=", 1)[1] for word in words if word.startswith(f"--{name}=")), None)


def _code_lines(text):
  """(line, indented) of every indented code line, continuations joined, and of every
  other line."""
  lines, previous_blank, in_code, pending = [], True, False, ""
  for line in text.splitlines():
    indented = line.startswith("    ") and (previous_blank or in_code)
    in_code = indented or (in_code and not line.strip())
    previous_blank = not line.strip()
    if indented and line.rstrip().endswith("\\"):
      pending += line.rstrip()[:-1].strip() + " "
      continue
    lines.append((pending + line.strip(), indented))
    pending = ""
  return lines


def _parts(text):
  """(env, words, text, indented) of each `&&`-separated part of every code line and inline
  code span that names a script folder (bin/, bench/, .venv/bin/)."""
  for line, indented in _code_lines(text):
    for piece in [line] if indented else _INLINE.findall(line):
      for part in piece.split("&&"):
        if "bin/" not in part and "bench/" not in part:
          continue  # prose and Python code: not shell words
        words = shlex.split(part)
        env = tuple(word for word in words if _ASSIGNMENT.match(word))
        yield env, tuple(words[len(env):]), part.strip(), indented


def _readme(text):
  if text is not None:
    return text
  with open(README, encoding="utf-8") as handle:
    return handle.read()


def commands(text=None):
  """Every command of the README (or of `text`), in order."""
  return [Command(part, env, words, indented) for env, words, part, indented
          in _parts(_readme(text)) if len(words) > 1 and words[0].startswith(PREFIX)]


def unprefixed(text=None):
  """The code of the README (or of `text`) that starts a bin/ or bench/ Python program
  without an interpreter: run as printed, its shebang finds whatever python3 comes first
  (a shell script, `.sh`, picks its interpreter itself)."""
  return [part for _, words, part, _ in _parts(_readme(text))
          if words and words[0].startswith(("bin/", "bench/")) and not words[0].endswith(".sh")]


def _absl_errors(path, arguments):
  """What absl and bin/'s gin parsing say of `arguments` to the absl program at `path`
  ('' if they parse); the program's flags are defined, then removed again."""
  from absl import flags  # pylint: disable=import-outside-toplevel
  import gin  # pylint: disable=import-outside-toplevel
  from nat_tf import cli  # pylint: disable=import-outside-toplevel
  before = set(flags.FLAGS)
  runpy.run_path(path, run_name="readme_check")
  stderr = io.StringIO()
  try:
    flags.FLAGS([path, *arguments])
    with contextlib.redirect_stderr(stderr):
      cli.parse_gin()
  except flags.Error as error:
    return f"flags: {error}"
  except SystemExit:
    return stderr.getvalue().strip()
  finally:
    gin.clear_config()
    flags.FLAGS.unparse_flags()
    for name in set(flags.FLAGS) - before:
      delattr(flags.FLAGS, name)
  return ""


def _argparse_errors(path, arguments):
  """The flags of `arguments` that the argparse program at `path` does not list in --help."""
  stdout = io.StringIO()
  sys.argv = [path, "--help"]
  with contextlib.redirect_stdout(stdout), contextlib.suppress(SystemExit):
    runpy.run_path(path, run_name="__main__")
  named = [word.split("=")[0] for word in arguments if word.startswith("--")]
  unknown = [name for name in named if name not in stdout.getvalue()]
  return f"not in its --help: {unknown}" if unknown else ""


def flag_errors(words):
  """'' if the program `words[0]` takes the arguments `words[1:]`, else what is wrong."""
  path, arguments = os.path.join(ROOT, words[0]), words[1:]
  with open(path, encoding="utf-8") as handle:
    source = handle.read()
  sys.path.insert(0, os.path.dirname(path))  # as for a script: its folder first
  try:
    if "argparse" in source:
      return _argparse_errors(path, arguments)
    return _absl_errors(path, arguments)
  finally:
    sys.path.pop(0)


if __name__ == "__main__":
  os.chdir(ROOT)
  print(json.dumps([flag_errors(words) for words in json.load(sys.stdin)]))
