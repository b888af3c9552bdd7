"""Importing nat_tf turns on TensorFlow's oneDNN CPU kernels before TensorFlow loads,
unless the environment already chose (nat_tf/__init__.py says why)."""

import os
import subprocess
import sys

import pytest

PROBE = ("import nat_tf, os\n"
         "from tensorflow.python.util import _pywrap_util_port as port\n"
         "print(os.environ['TF_ENABLE_ONEDNN_OPTS'], port.IsMklEnabled())")


@pytest.mark.parametrize("setting, expected", [(None, ["1", "True"]), ("0", ["0", "False"])])
def test_onednn_kernels_unless_the_environment_chose(setting, expected):
  env = {key: value for key, value in os.environ.items() if key != "TF_ENABLE_ONEDNN_OPTS"}
  if setting is not None:
    env["TF_ENABLE_ONEDNN_OPTS"] = setting
  probe = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                         text=True, check=True)
  assert probe.stdout.split()[-2:] == expected
