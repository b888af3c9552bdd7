"""Hand-crafted CIFAR networks as stacks of block genotypes: real depth and widths,
exact costs, a transformed block rebuilding the whole network, and which network a
genotype builds and is costed on when none is named."""


import numpy as np
import pytest

from nat_tf.analysis import compare
from nat_tf.analysis import derive
from nat_tf.errors import UsageError
from nat_tf.nn import counting
from nat_tf.nn import network
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.space import handcrafted
from nat_tf.space import macro
from nat_tf.space import networks

# Parameters of this mapping (published CIFAR-10 figures: VGG16 ~14.7M, ResNet20 0.27M,
# ResNet56 0.85M, MobileNetV2 ~2.2M; BUILD_NOTES.md explains the differences).
PARAMS = {"vgg16": 16_501_834, "resnet20": 300_826, "resnet56": 884_122,
          "mobilenetv2": 1_453_690}


def _block(name):
  return catalogue.get(handcrafted.layout(name).block)


def _convs_3x3(name):
  """3x3 convolutions of the network: conv_3x3 edges of its blocks plus the stem."""
  genotype = _block(name)
  plan = handcrafted.skeleton(name, genotype)
  cells = [genotype.reduce if slot.reduction else genotype.normal for slot in plan.cells]
  return 1 + sum(cell.ops.count("conv_3x3") for cell in cells)


@pytest.mark.parametrize("name, blocks, convs", [
    ("vgg16", 6, 13), ("resnet20", 9, 19), ("resnet56", 27, 55)])
def test_real_depth(name, blocks, convs):
  assert len(handcrafted.skeleton(name, _block(name)).cells) == blocks
  assert _convs_3x3(name) == convs


def test_mobilenetv2_has_17_blocks_and_a_1280_head():
  plan = handcrafted.skeleton("mobilenetv2", _block("mobilenetv2"))
  assert len(plan.cells) == 17
  assert [slot.channels for slot in plan.cells if slot.reduction] == [32, 64, 160]
  assert plan.classifier_in == 1280


def test_original_blocks_need_no_adaptation_inside_a_stage():
  plan = handcrafted.skeleton("resnet20", _block("resnet20"))
  assert {slot.preprocess for slot in plan.cells} == {
      (macro.UNUSED, macro.IDENTITY), (macro.UNUSED, macro.CONV)}


@pytest.mark.parametrize("name", handcrafted.NAMES)
def test_keras_network_counts_equal_the_cost_model(name):
  model = network.build_network(_block(name), network=name)
  counted = counting.count(model)
  assert counted == cost.network_cost(_block(name), model.skeleton, auxiliary=False)
  assert counted.params == PARAMS[name]


def test_transformed_block_rebuilds_the_whole_network():
  original, transformed = catalogue.get("ResBlock"), catalogue.get("NAT_ResBlock")
  model = network.build_network(transformed, network="resnet20")
  assert all(slot.preprocess[0] != macro.UNUSED for slot in model.skeleton.cells)
  assert [cell.genotype_cell for cell in model.cells] == [transformed.normal] * 9
  counted = counting.count(model)
  assert counted == cost.network_cost(transformed, model.skeleton, auxiliary=False)
  assert counted.params > cost.report(original, network="resnet20")["params"]


def test_a_pruned_block_rebuilds_the_whole_network_at_the_cost_model_s_count():
  """ResBlock with its second conv null: node 4 is dead, and node 3, which only fed it,
  loses its conv too; what is left is the block's skip, at the cost model's exact count."""
  block = catalogue.get("ResBlock")
  cut = block.normal.with_ops(block.normal.ops[:5] + ("null",) + block.normal.ops[6:])
  pruned = block.replace(normal=cut, reduce=cut).pruned()
  assert pruned.normal.ops == ("null", "skip_connect") + ("null",) * 4 + ("skip_connect", "null")
  model = network.build_network(pruned, network="resnet20")
  counted = counting.count(model)
  assert counted == cost.network_cost(pruned, model.skeleton, auxiliary=False)
  assert counted.params < cost.report(block, network="resnet20")["params"]


def test_handcrafted_networks_reject_darts_settings():
  with pytest.raises(UsageError, match="did you mean 'resnet20'"):
    cost.report(_block("resnet20"), network="resnet21")
  with pytest.raises(UsageError, match="fixed widths and depth"):
    cost.report(_block("resnet20"), channels=32, network="resnet20")
  with pytest.raises(UsageError, match="no auxiliary head"):
    cost.report(_block("resnet20"), network="resnet20", auxiliary=True)


@pytest.mark.parametrize("name, expected", [
    ("ResBlock", ("resnet20", "resnet56")), ("NAT_ResBlock", ("resnet20", "resnet56")),
    ("VGG", ("vgg16",)), ("NATv2_VGG", ("vgg16",)), ("MobileNetV2", ("mobilenetv2",)),
    ("DARTS_V2", ()), ("ENAS", ())])
def test_a_block_or_a_transformation_of_it_finds_its_networks(name, expected, tmp_path):
  path = tmp_path / "genotype.json"  # a derived genotype file carries no label
  path.write_text(genotype_format.to_json(catalogue.get(name)))
  genotype = catalogue.load(str(path))
  assert handcrafted.networks_of_block(genotype) == expected
  own = expected[0] if expected else None
  assert handcrafted.own_network(genotype) == own
  assert derive.costed_network(genotype) == (own or networks.DARTS)


def test_a_network_refuses_a_genotype_that_is_not_its_block_naming_the_fix():
  with pytest.raises(UsageError, match=r"network='vgg16' is a stack of VGG blocks, .* choose "
                                       r"'resnet20' or 'resnet56' or 'darts' instead, or leave "
                                       r"it unset"):
    network.build_network(_block("resnet20"), network="vgg16")
  with pytest.raises(UsageError, match="choose 'darts' instead"):
    cost.report(catalogue.get("DARTS_V2"), network="resnet20")


def test_left_unset_a_block_builds_its_network_and_a_darts_cell_the_darts_one(monkeypatch):
  lines = []  # the log line itself, whatever earlier tests made of the logging set-up
  monkeypatch.setattr(network.logging, "info", lambda message, *args: lines.append(message % args))
  model = network.build_network(_block("resnet20"), dataset="digits", channels=8, layers=3,
                                auxiliary=True)  # a DARTS protocol's sizes: not used
  assert model.skeleton == handcrafted.skeleton("resnet20", _block("resnet20"), image_size=8,
                                                in_channels=1)
  assert model.auxiliary_head is None
  assert ("building resnet20" in lines[0]
          and "bind build_network.network = 'resnet56' or 'darts'" in lines[0]), lines
  darts = network.build_network(catalogue.get("DARTS_V2"), dataset="digits", channels=8, layers=3)
  assert darts.skeleton.name == "cifar" and len(darts.skeleton.cells) == 3


def test_reports_name_the_network_their_costs_are_counted_on():
  block = _block("resnet20")
  right = np.ones(4, bool)
  original = derive.Candidate("input", block, 0.5, 1, 1, right)
  derivation = derive.Derivation(original, (), original, "rule", 4)
  assert "cost of the CIFAR resnet20 network;" in derive.format_report(derivation)
  assert derivation.as_dict()["costed_on"] == "resnet20"
  table = {"evaluations_per_seed": 1, "selection": "rule", "holdout_examples": 4, "seeds": [0],
           "costed_on": derive.costed_network(catalogue.get("DARTS_V2")), "rows": [],
           "random_rejected": [0]}
  assert "cost of the CIFAR DARTS network (C=36, L=20);" in compare.markdown(table)
