"""bin/export: policies from any checkpoint of a search run, the network of a train_final run,
each reloaded in a fresh process before success; a broken export is caught."""

import os

import gin
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from conftest import run_bin
from nat_tf import export
from nat_tf import reload_check
from nat_tf.errors import UsageError
from nat_tf.search import checkpoints
from nat_tf.search import runs
from nat_tf.space import catalogue
from nat_tf.space import graph


def test_bin_export_writes_the_network_of_a_train_final_run(final_run, tmp_path):
  output = str(tmp_path / "network")
  result = run_bin("export", f"--train_dir={final_run}", f"--output_dir={output}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert "ckpt-3" in result.stdout and "reloaded and checked in a fresh process" in result.stdout
  images = tf.random.stateless_normal([3, 8, 8, 1], seed=[4, 2])
  exported = export.load_network(output)(images=images)["logits"]
  at_the_end = export.load_network(os.path.join(final_run, "network"))(images=images)["logits"]
  np.testing.assert_allclose(exported, at_the_end, rtol=1e-5, atol=1e-6)


def test_bin_export_writes_the_policies_of_any_kept_checkpoint(tiny_run, tmp_path):
  manager = tf.train.CheckpointManager(tf.train.Checkpoint(),
                                       os.path.join(tiny_run, "checkpoints"), None)
  oldest = os.path.basename(manager.checkpoints[0])
  assert manager.checkpoints[0] != manager.latest_checkpoint
  output = str(tmp_path / "policy")
  result = run_bin("export", f"--run_dir={tiny_run}", f"--checkpoint={oldest}",
                   f"--output_dir={output}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert oldest in result.stdout

  try:
    search, path = runs.load(tiny_run, checkpoint=oldest)
  finally:
    gin.clear_config()
  assert os.path.basename(path) == oldest
  greedy, _ = export.load_policies(output, search.transformer)
  arrays = graph.genotype_graph(catalogue.get("DARTS_V2"), search.action_space)
  observation = {key: tf.constant(arrays[key][None]) for key in search.transformer.observe.spec}
  time_step = ts.restart(observation, 1)
  np.testing.assert_array_equal(greedy.action(time_step).action,
                                search.agent.policy.action(time_step).action)

  with pytest.raises(UsageError, match=r"no checkpoint 'ckpt-999' .*; kept: ckpt-"):
    checkpoints.find(manager, "ckpt-999")


def test_an_export_that_does_not_load_is_reported(tmp_path):
  broken = tmp_path / "broken"
  broken.mkdir()
  (broken / "saved_model.pb").write_bytes(b"not a SavedModel")
  with pytest.raises(reload_check.ExportCheckError, match="does not load in a fresh process"):
    reload_check.served_in_fresh_process("network", str(broken),
                                         {"images": np.zeros([1, 8, 8, 1], np.float32)})
