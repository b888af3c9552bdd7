"""Whether a search run's supernet ranks architectures as training them from scratch does.

NAT keeps the candidate its supernet scores best on the held-out split; that choice is
evidence only where the supernet ranks architectures as training them would. NAS papers
measure this as Kendall's tau between the two over a set of architectures. The set here
is what the run is asked to judge: each input of a family, NAT's transformations of it
(greedy and sampled) and connected random ones (baselines.random_proposals), null and
skip edges included. Each is scored by the supernet on the held-out split and trained
from scratch once under the study's protocol (study.train_one), and tau-b comes with a
bootstrap 95% interval over the architectures, in two forms:

- within inputs: only pairs of architectures made from the same input. That is the
  choice NAT makes (which transformation of this input), so it is the one that matters;
- overall: every pair, which also credits the supernet for telling one input from
  another, a much easier task.

A family whose within-input interval does not lie above zero is one where the
supernet's pick says nothing about from-scratch accuracy (`clearly_above_zero`).

`output_dir` holds plan.json (the architectures with their supernet scores, in the
study's plan format, written once), trainings/<architecture>-seed<seed>/ (resumed as
the study resumes them) and fidelity.json / fidelity.md with the table and tau. With
`output_dir` = <run_dir>/fidelity, bin/derive on the run prints the result with its
pick (derive.fidelity_line).
"""

import os

from absl import logging
import gin
import numpy as np

from nat_tf import atomic
from nat_tf import run_folder
from nat_tf.analysis import baselines
from nat_tf.analysis import derive
from nat_tf.analysis import study
from nat_tf.errors import UsageError
from nat_tf.search import holdout
from nat_tf.search import runs
from nat_tf.space import genotype_format

OUTPUTS = (study.PLAN_FILE, study.TRAININGS_DIR, "fidelity.json", "fidelity.md")
# Offset of random search's seed from the proposals' seed, so the two draw differently.
RANDOM_SEED_OFFSET = 7919
LEVEL = 0.95


def kendall_tau_b(x, y, groups):
  """Kendall's tau-b of x and y over the pairs whose two items share a group: (concordant
  - discordant) / sqrt(pairs untied in x * pairs untied in y). One group: the usual
  tau-b. NaN when no pair is untied in both."""
  x, y, groups = (np.asarray(v) for v in (x, y, groups))
  upper = np.triu(np.ones((len(x), len(x)), bool), k=1) & (groups[:, None] == groups[None, :])
  dx, dy = np.sign(x[:, None] - x[None, :])[upper], np.sign(y[:, None] - y[None, :])[upper]
  denominator = np.sqrt(np.count_nonzero(dx) * np.count_nonzero(dy))
  return float(np.sum(dx * dy) / denominator) if denominator else float("nan")


