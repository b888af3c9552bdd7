"""NAT against baselines on the same transformation space: the reviewers' question.

For each seed, NAT proposes the greedy and K sampled transformations of the
learned policy, random search as many uniformly random valid connected ones (and, as
a second row, ten times as many), the best-single-edge baseline every change of one
edge, and each keeps one by the same Selection; each heuristic gives one architecture. Every candidate
of every seed is scored in one pass over the held-out split with the run's
supernet weights, so rows differ only in their architectures. Each row reports the
kept architecture's supernet accuracy and its cost (on the hand-crafted CIFAR network
of a block's family, else the CIFAR DARTS network: `derive.costed_network`), as mean
and sample standard deviation over the seeds (over_seeds.spread); the input and the
heuristics are deterministic, so their spread is zero. Each kept architecture also
gets its exact McNemar test against the input on the same held-out images, per seed.
"""

import dataclasses
import os
from typing import Dict, List


from nat_tf import atomic
from nat_tf.analysis import baselines
from nat_tf.analysis import derive
from nat_tf.analysis import over_seeds
from nat_tf.analysis import paired
from nat_tf.errors import UsageError
from nat_tf.search import holdout
from nat_tf.search import runs
from nat_tf.search import transformations

NAT, RANDOM, RANDOM_10X = "NAT", "random search", "random search (10x)"
SINGLE_EDGE = "best single edge"
SEARCHED = (NAT, RANDOM, RANDOM_10X, SINGLE_EDGE)  # each keeps one of its candidates
# Random search draws from another stream than NAT's sampling of the same seed: while the
# policy is still near uniform, one stream would give both searches the same samples.
RANDOM_SEED_OFFSET = 10_007
# (key, title, scale, format spec) of each column of the Markdown table.
COLUMNS = (("accuracy", "held-out accuracy", 1, ".4f"), ("params", "params (M)", 1e6, ".3f"),
           ("madds", "multiply-adds (M)", 1e6, ".1f"), ("changed_edges", "changed edges", 1, ".1f"))


def method_names(rules=()):
  """Row order: the input, the SEARCHED methods kept by the gin-bound Selection, each
  again for each extra rule ('NAT (not_worse)'), the heuristics."""
  searched = [*SEARCHED] + [f"{method} ({rule})" for rule in rules for method in SEARCHED]
  return ("input", *searched, *baselines.HEURISTICS)


METHODS = method_names()


def parse_seeds(values, flag="--seeds"):
  """Integer seeds from a flag's comma-separated strings; a UsageError naming the flag."""
  try:
    seeds = [int(value) for value in values]
  except ValueError:
    raise UsageError(f"{flag}={','.join(values)}: give integers, e.g. {flag}=0,1,2") from None
  return check_seeds(seeds, flag)


def check_seeds(seeds, flag="--seeds"):
  """`seeds` if they are distinct integers >= 0, at least one; else a UsageError naming
  `flag`. A repeated seed repeats the same search, which would count twice in the means;
  numpy refuses a negative one only deep inside a run."""
  if not seeds:
    raise UsageError(f"{flag} is empty; give at least one seed, e.g. {flag}=0,1,2")
  given = ",".join(str(seed) for seed in seeds)
  negative = [seed for seed in seeds if seed < 0]
  if negative:
    raise UsageError(f"{flag}={given}: {negative[0]} is negative; give seeds >= 0")
  repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
  if repeated:
    raise UsageError(f"{flag}={given} repeats {', '.join(map(str, repeated))}; give each seed "
                     "once")
  return seeds


@dataclasses.dataclass(frozen=True)
class Kept:
  """What each method keeps per seed (`by_method[method][i]` for `seeds[i]`), with the
  input's candidate and how the candidates were scored and kept."""
  original: derive.Candidate
  by_method: Dict[str, List[derive.Candidate]]
  seeds: List[int]
  evaluations_per_seed: int
  selection: str
  holdout_examples: int
  random_rejected: List[int]  # per seed, the disconnected draws random searches left out


def searched_proposals(editor, genotype, policies, seed):
  """([(method, [(source, genotype)])] in SEARCHED order, rejected) of one seed's searches:
  NAT's proposals; random search's, as many connected ones, and ten times as many, each
  drawn with its own offset of the seed; every single-edge change (the same each seed).
  `rejected`: the disconnected draws both random searches left out
  (baselines.random_proposals)."""
  nat = derive.proposals(policies, editor, genotype, seed=seed)
  randoms, rejected = baselines.random_proposals(editor, genotype, len(nat),
                                                 seed + RANDOM_SEED_OFFSET)
  more, more_rejected = baselines.random_proposals(editor, genotype, 10 * len(nat),
                                                   seed + 2 * RANDOM_SEED_OFFSET)
  single = baselines.single_edge_proposals(genotype, editor.action_space)
  return ([(NAT, nat), (RANDOM, randoms), (RANDOM_10X, more), (SINGLE_EDGE, single)],
          rejected + more_rejected)


