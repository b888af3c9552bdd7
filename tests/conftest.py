"""Shared pytest setup: quiet TensorFlow logs and session-wide prepared data.

The environment is set before anything imports TensorFlow, so its C++ start-up
chatter and TFDS progress bars stay out of test output.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def digits_data_dir(tmp_path_factory):
  """A TFDS data dir holding the bundled `digits` dataset, prepared once per test session.

  Pass it as `data_dir=` to nat_tf.data functions (or tfds.load); treat it as read-only.
  TensorFlow is imported here, not at the top, so sessions that never use it
  (nat_tf.space tests) do not pay for importing it.
  """
  import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
  from nat_tf.data import digits  # pylint: disable=import-outside-toplevel
  tfds.disable_progress_bar()
  data_dir = str(tmp_path_factory.mktemp("tfds_data"))
  digits.prepare(data_dir)
  return data_dir
