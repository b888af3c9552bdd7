"""bin/export: policies from any checkpoint of a search run, the network of a train_final run,
each reloaded in a fresh process before success; a broken export is caught."""

import json
import logging
import os
import shutil

import gin
import numpy as np
import pytest
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

from conftest import run_bin
from nat_tf import export
from nat_tf import reload_check
from nat_tf import tflite
from nat_tf.errors import UsageError
from nat_tf.evaluate import run_exports
from nat_tf.evaluate import train_final
from nat_tf.search import runs
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import graph
from nat_tf.training import checkpoints


def test_bin_export_writes_the_network_of_a_train_final_run(final_run, tmp_path):
  output = str(tmp_path / "network")
  result = run_bin("export", f"--train_dir={final_run}", f"--output_dir={output}",
                   fresh=True)  # bin/export's one whole process
  assert result.returncode == 0, result.stderr[-3000:]
  assert "ckpt-3" in result.stdout and "reloaded and checked in a fresh process" in result.stdout
  assert "has not finished training" not in result.stderr
  images = tf.random.stateless_normal([3, 8, 8, 1], seed=[4, 2])
  exported = export.load_network(output)(images=images)["logits"]
  at_the_end = export.load_network(os.path.join(final_run, "network"))(images=images)["logits"]
  np.testing.assert_allclose(exported, at_the_end, rtol=1e-5, atol=1e-6)


def test_bin_export_tflite_checks_both_models_on_the_test_images_and_times_them(final_run,
                                                                              tmp_path):
  output = str(tmp_path / "tflite")
  result = run_bin("export", f"--train_dir={final_run}", "--tflite", f"--output_dir={output}")
  assert result.returncode == 0, result.stderr[-3000:]
  assert sorted(os.listdir(output)) == sorted([*tflite.VARIANTS.values(), "tflite.json"])
  report = json.loads(open(os.path.join(output, "tflite.json")).read())
  assert (report["dataset"], report["test_examples"]) == ("digits", 297)
  for variant, figures in report["variants"].items():
    assert abs(figures["top1"] - report["network_top1"]) <= reload_check.TFLITE_TOP1_TOLERANCE
    median, low, high = figures["latency_ms"]
    assert 0 < low <= median <= high
    assert f"{variant} " in result.stdout and f"top-1 {figures['top1']:.4f}" in result.stdout
  images = tf.random.stateless_normal([3, 8, 8, 1], seed=[4, 2])
  network = export.load_network(os.path.join(final_run, "network"))(images=images)["logits"]
  np.testing.assert_allclose(tflite.logits(os.path.join(output, "network.tflite"), images.numpy()),
                             network, rtol=1e-4, atol=1e-5)


def test_a_tflite_model_that_scores_otherwise_is_refused_and_nothing_is_written(
    final_run, tmp_path, monkeypatch):
  """The fresh process is faked to serve a model that gets every test image wrong (its top-1
  is 0). Negated logits were not enough: the three-step network predicts nearly one class,
  and the negated one scored within the tolerance of it in one run of ten or so."""
  wrong = []
  checked = reload_check.tflite_checked

  def checked_with_labels(saved, folder, images, labels, keras_top1):
    wrong.append(np.eye(10, dtype=np.float32)[(labels + 1) % 10])
    return checked(saved, folder, images, labels, keras_top1)

  monkeypatch.setattr(reload_check, "tflite_checked", checked_with_labels)
  monkeypatch.setattr(reload_check, "served_in_fresh_process", lambda kind, path, inputs: {
      "logits": wrong[0], "latency_ms": np.ones(3)})
  output = tmp_path / "tflite"
  try:
    with pytest.raises(reload_check.ExportCheckError, match="the float32 TFLite model scores"):
      run_exports.tflite_from_training(final_run, str(output))
  finally:
    gin.clear_config()
  assert not output.exists() and not list(tmp_path.iterdir())