def kept_by_method(search, genotype, policies, seeds, rules=()):
  """The Kept of every method of the module doc on `genotype`, one search per seed;
  `rules`: Selection rules that also keep one of NAT's and random search's candidates
  (the other Selection settings as bound), e.g. ('not_worse',)."""
  if not seeds:
    raise UsageError("--seeds is empty; give at least one seed, e.g. --seeds=0,1,2")
  editor = search.editor
  transformations.encode(genotype, editor)  # a genotype the policy can't take fails first
  fixed = [("input", genotype)] + baselines.heuristic_proposals(genotype, editor.action_space)
  searched, rejected = [], []  # (method, seed, [(source, genotype)]); per seed
  for seed in seeds:
    groups, disconnected = searched_proposals(editor, genotype, policies, seed)
    searched += [(method, seed, group) for method, group in groups]
    rejected.append(disconnected)
  scorer = holdout.HoldoutScorer(search)
  candidates = derive.scored(scorer, fixed + [pair for _, _, group in searched for pair in group])
  original = candidates[0]
  selections = {"": derive.Selection(), **{f" ({rule})": derive.Selection(rule=rule)
                                           for rule in rules}}
  kept = {name: [c] * len(seeds) for (name, _), c in zip(fixed, candidates)}
  offset = len(fixed)
  for method, _, group in searched:
    for suffix, selection in selections.items():
      kept.setdefault(method + suffix, []).append(
          selection(original, candidates[offset:offset + len(group)]))
    offset += len(group)
  return Kept(original, {name: kept[name] for name in method_names(rules)}, list(seeds),
              len(searched[0][2]), str(selections[""]), scorer.examples, rejected)


def compare(search, genotype, policies, seeds):
  """The comparison table as a JSON-ready dict (see the module doc)."""
  kept = kept_by_method(search, genotype, policies, seeds)
  return {"seeds": kept.seeds, "evaluations_per_seed": kept.evaluations_per_seed,
          "selection": kept.selection, "holdout_examples": kept.holdout_examples,
          "costed_on": derive.costed_network(genotype),
          "random_rejected": kept.random_rejected,
          "rows": [_row(name, candidates, kept.original)
                   for name, candidates in kept.by_method.items()]}


def _row(method, kept, original):
  values = {"accuracy": [c.accuracy for c in kept], "params": [c.params for c in kept],
            "madds": [c.madds for c in kept],
            "changed_edges": [derive.changed_edges(original.genotype, c.genotype) for c in kept]}
  row = {"method": method, **{key: over_seeds.spread(series) for key, series in values.items()}}
  row["versus_input"] = [derive.versus_input(original, c).as_dict() for c in kept]
  return row


def paired_cell(tests):
  """Per-seed paired tests (PairedTest dicts) in one table cell: -only input/+only kept p."""
  return "; ".join(str(paired.PairedTest(**test)) for test in tests)


def markdown(table, name="input"):
  """The table in Markdown, with a line saying how it was made."""
  lines = [f"{name}: {table['evaluations_per_seed']} transformed candidates per search and seed, "
           f"kept by {table['selection']}; supernet accuracy on {table['holdout_examples']} "
           f"held-out examples; cost of {derive.network_label(table['costed_on'])}; mean ± std "
           f"over seeds {table['seeds']}; versus input: held-out images only the input / only the "
           "kept architecture gets right and the exact McNemar p, per seed. "
           + rejected_sentence(table["random_rejected"]), ""]
  return "\n".join(lines + markdown_rows(table["rows"], COLUMNS)) + "\n"


def rejected_sentence(rejected):
  """What random search left out, per seed, for the line above a table (None: a study
  planned before random search checked its draws)."""
  if rejected is None:
    return "Random search's proposals were not checked for disconnected cells."
  return (f"Random search drew only connected transformations; its two budgets left out "
          f"{rejected} disconnected draws per seed (a cell computing a constant).")


def markdown_rows(rows, columns):
  """Markdown table lines: per row its method, mean ± std of each (key, title, scale,
  format spec) of `columns`, and its paired tests against the input."""
  lines = ["| method | " + " | ".join(title for _, title, _, _ in columns) + " | versus input |",
           "|---" * (len(columns) + 2) + "|"]
  for row in rows:
    cells = [f"{row[key]['mean'] / scale:{spec}} ± {row[key]['std'] / scale:{spec.lstrip('+')}}"
             for key, _, scale, spec in columns]
    lines.append(f"| {row['method']} | " + " | ".join(cells) +
                 f" | {paired_cell(row['versus_input'])} |")
  return lines


def compare_run(run_dir, genotype, output_dir, seeds, name="input", policy_dir=None,
                bindings=(), checkpoint=None):
  """bin/compare: restore `run_dir` (from `checkpoint`, see runs.load), compare, write
  comparison.json and comparison.md into `output_dir`; returns the Markdown."""
  search, _ = runs.load(run_dir, bindings, checkpoint)
  table = compare(search, genotype, derive.run_policies(search, policy_dir), seeds)
  table["genotype"] = name
  text = markdown(table, name)
  atomic.write_json(os.path.join(output_dir, "comparison.json"), table)
  atomic.write_text(os.path.join(output_dir, "comparison.md"), text)
  return text
