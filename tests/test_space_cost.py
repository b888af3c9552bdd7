"""Analytic cost model and bin/cost (nat_tf.space.cost)."""

import json
import subprocess
import sys

import pytest

from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.space import macro


def test_darts_v2_cifar_matches_the_published_convention():
  genotype = catalogue.get("DARTS_V2")
  result = cost.network_cost(genotype, macro.skeleton(genotype, "cifar10", 36, 20))
  assert (result.params, result.madds) == (3349342, 528359040)
  assert result.params_auxiliary > 0


def test_darts_v2_imagenet_matches_the_published_convention():
  genotype = catalogue.get("DARTS_V2")
  result = cost.network_cost(genotype, macro.skeleton(genotype, "imagenet", 48, 14))
  assert (result.params, result.madds) == (4718752, 529911552)


def test_strided_conv_counts_output_positions():
  """The reference's first code divided by the stride once; output H*W is right."""
  assert cost.conv(4, 8, 3, 2, 32, bn=False).madds == 4 * 8 * 9 * 16 * 16
  assert cost.conv(4, 8, 3, 1, 32, bn=False).madds == 4 * 8 * 9 * 32 * 32


def test_op_costs_follow_the_natpp_chart_order():
  """NAT++'s op-cost chart (C=128, 32x32): conv5 > conv3 > sep5 > sep3 > dil5 > dil3 > conv1."""
  order = ["conv_5x5", "conv_3x3", "sep_conv_5x5", "sep_conv_3x3", "dil_conv_5x5",
           "dil_conv_3x3", "conv_1x1"]
  madds = [cost.op_cost(op, 128, 1, 32).madds for op in order]
  assert madds == sorted(madds, reverse=True)
  assert round(madds[0] / 1e6, 1) == 419.4 and round(madds[1] / 1e6, 1) == 151.0


def test_auxiliary_head_too_small_is_a_clear_error():
  genotype = catalogue.get("DARTS")
  with pytest.raises(ValueError, match="auxiliary head needs feature maps"):
    cost.network_cost(genotype, macro.skeleton(genotype, "digits", 8, 5))


def _run_cost(*args):
  return subprocess.run([sys.executable, "bin/cost", *args], capture_output=True, text=True,
                        check=False)


def test_bin_cost_prints_one_json_object(tmp_path):
  result = _run_cost("--genotype=darts", "--dataset=imagenet", f"--root_dir={tmp_path}")
  assert result.returncode == 0, result.stderr
  report = json.loads(result.stdout)
  assert report["params"] == 4718752 and report["madds"] == 529911552
  assert report["params_auxiliary"] == 0
  assert (tmp_path / "operative_config.gin").exists()
  with_aux = json.loads(_run_cost("--genotype=DARTS_V2", "--auxiliary").stdout)
  assert with_aux["params"] == 3349342 and with_aux["params_auxiliary"] > 0


def test_bin_cost_reads_a_genotype_file(tmp_path):
  path = tmp_path / "g.json"
  path.write_text(genotype_format.to_json(catalogue.get("DARTS_V2")))
  assert json.loads(_run_cost(f"--genotype={path}").stdout)["params"] == 3349342


@pytest.mark.parametrize("args, message", [
    (["--genotype=dartz"], "did you mean 'DARTS_V2'"),
    (["--gin_bindings=nosuch.param = 1"], "No configurable matching 'nosuch'"),
    (["--gin_bindings=this is not gin"], "bad gin configuration"),
    (["--gin_file=missing.gin"], "gin file 'missing.gin' does not exist"),
    (["--channels=7"], "channels=7"),
])
def test_bad_input_exits_2_with_one_line(args, message):
  result = _run_cost(*args)
  assert result.returncode == 2
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
