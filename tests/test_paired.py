"""Paired tests against the input: exact McNemar, the 'not_worse' rule, per-image scores."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy import stats

from nat_tf.analysis import compare
from nat_tf.analysis import derive
from nat_tf.analysis import paired
from nat_tf.errors import UsageError
from nat_tf.search import holdout
from nat_tf.space import catalogue

DARTS = catalogue.get("DARTS_V2")


@pytest.mark.parametrize("successes, trials", [(0, 1), (0, 10), (3, 10), (5, 10), (9, 10),
                                               (7, 40), (20, 41), (2, 300)])
def test_binomial_p_is_scipys_exact_two_sided_test(successes, trials):
  expected = stats.binomtest(successes, trials, 0.5, alternative="two-sided").pvalue
  assert paired.binomial_two_sided_p(successes, trials) == pytest.approx(expected, rel=1e-9)


def test_mcnemar_counts_the_discordant_images_only():
  input_correct = np.array([1, 1, 1, 0, 0, 1, 0, 1], bool)
  candidate = np.array([1, 0, 0, 1, 0, 1, 0, 0], bool)
  test = paired.mcnemar(input_correct, candidate)
  assert (test.examples, test.only_input, test.only_candidate) == (8, 3, 1)
  assert test.p_value == pytest.approx(0.625)  # 2 * (1 + 4) / 16
  assert test.candidate_is_worse and str(test) == "-3/+1 p=0.62"
  assert paired.mcnemar(input_correct, input_correct).p_value == 1.0
  with pytest.raises(ValueError, match="different images"):
    paired.mcnemar(input_correct, candidate[:4])


def _candidate(source, correct, madds):
  correct = np.asarray(correct, bool)
  return derive.Candidate(source, DARTS, float(correct.mean()), 0, madds, correct)


def _flipped(base, right_to_wrong, wrong_to_right=0):
  """`base` with its first `right_to_wrong` right images wrong and first wrong ones right."""
  result = base.copy()
  result[np.flatnonzero(base)[:right_to_wrong]] = False
  result[np.flatnonzero(~base)[:wrong_to_right]] = True
  return result


def test_not_worse_keeps_the_cheapest_candidate_inside_the_noise():
  base = np.arange(200) % 4 != 0  # 150 of 200 right
  original = _candidate("input", base, 100)
  much_worse = _candidate("much worse", _flipped(base, 12), 10)  # p = 2 / 2^12 = 0.00049
  slightly_worse = _candidate("slightly worse", _flipped(base, 2), 40)  # p = 0.5
  better = _candidate("better", _flipped(base, 0, 3), 40)
  rule = derive.Selection("not_worse")
  assert rule(original, [much_worse, slightly_worse]).source == "slightly worse"
  assert rule(original, [much_worse, slightly_worse, better]).source == "better"  # tie: accuracy
  assert rule(original, [much_worse]).source == "input"
  # 'accuracy' would keep the costlier input over a difference of two images
  assert derive.Selection("accuracy")(original, [slightly_worse]).source == "input"
  assert derive.Selection("not_worse", alpha=1e-4)(original, [much_worse]).source == "much worse"
  assert "McNemar" in str(rule)
  for alpha in (0, 1, 1.5):
    with pytest.raises(UsageError, match="Selection.alpha"):
      derive.Selection("not_worse", alpha=alpha)


def test_per_image_scores_give_the_accuracies_and_the_tests_of_compare(tiny_search):
  scorer = holdout.HoldoutScorer(tiny_search, batch_size=32)  # 90 images: a smaller last batch
  others = [DARTS, catalogue.get("NAT_DARTS"), DARTS]
  correct = scorer.correct(others)
  assert correct.dtype == bool and correct.shape == (3, scorer.examples)
  assert np.array_equal(correct[0], correct[2])
  assert scorer(others) == pytest.approx(correct.mean(axis=1), abs=0)
  assert np.array_equal(scorer.correct(others[1:]), correct[1:])  # one call or another
  original, transformed = derive.scored(scorer, [("input", DARTS), ("nat", others[1])])
  test = derive.versus_input(original, transformed)
  assert test.examples == scorer.examples
  assert test.only_candidate - test.only_input == round(
      (transformed.accuracy - original.accuracy) * scorer.examples)

  table = compare.compare(tiny_search, DARTS, derive.run_policies(tiny_search), [0])
  rows = {row["method"]: row for row in table["rows"]}
  assert rows["input"]["versus_input"] == [
      {"examples": scorer.examples, "only_input": 0, "only_candidate": 0, "p_value": 1.0}]
  for row in table["rows"]:
    (test,) = row["versus_input"]
    net = test["only_candidate"] - test["only_input"]
    assert net == round((row["accuracy"]["mean"] - rows["input"]["accuracy"]["mean"])
                        * scorer.examples)
  assert compare.paired_cell(rows["input"]["versus_input"]) == "-0/+0 p=1"
  assert "versus input" in compare.markdown(table)


def test_parse_seeds_names_the_flag():
  assert compare.parse_seeds(["3", "1"]) == [3, 1]
  with pytest.raises(UsageError, match="--seeds=1,x: give integers"):
    compare.parse_seeds(["1", "x"])
  with pytest.raises(UsageError, match="--seeds is empty"):
    compare.parse_seeds([])


def test_derivation_reports_each_candidates_test_against_the_input():
  base = np.arange(8) % 2 == 0
  original = _candidate("input", base, 100)
  worse = _candidate("greedy", _flipped(base, 3, 1), 50)
  derivation = derive.Derivation(original, (worse,), original, "rule", 8)
  record = derivation.as_dict()
  expected = {"examples": 8, "only_input": 3, "only_candidate": 1, "p_value": 0.625}
  assert record["candidates"][0]["versus_input"] == expected
  assert record["chosen"]["versus_input"]["p_value"] == 1.0
  assert "-3/+1 p=0.62" in derive.format_report(derivation).splitlines()[3]


def test_an_extra_rule_keeps_from_the_same_candidates_never_costlier_than_accuracy(tiny_search):
  kept = compare.kept_by_method(tiny_search, DARTS, derive.run_policies(tiny_search), [0, 1],
                                rules=("not_worse",))
  searched = ("NAT", "random search", "random search (10x)", "best single edge")
  assert tuple(kept.by_method) == compare.method_names(("not_worse",)) == (
      "input", *searched, *(f"{method} (not_worse)" for method in searched),
      "skip everywhere", "no pooling")
  for method in searched:
    by_noise_rule = kept.by_method[f"{method} (not_worse)"]
    for by_accuracy, by_noise in zip(kept.by_method[method], by_noise_rule):
      # the most accurate candidate is never worse than the input, so it is eligible
      assert by_noise.madds <= by_accuracy.madds
      assert not paired.significantly_worse(derive.versus_input(kept.original, by_noise), 0.05)


MIRRORED_PER_EXAMPLE = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from nat_tf.nn import architecture
    from nat_tf.nn import supernet as supernet_lib
    from nat_tf.search import supernet_steps
    from nat_tf.space import ops
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
      net = supernet_lib.Supernet(ops.FULLY_CONCAT, 10, 8, 1, channels=4, layers=3)
    images = tf.random.stateless_normal([10, 8, 8, 1], seed=[0, 1])
    labels = tf.random.stateless_uniform([10], [0, 2], 0, 10, tf.int32)
    batch = next(iter(strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors((images, labels)))))
    archs = architecture.random(tf.random.Generator.from_seed(1), 3, 4, ops.FULLY_CONCAT)
    scorer = supernet_steps.Scorer(net, strategy, 1)
    hits = tf.function(scorer.per_example, autograph=False)(*batch, archs)
    counts = tf.function(scorer, autograph=False)(*batch, archs)
    print(json.dumps({"shape": hits.shape.as_list(), "sums": hits.numpy().sum(1).tolist(),
                      "counts": counts.numpy().tolist()}))
""")


def test_per_example_hits_gather_every_replicas_images():
  result = subprocess.run([sys.executable, "-c", MIRRORED_PER_EXAMPLE], capture_output=True,
                          text=True, check=True)
  found = json.loads(result.stdout.strip().splitlines()[-1])
  assert found["shape"] == [3, 10]  # both replicas' halves of the global batch
  assert found["sums"] == found["counts"]
