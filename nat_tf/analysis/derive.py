"""Derivation (the reference code): a trained transformer applied to one architecture.

The greedy transformation and K sampled ones are scored with the run's supernet
on the held-out split (never the test split, which only reports a finished
network), together with the input, and one is kept by a gin-bound rule:

- 'accuracy': the candidate of highest supernet accuracy, ties going to the
  cheaper one;
- 'cheapest_within': the cheapest candidate whose accuracy is at most `tolerance`
  below the input's (for a user who wants a smaller network at a known loss);
- 'not_worse': the cheapest candidate not significantly worse than the input (exact
  McNemar test on the same held-out images, two-sided level `alpha`), ties going to
  the more accurate: a difference inside the held-out split's noise is no reason to
  keep a costlier architecture.
Every candidate is reported with its paired test against the input (images only the
input gets right, only the candidate gets right, p-value) and the held-out size.
The input is a candidate under every rule, so the answer can be "no change", and the
kept architecture is never less accurate on the held-out split than the input by more
than the rule allows (the reference kept the best transformed one even when it was
worse). Every transformed candidate is pruned (`Cell.pruned`, applied with the actions):
its dead nodes leave the output, so its cost is that of the network trained from it,
and its held-out score is exact, since the supernet scores a pruned cell as the
unpruned one. A kept cell still outputs a dead node only when it is the input's own or
when every output of the cell is dead (one is kept, as zeros): a warning says so.

Valid actions never add cost to an edge; the chosen network's whole cost (DARTS
skeleton, CIFAR and ImageNet settings, as bin/cost reports it, and the hand-crafted
networks built of the input when it is a catalogue block) is checked again before
anything is written, so an output never costs more than its input. On a hand-crafted
network a transformation can cost more (a skip that starts to read a cell input of
another width adds its adaptation): every Selection drops such candidates, so derive,
compare and study never keep one.
"""

import dataclasses
import functools
import json
import os
from typing import Optional, Tuple

from absl import logging
import gin
import numpy as np
import tensorflow as tf

from nat_tf import atomic
from nat_tf import export
from nat_tf.analysis import paired
from nat_tf.errors import UsageError
from nat_tf.report import diagram
from nat_tf.search import holdout
from nat_tf.search import runs
from nat_tf.search import transformations
from nat_tf.space import cost
from nat_tf.space import genotype_format
from nat_tf.space import handcrafted
from nat_tf.space import networks

RULES = ("accuracy", "cheapest_within", "not_worse")
# The cost settings of cost.json and of the never-costlier check: bin/cost's defaults.
COST_SETTINGS = ("cifar10", "imagenet")
SELECTION_SETTING = "cifar10"
OUTPUT_FILES = ("genotype.json", "genotype.txt", "cost.json", "cells.png", "derivation.json")
# Accuracies are counts of right images over the held-out size; equal counts give equal
# floats, this only absorbs rounding when a tolerance is added.
_EPSILON = 1e-6
# Where a run's supernet fidelity is looked for: bench/supernet_fidelity.py's fidelity.json
# with --output_dir=<run_dir>/fidelity (analysis/fidelity.py).
FIDELITY_REPORT = os.path.join("fidelity", "fidelity.json")


@dataclasses.dataclass(frozen=True)
class Candidate:
  """One scored architecture; `source` says where it came from ('input', 'greedy', ...);
  `correct`: which held-out images it gets right (bool [examples]), for paired tests."""
  source: str
  genotype: object
  accuracy: float
  params: int
  madds: int
  correct: Optional[np.ndarray] = dataclasses.field(default=None, compare=False, repr=False)

  def as_dict(self):
    return {"source": self.source, "accuracy": self.accuracy, "params": self.params,
            "madds": self.madds, "genotype": genotype_format.to_literal(self.genotype)}


