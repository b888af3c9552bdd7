"""The exception types for bad input from a user and for a run stopped by a signal.

A wrong genotype, op, binding, path or dataset, or a learning rate at which training
diverges, is the user's to fix, so the command-line programs print its message as one
line and exit with status 2; any other exception is a bug and keeps its traceback.
"""

import math


class UsageError(ValueError):
  """Bad input: the message names the bad value and how to fix it."""


class NonFiniteError(UsageError):
  """Too many consecutive training steps with a non-finite loss or reward; the user's fix
  is a lower learning rate, so the programs report it in one line like bad input."""


class Interrupted(BaseException):
  """SIGINT or SIGTERM stopped the program; the message says what was saved and how to
  resume. A BaseException, like KeyboardInterrupt, so no `except Exception` swallows it."""

  def __init__(self, signum, message):
    super().__init__(message)
    self.signum = signum


def check_integer(name, value, minimum):
  """`value` if it is an integer >= `minimum`; else a UsageError naming the gin parameter
  `name`. For the bindings whose wrong type or zero would only fail deep inside a run."""
  if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
    raise UsageError(f"{name}={value!r} must be an integer >= {minimum}")
  return value


def check_finite(name, value):
  """`value` if it is a finite number; else a UsageError naming the gin parameter `name`
  (gin reads 1e999 as inf, which makes every reward non-finite)."""
  if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
    raise UsageError(f"{name}={value!r} must be a finite number")
  return value


def check_positive(name, value):
  """`value` if it is a finite number > 0; else a UsageError naming the gin parameter `name`
  (a learning rate <= 0 trains away from the goal, or not at all, without an error)."""
  if check_finite(name, value) <= 0:
    raise UsageError(f"{name}={value!r} must be > 0")
  return value
