"""The one exception type for bad input from a user.

A wrong genotype, op, binding, path or dataset is the user's to fix, so the
command-line programs print its message as one line and exit with status 2; any
other exception is a bug and keeps its traceback.
"""


class UsageError(ValueError):
  """Bad input: the message names the bad value and how to fix it."""
