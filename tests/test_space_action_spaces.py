"""Transition rules, action masks and applying actions (nat_tf.space.action_spaces)."""

import numpy as np
import pytest

from nat_tf.errors import UsageError
from nat_tf.space import action_spaces
from nat_tf.space import catalogue
from nat_tf.space import cost
from nat_tf.space import macro
from nat_tf.space import ops
from nat_tf.space import rules
from nat_tf.space import sampling

SPACES = [("nat", "fully_concat"), ("nat", "loose_end"), ("natpp", "natpp")]


def _random_valid_actions(rng, masks):
  return np.array([rng.choice(np.flatnonzero(row)) for row in masks])


@pytest.mark.parametrize("kind, op_list", SPACES)
def test_no_valid_action_adds_cost(kind, op_list):
  """2,000 random cells x random valid actions: never more params or madds, at several widths."""
  space = action_spaces.action_space(kind, op_list)
  rng = np.random.default_rng(0)
  skeletons = [macro.cifar(channels, 5, (4, 4)) for channels in (4, 16, 36)]
  changed = 0
  for _ in range(2000):
    genotype = sampling.random_genotype(rng, 4, op_list)
    # Half of the inputs carry null edges too, so null -> skip is exercised.
    if rng.random() < 0.5:
      genotype = genotype.replace(normal=_with_nulls(rng, genotype.normal),
                                  reduce=_with_nulls(rng, genotype.reduce))
    new = space.apply_genotype(
        genotype,
        _random_valid_actions(rng, space.edge_masks(genotype.normal, False)),
        _random_valid_actions(rng, space.edge_masks(genotype.reduce, True)))
    changed += new != genotype
    for skeleton in skeletons:
      before = cost.network_cost(genotype, skeleton, auxiliary=False)
      after = cost.network_cost(new, skeleton, auxiliary=False)
      assert after.params <= before.params and after.madds <= before.madds, (genotype, new)
  assert changed > 1900


def _with_nulls(rng, cell):
  new_ops = [ops.NULL if rng.random() < 0.2 else op for op in cell.ops]
  return cell.with_ops(new_ops)


def test_nat_masks_follow_the_paper_rule_on_stride_one_edges():
  space = action_spaces.action_space("nat", "fully_concat")
  keep, skip, null = (rules.NAT_ACTIONS.index(a) for a in ("keep", "skip", "null"))
  for op_id, op in enumerate(space.op_list):
    valid = space.valid[0, op_id]
    if ops.op_class(op) is ops.OpClass.COMPUTATIONAL:
      assert valid.tolist() == [True, True, True], op
    else:
      assert not valid[keep] and valid[skip] and valid[null], op


def test_stride_two_edges_never_gain_a_factorized_reduce():
  """A pooling or null edge of a reduction cell may not become a (costly) skip."""
  space = action_spaces.action_space("nat", "fully_concat")
  skip = rules.NAT_ACTIONS.index("skip")
  for op in ("max_pool_3x3", "avg_pool_3x3", "null"):
    assert not space.valid[1, space.op_list.index(op), skip]
  for op in ("sep_conv_3x3", "dil_conv_3x3", "conv_3x3", "skip_connect"):
    assert space.valid[1, space.op_list.index(op), skip]


def test_natpp_masks_are_within_the_published_table():
  space = action_spaces.action_space("natpp", "natpp")
  for op_id, op in enumerate(space.op_list):
    allowed = {space.op_list[a] for a in np.flatnonzero(space.valid[0, op_id])}
    assert allowed <= set(rules.NATPP_TRANSITIONS[op])
    assert op in allowed or op == ops.NULL
  conv3 = space.op_list.index("conv_3x3")
  assert {space.op_list[a] for a in np.flatnonzero(space.valid[0, conv3])} == set(
      rules.NATPP_TRANSITIONS["conv_3x3"])


def test_keep_actions_are_identity_and_valid_on_every_edge():
  for kind, op_list in SPACES:
    space = action_spaces.action_space(kind, op_list)
    for op_id, action in enumerate(space.keep_actions):
      assert space.result[op_id, action] == op_id and space.valid[:, op_id, action].all()


def test_invalid_action_raises_naming_the_edge():
  space = action_spaces.action_space("nat", "fully_concat")
  darts = catalogue.get("DARTS")
  actions = np.zeros(8, int)
  actions[5] = rules.NAT_ACTIONS.index("keep")  # edge 5 is a skip: keep is masked
  with pytest.raises(action_spaces.InvalidActionError, match=r"normal cell, edge 5 .*'keep'"):
    space.apply(darts.normal, actions, reduction=False)
  with pytest.raises(action_spaces.InvalidActionError, match="one action per edge"):
    space.apply(darts.normal, actions[:3], reduction=False)


def test_nat_actions_transform_darts_as_named():
  space = action_spaces.action_space("nat", "fully_concat")
  darts = catalogue.get("DARTS")
  keep, skip, null = 0, 1, 2
  actions = [keep, skip, null, keep, keep, null, skip, keep]
  new = space.apply(darts.normal, actions, reduction=False)
  assert new.ops == ("sep_conv_3x3", "skip_connect", "null", "sep_conv_3x3", "sep_conv_3x3",
                     "null", "skip_connect", "dil_conv_3x3")
  assert new.sources == darts.normal.sources and new.concat == darts.normal.concat


def test_unknown_action_space_is_named():
  with pytest.raises(ValueError, match="unknown action space 'natp'.*did you mean"):
    action_spaces.ActionSpace("natp", "natpp")
  with pytest.raises(ValueError, match="unknown op list"):
    action_spaces.ActionSpace("nat", "darts")


def test_op_outside_the_vocabulary_is_rejected():
  space = action_spaces.action_space("nat", "fully_concat")
  naonet = catalogue.get("NAONet")
  with pytest.raises(UsageError, match="not in the fully_concat"):
    space.edge_masks(naonet.normal, False)
