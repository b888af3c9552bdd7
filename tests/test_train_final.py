"""bin/train_final on digits: report, cost, export, resume; the protocol gin files."""

import json
import os
import re
import shutil

import gin
import numpy as np
import pytest
import tensorflow as tf

from conftest import FINAL_RUN
from conftest import run_bin
from nat_tf import export
from nat_tf import run_config
from nat_tf.data import datasets
from nat_tf.data import pipeline
from nat_tf.data import splits
from nat_tf.errors import NonFiniteError
from nat_tf.errors import UsageError
from nat_tf.evaluate import train_final
from nat_tf.space import catalogue
from nat_tf.space import cost

DARTS = catalogue.get("DARTS_V2")


def test_the_report_holds_test_top1_and_the_counted_cost(final_run, digits_data_dir):
  listing = set(os.listdir(final_run))
  assert {"config.gin", "operative_config.gin", "run.json", "status.json", "checkpoints",
          "report.json", "report.md", "network"} <= listing
  assert any(name.startswith("events.out.tfevents.") for name in listing)  # in the run folder
  report = json.load(open(os.path.join(final_run, "report.json")))
  assert (report["epochs"], report["steps"], report["test_examples"]) == (1, 3, 297)
  assert report["cost"] == cost.report(DARTS, "digits", channels=8, layers=3)
  assert f"| {report['top1']:.4f} | 297 | {report['cost']['params']:,} |" in open(
      os.path.join(final_run, "report.md")).read()

  serve = export.load_network(os.path.join(final_run, "network"))
  test = pipeline.batches(splits.final_evaluation("digits", digits_data_dir),
                          datasets.info("digits"), 100, training=False, drop_remainder=False)
  correct = sum(int(np.sum(np.argmax(serve(images=images)["logits"], -1) == labels))
                for images, labels in test)
  assert correct / 297 == pytest.approx(report["top1"], abs=1e-9)


def test_a_resumed_run_continues_after_its_last_step_and_keeps_its_genotype(final_run, tmp_path,
                                                                            digits_data_dir):
  root_dir = str(tmp_path / "run")
  shutil.copytree(final_run, root_dir)
  gin.parse_config_files_and_bindings(
      ["gin/train_final_digits.gin"],
      FINAL_RUN + [f"train_final.data_dir = '{digits_data_dir}'", "train_final.epochs = 2"])
  try:
    with pytest.raises(UsageError, match="trains another network"):
      train_final.train_final(root_dir, catalogue.get("NAT_DARTS"))
    report = train_final.train_final(root_dir, DARTS)
  finally:
    gin.clear_config()
  assert (report["epochs"], report["steps"]) == (2, 6)
  status = json.load(open(os.path.join(root_dir, "status.json")))
  assert status == {**status, "epoch": 2, "step_in_epoch": 0, "steps": 6, "checkpoint": "ckpt-6"}
  ckpt_3 = tf.train.load_checkpoint(os.path.join(root_dir, "checkpoints", "ckpt-3"))
  ckpt_6 = tf.train.load_checkpoint(os.path.join(root_dir, "checkpoints", "ckpt-6"))
  key = "sgd/learning_rate/.ATTRIBUTES/VARIABLE_VALUE"
  assert ckpt_3.get_tensor(key) == pytest.approx(0.025)  # epoch 0 of 2: the base rate
  assert ckpt_6.get_tensor(key) == pytest.approx(0.013)  # epoch 1 of 2: half way down the cosine


def test_repeated_non_finite_steps_stop_with_the_error_a_search_stops_with(tmp_path,
                                                                           digits_data_dir):
  gin.parse_config_files_and_bindings(
      ["gin/train_final_digits.gin"],
      FINAL_RUN + [f"train_final.data_dir = '{digits_data_dir}'",
                   "train_final.learning_rate = 1e999", "train_final.max_nonfinite = 2"])
  try:
    with pytest.raises(NonFiniteError, match=r"2 consecutive non-finite train steps at epoch 0, "
                       r"step 2: the run stopped; no checkpoint was written yet \(lower the "
                       r"learning rate, e.g. train_final.learning_rate, and start again\)"):
      train_final.train_final(str(tmp_path), DARTS)
  finally:
    gin.clear_config()


@pytest.mark.parametrize("binding, message", [
    ("train_final.checkpoint_every = 0", "train_final.checkpoint_every=0 must be an integer >= 1"),
    ("train_final.log_every = 2.5", "train_final.log_every=2.5 must be an integer >= 1"),
    ("train_final.epochs = -1", "train_final.epochs=-1 must be an integer >= 0"),
    ("train_final.steps_per_epoch = 0", "train_final.steps_per_epoch=0 must be an integer >= 1"),
    ("train_final.batch_size = '96'", "train_final.batch_size='96' must be an integer >= 1"),
])
def test_a_bad_count_or_interval_is_one_error_before_anything_is_written(binding, message,
                                                                         tmp_path):
  gin.parse_config_files_and_bindings(["gin/train_final_digits.gin"], FINAL_RUN + [binding])
  try:
    with pytest.raises(UsageError, match=re.escape(message)):
      train_final.train_final(str(tmp_path), DARTS)
  finally:
    gin.clear_config()
  assert not os.listdir(tmp_path)