def tau_interval(x, y, groups, resamples=2000, seed=0):
  """(tau, low, high): kendall_tau_b and its percentile bootstrap interval at LEVEL,
  resampling architectures within each group (resamples with no untied pair dropped)."""
  x, y, groups = (np.asarray(v) for v in (x, y, groups))
  rng = np.random.default_rng(seed)
  members = [np.flatnonzero(groups == g) for g in np.unique(groups)]
  draws = []
  for _ in range(resamples):
    index = np.concatenate([rng.choice(m, len(m)) for m in members])
    draws.append(kendall_tau_b(x[index], y[index], groups[index]))
  draws = np.array(draws)
  low, high = np.quantile(draws[~np.isnan(draws)], [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
  return kendall_tau_b(x, y, groups), float(low), float(high)


def candidates(search, inputs, policies, samples, randoms, seed):
  """[(input name, architecture key, (source, genotype))]: per input, itself, NAT's greedy
  transformation and `samples` sampled ones, and `randoms` connected random ones; each
  distinct architecture of an input once."""
  listed = []
  for name, genotype in inputs.items():
    seen = set()
    named = [("input", genotype)] + derive.proposals(policies, search.editor, genotype,
                                                     samples=samples, seed=seed)
    named += baselines.random_proposals(search.editor, genotype, randoms,
                                        seed + RANDOM_SEED_OFFSET)[0]
    for source, candidate in named:
      key = study.architecture_key(candidate)
      if key not in seen:
        seen.add(key)
        listed.append((name, key, (source, candidate)))
  return listed


def make_plan(asked, inputs):
  """plan.json's content: the candidates with their held-out supernet accuracy and cost
  (derive.scored, as derivation scores them), in the study's plan format (each candidate
  a 'method' of its input, trained at one seed)."""
  gin.clear_config()
  try:
    search, _ = runs.load(asked["run_dir"], asked["bindings"])
    listed = candidates(search, inputs, derive.run_policies(search), asked["samples"],
                        asked["randoms"], asked["seed"])
    scored = derive.scored(holdout.HoldoutScorer(search), [pair for _, _, pair in listed])
    protocol = study.protocol(search, asked["gin_files"], asked["bindings"])
  finally:
    gin.clear_config()
  architectures, entries, rows = {}, {name: [] for name in inputs}, []
  for (name, key, _), candidate in zip(listed, scored):
    architectures[key] = genotype_format.to_dict(candidate.genotype)
    entries[name].append({"method": f"{candidate.source} ({key})", "per_seed": [
        {"seed": asked["seeds"][0], "architecture": key}]})
    rows.append({"input": name, "source": candidate.source, "architecture": key,
                 "supernet_accuracy": candidate.accuracy, "madds": candidate.madds})
  return {"request": asked, "architectures": architectures, "protocol": protocol,
          "inputs": [{"name": name, "methods": methods} for name, methods in entries.items()],
          "candidates": rows}


def results(plan, reports):
  """fidelity.json's content: each candidate with both accuracies, and tau both ways."""
  seed = plan["request"]["seeds"][0]
  rows = [{**row, "top1": reports[seed, row["architecture"]]["top1"]}
          for row in plan["candidates"]]
  x, y = [r["supernet_accuracy"] for r in rows], [r["top1"] for r in rows]
  names = [r["input"] for r in rows]
  within = tau_interval(x, y, names)
  overall = tau_interval(x, y, [0] * len(rows))
  return {"run_dir": plan["request"]["run_dir"], "train_seed": seed, "level": LEVEL,
          "architectures": len(rows), "rows": rows,
          "tau_within_inputs": dict(zip(("tau", "low", "high"), within)),
          "tau_overall": dict(zip(("tau", "low", "high"), overall)),
          "clearly_above_zero": bool(within[1] > 0)}


def markdown(fidelity):
  """The table (one row per architecture) and the two taus, as fidelity.md holds them."""
  lines = ["| input | source | supernet held-out accuracy | from-scratch test top-1 | "
           "multiply-adds |", "|---|---|---|---|---|"]
  lines += [f"| {r['input']} | {r['source']} | {r['supernet_accuracy']:.3f} | {r['top1']:.4f} | "
            f"{r['madds'] / 1e6:.1f} M |" for r in fidelity["rows"]]
  for label, key in (("within inputs", "tau_within_inputs"), ("overall", "tau_overall")):
    tau = fidelity[key]
    lines.append(f"\nKendall's tau-b {label}: {tau['tau']:+.3f} "
                 f"({fidelity['level']:.0%} interval {tau['low']:+.3f} to {tau['high']:+.3f})")
  lines.append("" if fidelity["clearly_above_zero"] else
               "\nThe within-input interval does not lie above zero: on this family the "
               "supernet's pick says nothing about from-scratch accuracy.")
  return "\n".join(lines).rstrip() + "\n"


def fidelity_run(run_dir, inputs, output_dir, samples=3, randoms=4, seed=0, train_seed=0,
                 gin_files=(), bindings=()):
  """bench/supernet_fidelity.py: plan (or reload the plan), train what is unfinished,
  write fidelity.json and fidelity.md into `output_dir`; returns the Markdown."""
  if not inputs:
    raise UsageError("--genotypes is empty; give a family's inputs, e.g. "
                     "--genotypes=VGG,ResBlock,MobileNetV2")
  if samples < 0 or randoms < 0:
    raise UsageError(f"--samples={samples}, --randoms={randoms}: give counts >= 0")
  study.check_output_dir(output_dir, OUTPUTS)
  asked = {"run_dir": os.path.abspath(run_dir), "samples": samples, "randoms": randoms,
           "seed": seed, "seeds": [train_seed],  # the trainings' seed, as study.trainings reads it
           "inputs": {name: genotype_format.to_literal(g) for name, g in inputs.items()},
           "gin_files": [os.path.abspath(path) for path in gin_files],
           "bindings": list(bindings)}
  with run_folder.locked(output_dir, "--output_dir"):
    plan = study.load_or_make_plan(output_dir, asked, lambda: make_plan(asked, inputs))
    logging.info("fidelity: %d architectures", len(plan["candidates"]))
    fidelity = results(plan, study.run_trainings(plan, output_dir))
    text = markdown(fidelity)
    atomic.write_json(os.path.join(output_dir, "fidelity.json"), fidelity)
    atomic.write_text(os.path.join(output_dir, "fidelity.md"), text)
  return text