@dataclasses.dataclass(frozen=True)
class Derivation:
  """The input, every transformed candidate, and the one kept."""
  original: Candidate
  candidates: Tuple[Candidate, ...]
  chosen: Candidate
  rule: str
  holdout_examples: int
  dropped: Tuple[str, ...] = ()  # candidates that cost more than the input on some network
  fidelity: str = ""  # fidelity_line of the run, when derived from a run folder

  def as_dict(self):
    return {"rule": self.rule, "holdout_examples": self.holdout_examples,
            "fidelity": self.fidelity,
            "costed_on": costed_network(self.original.genotype),
            "dropped_as_costlier": list(self.dropped),
            "input": self.original.as_dict(), "chosen": self._with_test(self.chosen),
            "warnings": dead_output_warnings(self.chosen.genotype),
            "candidates": [self._with_test(c) for c in self.candidates]}

  def _with_test(self, candidate):
    return {**candidate.as_dict(),
            "versus_input": versus_input(self.original, candidate).as_dict()}


def versus_input(original, candidate):
  """The exact McNemar test of `candidate` against the input on the same held-out images."""
  return paired.mcnemar(original.correct, candidate.correct)


@gin.configurable(denylist=["policies", "editor", "genotype"])
def proposals(policies, editor, genotype, samples=10, seed=0):
  """[(source, genotype)]: the greedy policy's transformation and `samples` of the sampling
  policy's, drawn after tf.random.set_seed(seed) so a seed repeats them."""
  if samples < 0:
    raise UsageError(f"proposals.samples={samples}: the number of sampled transformations "
                     "must be >= 0")
  greedy, sampling = policies
  tf.random.set_seed(seed)
  named = [("greedy", transformations.transform(greedy, editor, genotype)[0])]
  if samples:
    named += [(f"sample {i + 1}", g) for i, g in
              enumerate(transformations.transform(sampling, editor, genotype, samples))]
  return named


def costed_network(genotype):
  """The network whose cost ranks and reports the candidates of `genotype` in derive,
  compare and study: the hand-crafted one its block is made for, as train_final builds it
  (a transformation keeps the block's edges, so every candidate gets the same), else the
  CIFAR DARTS network at bin/cost's defaults."""
  return handcrafted.own_network(genotype) or networks.DARTS


def network_label(network):
  """How a report names the network its costs are counted on."""
  if network == networks.DARTS:
    return "the CIFAR DARTS network (C=36, L=20)"
  return f"the CIFAR {network} network"


def scored(scorer, named):
  """Candidates of (source, genotype) pairs: holdout accuracy and per-image correctness,
  cost on the CIFAR `costed_network`."""
  correct = scorer.correct([g for _, g in named])
  candidates = []
  for (source, genotype), hits in zip(named, correct):
    report = cost.report(genotype, SELECTION_SETTING, network=costed_network(genotype))
    candidates.append(Candidate(source, genotype, float(hits.mean()), report["params"],
                                report["madds"], hits))
  return candidates


@gin.configurable
class Selection:
  """The rule that keeps one candidate (see the module doc); `cost_metric` ranks by cost.

  `cost_metric` is the candidates' whole-network cost on `costed_network` ('madds' or
  'params', what cost.json reports) that the cheapest rules minimise. It is not the
  reward's cost metric (`SearchSetup.cost_metric`, rl/reward.py), the relative change of
  the cells' op cost that the policy was trained against: a run may train on one and
  select by the other. The name stays because saved gin configs bind it.
  """

  def __init__(self, rule="accuracy", tolerance=0.0, cost_metric="madds", alpha=0.05):
    if rule not in RULES:
      raise UsageError(f"Selection.rule={rule!r} is not one of {list(RULES)}")
    if tolerance < 0:
      raise UsageError(f"Selection.tolerance={tolerance} must be >= 0 (an accuracy fraction)")
    if not 0 < alpha < 1:
      raise UsageError(f"Selection.alpha={alpha} must be in (0, 1) (a significance level, "
                       "e.g. 0.05)")
    if cost_metric not in cost.COST_METRICS:
      raise UsageError(f"Selection.cost_metric={cost_metric!r} is not one of "
                       f"{list(cost.COST_METRICS)}")
    self.rule, self.tolerance, self.cost_metric = rule, tolerance, cost_metric
    self.alpha = alpha

  def __str__(self):
    if self.rule == "accuracy":
      return "highest supernet accuracy"
    if self.rule == "not_worse":
      return (f"cheapest ({self.cost_metric}) not significantly worse than the input (exact "
              f"McNemar, alpha {self.alpha:g})")
    return f"cheapest ({self.cost_metric}) within {self.tolerance:g} of the input's accuracy"

  def __call__(self, original, transformed):
    candidates = (original, *[c for c in transformed
                              if not costlier(original.genotype, c.genotype)])
    if self.rule == "accuracy":
      return max(candidates, key=lambda c: (c.accuracy, -getattr(c, self.cost_metric)))
    if self.rule == "not_worse":
      eligible = [c for c in candidates
                  if not paired.significantly_worse(versus_input(original, c), self.alpha)]
    else:
      floor = original.accuracy - self.tolerance - _EPSILON
      eligible = [c for c in candidates if c.accuracy >= floor]
    return min(eligible, key=lambda c: (getattr(c, self.cost_metric), -c.accuracy))