@pytest.mark.parametrize("name, values", [
    ("cifar10", {"epochs": 600, "batch_size": 96, "learning_rate": 0.025, "cutout": 16,
                 "weight_decay": 3e-4, "auxiliary_weight": 0.4, "gradient_clip": 5.0,
                 "label_smoothing": 0.0, "learning_rate_min": 0.001}),
    ("imagenet", {"epochs": 250, "batch_size": 128, "learning_rate": 0.1, "cutout": 0,
                  "weight_decay": 3e-5, "label_smoothing": 0.1, "gradient_clip": 5.0}),
])
def test_protocol_gin_files_hold_nat_spec_7(name, values):
  gin.parse_config_file(f"gin/train_final_{name}.gin")
  try:
    for key, value in values.items():
      assert gin.query_parameter(f"train_final.{key}") == value, key
    network = {"cifar10": (36, 20), "imagenet": (48, 14)}[name]
    assert (gin.query_parameter("build_network.channels"),
            gin.query_parameter("build_network.layers")) == network
    assert gin.query_parameter("build_network.drop_path") == 0.2
    assert gin.query_parameter("build_network.auxiliary") is True
  finally:
    gin.clear_config()


# A hand-crafted network keeps its depth: FINAL_RUN's 3 cells size the DARTS network only.
HANDCRAFTED_RUN = [b for b in FINAL_RUN if "layers" not in b]


@pytest.mark.parametrize("gin_file, genotype, data, bindings, skeleton, test_examples", [
    # left unset, a block builds its own network; the protocol's DARTS sizes are not used
    ("gin/train_final_digits.gin", "ResBlock", "digits_data_dir", FINAL_RUN, "resnet20", 297),
    # an explicit binding wins (node 0 read by nulls only on the DARTS network)
    ("gin/train_final_digits.gin", "ResBlock", "digits_data_dir",
     FINAL_RUN + ["build_network.network = 'darts'"], "cifar", 297),
    ("gin/train_final_mnist5k.gin", "DARTS_V2", "mnist5k_data_dir", FINAL_RUN, "cifar", 1000),
    ("gin/train_final_resnet20_mnist5k.gin", "ResBlock", "mnist5k_data_dir", HANDCRAFTED_RUN,
     "resnet20", 1000),
])
def test_a_block_and_the_mnist5k_protocols_train(request, tmp_path, gin_file, genotype, data,
                                                 bindings, skeleton, test_examples):
  data_dir = request.getfixturevalue(data)
  run_config.add_search_paths([gin_file])
  gin.parse_config_files_and_bindings([gin_file],
                                      bindings + [f"train_final.data_dir = '{data_dir}'"])
  try:
    report = train_final.train_final(str(tmp_path), catalogue.get(genotype))
  finally:
    gin.clear_config()
  assert (report["steps"], report["test_examples"]) == (3, test_examples)
  assert report["cost"]["skeleton"] == skeleton
  if skeleton == "resnet20":  # ResNet20's skeleton, whole: its 9 blocks
    dataset = "digits" if "digits" in gin_file else "mnist5k"
    assert report["cost"] == cost.report(catalogue.get(genotype), dataset, network="resnet20")


def test_bin_train_final_refuses_a_block_on_another_network_in_one_line(tmp_path):
  root_dir = tmp_path / "run"
  result = run_bin("train_final", "--gin_file=gin/train_final_vgg16_mnist5k.gin",
                   "--genotype=ResBlock", f"--root_dir={root_dir}")
  assert result.returncode == 2, result.stderr[-3000:]
  assert result.stderr.strip().splitlines()[-1] == (
      "error: network='vgg16' is a stack of VGG blocks, and the genotype is neither VGG nor a "
      "transformation of it (other edges or concat): choose 'resnet20' or 'resnet56' or "
      "'darts' instead, or leave it unset")
  assert not root_dir.exists()


@pytest.mark.parametrize("network", ["vgg16", "resnet20", "mobilenetv2"])
def test_hand_crafted_protocols_build_their_network_on_mnist5k(network):
  run_config.add_search_paths([f"gin/train_final_{network}_mnist5k.gin"])
  gin.parse_config_file(f"gin/train_final_{network}_mnist5k.gin")
  try:
    assert gin.query_parameter("build_network.network") == network
    assert gin.query_parameter("train_final.dataset") == "mnist5k"
    block = {"vgg16": "VGG", "resnet20": "ResBlock", "mobilenetv2": "MobileNetV2"}[network]
    assert cost.report(catalogue.get(block), "mnist5k", network=network)["skeleton"] == network
  finally:
    gin.clear_config()
