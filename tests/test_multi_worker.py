"""Two bin/train worker processes under MultiWorkerMirroredStrategy on the loopback interface.

Each worker has one CPU device; TF_CONFIG names the cluster and the worker. The run
trains one epoch (weight steps), stops, and a second pair of processes resumes it for
a second epoch (weight and policy steps). After each, the chief's checkpoint and the other
worker's must hold the same values: the supernet is mirrored (summed gradients), and
the policy, which every worker runs as an identical copy fed identical rewards and
seeded the same, must not drift either.
"""

import glob
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import TINY_RUN

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  for s in sockets:
    s.bind(("127.0.0.1", 0))
  ports = [s.getsockname()[1] for s in sockets]
  for s in sockets:
    s.close()
  return ports


def _train_on_two_workers(root_dir, data_dir, epochs):
  """bin/train in two worker processes at once; their outputs if both succeed.

  The first epoch trains the weights only (a warm-up epoch), which spares tracing the
  policy step in the first pair of processes."""
  workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
  bindings = TINY_RUN + [f"SearchSetup.data_dir = '{data_dir}'", f"train_eval.epochs = {epochs}",
                         "train_eval.warmup_epochs = 1", "make_strategy.name = 'multi_worker'"]
  processes = []
  for index in range(2):
    config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
    # One thread each: two workers share the test machine's cores.
    env = dict(os.environ, TF_CONFIG=json.dumps(config), TF_NUM_INTRAOP_THREADS="1",
               TF_NUM_INTEROP_THREADS="1")
    processes.append(subprocess.Popen(
        [sys.executable, "bin/train", f"--root_dir={root_dir}",
         *[f"--gin_bindings={b}" for b in bindings]],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
  outputs = [p.communicate(timeout=300) for p in processes]
  for index, (process, (_, stderr)) in enumerate(zip(processes, outputs)):
    assert process.returncode == 0, f"worker {index} failed:\n{stderr[-3000:]}"
  return outputs


def _latest_values(directory):
  reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(directory))
  return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()
          if not name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH")}


def _assert_workers_agree(root_dir):
  """Chief and worker checkpoints of the same step hold the same supernet, policy,
  optimiser, generator and run-state values."""
  chief = _latest_values(os.path.join(root_dir, "checkpoints"))
  others = glob.glob(os.path.join(root_dir, ".worker_checkpoints_*"))
  latest = max(others, key=os.path.getmtime)
  other = _latest_values(latest)
  assert chief.keys() == other.keys()
  assert any(name.startswith("supernet/") for name in chief)
  assert any(name.startswith("agent/") for name in chief)
  for name, value in chief.items():
    if value.dtype.kind in "fc":
      np.testing.assert_allclose(other[name], value, rtol=1e-5, atol=1e-6, err_msg=name)
    else:
      np.testing.assert_array_equal(other[name], value, err_msg=name)


@pytest.mark.slow
def test_two_workers_train_in_sync_checkpoint_and_resume(digits_data_dir, tmp_path):
  root_dir = str(tmp_path / "run")
  _train_on_two_workers(root_dir, digits_data_dir, epochs=1)
  status = json.load(open(os.path.join(root_dir, "status.json")))
  assert status["weight_steps"] == 9 and status["policy_steps"] == 0 and status["finished"]
  _assert_workers_agree(root_dir)

  (_, chief_log), (_, worker_log) = _train_on_two_workers(root_dir, digits_data_dir, epochs=2)
  assert "resumed from" in chief_log and "resumed from" in worker_log
  status = json.load(open(os.path.join(root_dir, "status.json")))
  assert status["epoch"] == 2 and status["weight_steps"] == 18 and status["policy_steps"] == 12
  _assert_workers_agree(root_dir)