def cost_settings(genotype):
  """{name: (dataset, network)} of the networks whose cost derivation checks and reports:
  the DARTS CIFAR and ImageNet networks, and those built of `genotype` as their block."""
  settings = {dataset: (dataset, networks.DARTS) for dataset in COST_SETTINGS}
  settings.update({name: ("cifar10", name) for name in handcrafted.networks_of_block(genotype)})
  return settings


def cost_table(before, after):
  """{setting: {'before': bin/cost's dict, 'after': ...}} over `cost_settings(before)`."""
  return {name: {"before": cost.report(before, dataset, network=network),
                 "after": cost.report(after, dataset, network=network)}
          for name, (dataset, network) in cost_settings(before).items()}


def cost_increases(table):
  """(setting, key, before, after) for each cost of a `cost_table` that grew."""
  return [(name, key, row["before"][key], row["after"][key]) for name, row in table.items()
          for key in ("params", "madds") if row["after"][key] > row["before"][key]]


@functools.lru_cache(maxsize=4096)
def costlier(before, after):
  """Whether `after` costs more than `before` on any network of `cost_settings(before)`
  (cached: selection asks it of every candidate each time it chooses)."""
  return bool(cost_increases(cost_table(before, after)))


def cost_comparison(before, after):
  """`cost_table(before, after)`; a UsageError if `after` costs more in any setting."""
  table = cost_table(before, after)
  increases = cost_increases(table)
  if increases:
    setting, key, old, new = increases[0]
    raise UsageError(
        f"the derived architecture has more {key} than its input on the {setting} network "
        f"({old:,} -> {new:,}); nothing was written. Valid actions never add cost to the DARTS "
        "networks, so the policy does not match this run's action space: derive with the "
        "run's own policy (leave --policy_dir out)")
  return table


def derive(search, genotype, policies):
  """Derivation of `genotype` by `policies` (greedy, sampling) with `search`'s supernet."""
  transformations.encode(genotype, search.editor)  # a genotype it can't take fails first
  named = proposals(policies, search.editor, genotype)
  scorer = holdout.HoldoutScorer(search)
  original, *transformed = scored(scorer, [("input", genotype)] + named)
  dropped = tuple(c.source for c in transformed if costlier(genotype, c.genotype))
  if dropped:
    logging.warning("%d candidate(s) cost more than the input on a network derivation checks "
                    "(a hand-crafted one built of it) and were not kept: %s", len(dropped),
                    ", ".join(dropped))
  selection = Selection()
  chosen = selection(original, transformed)
  cost_comparison(genotype, chosen.genotype)
  for warning in dead_output_warnings(chosen.genotype):
    logging.warning("%s", warning)
  return Derivation(original, tuple(transformed), chosen, str(selection), scorer.examples,
                    dropped)


def dead_output_warnings(genotype):
  """One line per cell of `genotype` with an output node that only null edges feed."""
  return [f"warning: the kept {name} cell outputs node(s) {list(cell.dead_outputs())} that "
          "only null edges feed: they contribute nothing that depends on the cell's inputs"
          for name, cell in genotype.cells.items() if cell.dead_outputs()]


def run_policies(search, policy_dir=None):
  """(greedy, sampling): the run's own, or those exported to `policy_dir` (checked to
  observe cells the way the run's ArchitectureEditor does)."""
  if policy_dir is None:
    return search.agent.policy, search.agent.collect_policy
  return export.load_policies(policy_dir, search.editor)


