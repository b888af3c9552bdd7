"""quiet: --verbosity read from the command line before absl parses it."""

import pytest

from nat_tf import quiet


@pytest.mark.parametrize("argv, expected", [
    (["bin/train"], 0),
    (["bin/train", "--verbosity=1"], 1),
    (["bin/train", "-v", "1", "--root_dir=x"], 1),
    (["bin/train", "--v=-1"], -1),
    (["bin/train", "--verbosity", "2"], 2),
    (["bin/train", "--verbosity=loud"], 0),
    (["bin/train", "--", "--verbosity=1"], 0),
    (["bin/train", "--gin_bindings=x.verbosity = 1"], 0),
])
def test_verbosity_is_read_as_absl_reads_it(argv, expected):
  assert quiet.verbosity(argv) == expected