def test_tflite_is_for_a_trained_network_only(tiny_run, tmp_path):
  result = run_bin("export", f"--run_dir={tiny_run}", "--tflite", f"--output_dir={tmp_path}/x")
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1] == (
      "error: --tflite exports a trained network: give --train_dir (a bin/train_final run)")


def test_exporting_a_training_that_has_not_finished_warns(final_run, tmp_path, monkeypatch,
                                                          caplog):
  unfinished = tmp_path / "unfinished"
  shutil.copytree(final_run, unfinished)
  (unfinished / train_final.REPORT_FILE).unlink()  # as before its last step
  monkeypatch.setattr(run_exports.reload_check, "export_network_checked", lambda *args: None)
  try:
    with caplog.at_level(logging.WARNING):
      path = run_exports.network_from_training(str(unfinished), str(tmp_path / "network"))
  finally:
    gin.clear_config()
  assert (f"--train_dir={unfinished} has not finished training: exporting {path} as it stands"
          in caplog.text)


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
  greedy, _ = export.load_policies(output, search.editor)
  arrays = graph.genotype_graph(catalogue.get("DARTS_V2"), search.action_space)
  observation = {key: tf.constant(arrays[key][None]) for key in search.editor.observe.spec}
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


# The README's lines for loading an exported policy, verbatim (keep them equal).
README_POLICY_LOADING = """\
import tensorflow_probability as tfp
import tensorflow as tf
tfp.distributions.Distribution  # loads tfp's distributions (lazy): the policies name their types
policy = tf.saved_model.load(POLICY_DIR)
"""

ACT_ON_DARTS = """
from tf_agents.trajectories import time_step as ts
from nat_tf.space import action_spaces, catalogue, graph
arrays = graph.genotype_graph(catalogue.get("DARTS"), action_spaces.action_space("nat", "fully_concat"))
observation = {k: tf.constant(arrays[k][None]) for k in ("op_ids", "sources", "adjacency", "mask")}
print("action", policy.action(ts.restart(observation, 1)).action.numpy().shape)
"""


def test_the_exported_policy_loads_with_the_readme_lines_in_a_fresh_process(tiny_run):
  """Loaded before anything imports TF-Agents (which would register the types itself)."""
  import subprocess  # pylint: disable=import-outside-toplevel
  import sys  # pylint: disable=import-outside-toplevel
  folder = os.path.join(tiny_run, "policy", "greedy")
  readme = open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                             "README.md")).read()
  assert "\n".join("    " + line for line in README_POLICY_LOADING.splitlines()) in readme
  script = README_POLICY_LOADING.replace("POLICY_DIR", repr(folder)) + ACT_ON_DARTS
  result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  assert "action (1, 2, 8)" in result.stdout


def test_bin_export_replaces_its_own_earlier_export(tiny_run, tiny_search, tmp_path):
  from nat_tf.evaluate import run_exports  # pylint: disable=import-outside-toplevel
  output = str(tmp_path / "policy")
  export.export_policy(tiny_search.agent, tiny_search.editor, output)
  try:
    run_exports.policy_from_run(tiny_run, output)
  finally:
    gin.clear_config()
  assert sorted(os.listdir(output)) == ["greedy", "sampling", "space.json"]


def test_a_policy_fed_an_all_false_mask_refuses_to_act(tiny_run):
  policy = export.load_saved_policy(os.path.join(tiny_run, "policy", "greedy"))
  arrays = graph.genotype_graph(catalogue.get("DARTS_V2"),
                                action_spaces.action_space("nat", "fully_concat"))
  observation = {key: tf.constant(arrays[key][None]) for key in
                 ("op_ids", "sources", "adjacency", "mask")}
  observation["mask"] = tf.zeros_like(observation["mask"])
  with pytest.raises(tf.errors.InvalidArgumentError, match="allows no action on some edge"):
    policy.action(ts.restart(observation, 1))