def write(derivation, output_dir, input_name="input"):
  """genotype.json/.txt, cost.json, cells.png and derivation.json, replacing `output_dir`
  whole (atomically)."""
  before, after = derivation.original.genotype, derivation.chosen.genotype
  atomic.check_replaceable(output_dir, OUTPUT_FILES)
  costs = cost_comparison(before, after)
  image = diagram.comparison_image(before, after, (input_name, "derived"))
  with atomic.directory(output_dir) as folder:
    for name, text in (("genotype.json", genotype_format.to_json(after)),
                       ("genotype.txt", genotype_format.to_literal(after))):
      atomic.write_text(os.path.join(folder, name), text + "\n")
    atomic.write_json(os.path.join(folder, "cost.json"), costs)
    diagram.save_png(image, os.path.join(folder, "cells.png"))
    atomic.write_json(os.path.join(folder, "derivation.json"), derivation.as_dict())
  return output_dir


def derive_run(run_dir, genotype, output_dir, input_name="input", policy_dir=None, bindings=(),
               checkpoint=None):
  """bin/derive: restore `run_dir` (from `checkpoint`, see runs.load), derive `genotype`,
  write `output_dir`; the Derivation."""
  atomic.check_replaceable(output_dir, OUTPUT_FILES)
  search, _ = runs.load(run_dir, bindings, checkpoint)
  derivation = dataclasses.replace(derive(search, genotype, run_policies(search, policy_dir)),
                                   fidelity=fidelity_line(run_dir))
  write(derivation, output_dir, input_name)
  return derivation


def fidelity_line(run_dir):
  """One line on whether the run's supernet ranks architectures as training them from
  scratch does (its FIDELITY_REPORT): the pick is evidence only where it does, and the
  line says when that was not measured, or not shown."""
  path = os.path.join(run_dir, FIDELITY_REPORT)
  if not os.path.isfile(path):
    return (f"supernet fidelity: not measured for this run (python bench/supernet_fidelity.py "
            f"--run_dir={run_dir} --output_dir={os.path.dirname(path)}); how far the "
            "supernet's pick predicts training from scratch is unknown")
  try:
    with open(path, encoding="utf-8") as handle:
      measured = json.load(handle)
    tau = measured["tau_within_inputs"]
    summary = (f"within-input Kendall tau {tau['tau']:+.2f} ({measured['level']:.0%} interval "
               f"{tau['low']:+.2f} to {tau['high']:+.2f}, {measured['architectures']} "
               f"architectures, {path})")
    clear = measured["clearly_above_zero"]
  except (OSError, ValueError, KeyError, TypeError) as error:
    return f"warning: supernet fidelity unreadable ({path}: {error}); measure it again"
  if clear:
    return f"supernet fidelity: {summary}"
  return (f"warning: supernet fidelity not clearly above zero: {summary}; on this family the "
          "supernet's pick says nothing shown about accuracy after training from scratch")


def changed_edges(before, after):
  """How many edges of both cells `after` changed."""
  return sum(len(diagram.changed_edges(cell, after.cells[name], name))
             for name, cell in before.cells.items())


def format_report(derivation):
  """The candidates as a text table, the kept one marked."""
  network = network_label(costed_network(derivation.original.genotype))
  lines = [f"kept: {derivation.rule}; supernet accuracy on {derivation.holdout_examples} "
           f"held-out examples, cost of {network}; versus input: "
           "-images only the input gets right/+only the candidate, exact McNemar p:",
           f"  {'candidate':<12} {'accuracy':>8} {'params':>12} {'madds':>14}  changed edges  "
           "versus input"]
  for c in (derivation.original,) + derivation.candidates:
    changed = changed_edges(derivation.original.genotype, c.genotype)
    mark = "*" if c is derivation.chosen else " "
    test = versus_input(derivation.original, c)
    lines.append(f"{mark} {c.source:<12} {c.accuracy:8.4f} {c.params:12,} {c.madds:14,}  "
                 f"{changed:<13}  {test}")
  if derivation.fidelity:
    lines.append(derivation.fidelity)
  lines.append("derived genotype:")
  lines.append(genotype_format.to_literal(derivation.chosen.genotype))
  return "\n".join(lines)
