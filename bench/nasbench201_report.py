#!/usr/bin/env python3
"""Does NAT improve cells it never saw, and is that better than searching the same space
with the same number of trained networks? Answered exactly, on NAS-Bench-201's table.

  python bench/nasbench201_report.py --table=nb201_val_accuracy.csv --output_dir=/tmp/nb201 \
      --seeds=0,1,2 --action_space=nat --train_dataset=cifar10

Per seed, a ground-truth search (nat_tf/search/ground_truth.py, gin/nasbench201.gin with
GroundTruthSetup.seed = seed) is trained in <output_dir>/runs/seed_<seed>, or reused if
it finished there. Every held-out input cell (the second of nasbench201_table.halves(0),
never drawn in training) is then transformed, and each method's kept cell scored on every
dataset of the table (the policy trained on --train_dataset; the others are transfer):
- input: unchanged;
- NAT greedy: the greedy policy's transformation, kept without reading the table;
- NAT best of K: K transformations sampled from the collect policy, the best of the input
  and them by the table (K queries);
- random search, K queries: K uniformly random valid transformations, the same keep rule;
- hill-climbing, K queries: first-improvement over single-edge changes;
- skip everywhere / no pooling: fixed rules, no query;
- oracle: the best cell one transformation reaches, by enumerating every one.
(nasbench201_search.py defines the searches and how queries are counted.) Per method and
K: mean accuracy change in points, shares of inputs improved / unchanged / worse, mean
relative change of the network's multiply-adds, the share of the oracle's gain reached,
and the distinct cells read; mean and sample SD over the seeds (the random searches use
the same seeds), on all held-out inputs and on the best 10% of them by their own
accuracy. Also NAT greedy's edge changes, and per dataset how much of a gain may be the
table's noise (the spread among cells computing the same function, and each search's
bias from keeping a maximum of noisy values, simulated at that noise). Outputs:
report.json, report.md (printed at the end) and nasbench201.png.
"""

# pylint: disable=wrong-import-position
from nat_tf import quiet

quiet.start()  # first: TensorFlow reads its log level as it loads

import io
import os
import time

from absl import flags
import gin
import numpy as np
import tensorflow as tf
from tf_agents.trajectories import time_step as ts

import nasbench201_search as search
from nat_tf import atomic
from nat_tf import cli
from nat_tf.data import nasbench201_table
from nat_tf.errors import UsageError
from nat_tf.rl import ground_truth_environment
from nat_tf.search import runs
from nat_tf.space import action_spaces
from nat_tf.space import nasbench201

GIN_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "gin",
                        "nasbench201.gin")

flags.DEFINE_string("table", None, "NAS-Bench-201's accuracy table (CSV arch,cifar10,...).")
flags.DEFINE_string("output_dir", None, "Folder for the runs, report.json, report.md and the plot.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "GroundTruthSetup.seed of each policy; also the "
                  "seeds of the random searches.")
flags.DEFINE_enum("action_space", "nat", ["nat", "natpp"], "GroundTruthSetup.action_space.")
flags.DEFINE_enum("train_dataset", "cifar10", list(nasbench201_table.DATASETS),
                  "The table column the policies are trained on.")
flags.DEFINE_integer("inputs", 0, "Held-out input cells to evaluate, drawn by a fixed seed "
                     "(0: every one; fewer only for a quick check).")
flags.DEFINE_multi_string("bindings", [], "Extra gin bindings for every training run, e.g. "
                          "\"train_ground_truth.epochs = 1\".")
FLAGS = flags.FLAGS

QUERY_FREE = ("input", "NAT greedy", "skip everywhere", "no pooling")
SEARCHES = ("NAT best of K", "random search", "hill-climbing")
SEEDED = ("NAT greedy",) + SEARCHES  # the methods whose result depends on the seed
ORACLE = "oracle"
METHODS = QUERY_FREE + (ORACLE,) + SEARCHES  # the tables' order
BEST = "best 10%"
SUBSETS = ("all", BEST)
# What a reader needs to know of how the policies were trained (gin/nasbench201.gin binds them).
TRAINING = ("train_ground_truth.epochs", "train_ground_truth.steps_per_epoch",
            "make_agent.learning_rate")
STATS = ("accuracy_change", "improved", "unchanged", "worse", "madds_change", "oracle_share",
         "cells_read")


def training_bindings(seed):
  """gin/nasbench201.gin's run for `seed` as the flags ask; the halves bound to
  halves(0)'s, whose second half is evaluated here, and no held-out evaluation in the run,
  which this report does on every held-out cell itself."""
  return [f"GroundTruthSetup.table_path = '{FLAGS.table}'",
          f"GroundTruthSetup.dataset = '{FLAGS.train_dataset}'",
          f"GroundTruthSetup.action_space = '{FLAGS.action_space}'",
          "GroundTruthSetup.split_seed = 0", f"GroundTruthSetup.seed = {seed}",
          "train_ground_truth.evaluate_cells = 0", *FLAGS.bindings]


def load_run(folder, held_out):
  """(The GroundTruthSetup of the run in `folder` at its last checkpoint, its TRAINING
  parameters), checked to be trained as this report asks (a reused folder may hold
  another kind of run)."""
  gin.clear_config()
  setup, _ = runs.load(folder, [f"GroundTruthSetup.table_path = '{FLAGS.table}'"],
                       ground_truth_ok=True)
  training = {name: gin.query_parameter(name) for name in TRAINING}
  gin.clear_config()
  if (setup.dataset, setup.action_space.kind) != (FLAGS.train_dataset, FLAGS.action_space) or (
      not np.isin(held_out, setup.held_out_rows).all()):
    raise UsageError(f"{folder} holds a run on {setup.dataset} with action space "
                     f"{setup.action_space.kind!r} (or other halves), not what --train_dataset "
                     "and --action_space ask; give another --output_dir")
  return setup, training


def proposals(setup, reach, seed):
  """The cells proposed for the inputs, whatever the dataset: {'NAT greedy': rows [n],
  'NAT best of K' and 'random search': rows [n, max(KS)]}, the collect policy's samples
  and the uniform draws seeded by `seed`; the policy runs once on all inputs."""
  architectures = ground_truth_environment.architectures_of_rows(tf.constant(reach.rows,
                                                                             tf.int32))
  time_step = ts.restart(setup.editor.observe(architectures), len(reach))
  greedy = setup.agent.policy.action(time_step).action.numpy()[:, 0]
  sampled = setup.agent.collect_policy.distribution(time_step).action.sample(
      max(search.KS), seed=tf.constant([seed, 1])).numpy()[:, :, 0]
  drawn = search.uniform_actions(reach, max(search.KS), np.random.default_rng(seed))
  return {"NAT greedy": reach.rows_of(greedy),
          "NAT best of K": reach.rows_of(np.moveaxis(sampled, 0, 1)),
          "random search": reach.rows_of(drawn)}


def outcomes(reach, accuracy, proposed, seed):
  """{(method, k): (kept rows [n], distinct cells read [n])} on one table column, from the
  seed's `proposals`, hill-climbing seeded by `seed` (k = 0: no query)."""
  none = np.zeros(len(reach), np.int64)
  kept = {("input", 0): (reach.rows, none), ("NAT greedy", 0): (proposed["NAT greedy"], none)}
  kept.update({(name, 0): (rows, none) for name, rows in search.heuristics(reach).items()})
  for name in ("NAT best of K", "random search"):
    for k, rows in search.best_of(reach, proposed[name], accuracy).items():
      kept[name, k] = rows, search.distinct_new(reach, proposed[name][:, :k])
  climbed = search.hill_climb(reach, accuracy, np.random.default_rng(seed))
  kept.update({("hill-climbing", k): result for k, result in climbed.items()})
  return kept


def summary(accuracy, madds, inputs, kept, read, oracle_gain):
  """STATS of one method on some inputs (arrays over those inputs)."""
  change = accuracy[kept] - accuracy[inputs]
  gains = oracle_gain > 0
  return {"accuracy_change": change.mean(), "improved": np.mean(change > 0),
          "unchanged": np.mean(change == 0), "worse": np.mean(change < 0),
          "madds_change": np.mean(madds[kept] / madds[inputs] - 1),
          "oracle_share": change[gains].sum() / oracle_gain[gains].sum(),
          "cells_read": read.mean()}


def over_seeds(per_seed):
  """{mean, sd (sample; None for one seed), seeds} of a list of summaries."""
  values = {stat: np.array([s[stat] for s in per_seed], float) for stat in STATS}
  return {"mean": {stat: float(v.mean()) for stat, v in values.items()},
          "sd": {stat: float(v.std(ddof=1)) if len(v) > 1 else None
                 for stat, v in values.items()},
          "per_seed": [{stat: float(s[stat]) for stat in STATS} for s in per_seed]}


def subsets(accuracy, rows):
  """{subset: [n] bool} of the inputs `rows`: all, and the best tenth by their accuracy."""
  top = np.zeros(len(rows), bool)
  top[np.argsort(-accuracy[rows], kind="stable")[:len(rows) // 10]] = True
  return {"all": np.ones(len(rows), bool), BEST: top}


def dataset_results(reach, accuracy, proposed):
  """{subset: {method: {k: over_seeds}}} on one table column; `proposed`: {seed: proposals}."""
  madds = search.network_madds()
  oracle = search.oracle(reach, accuracy)
  oracle_gain = accuracy[oracle] - accuracy[reach.rows]
  masks = subsets(accuracy, reach.rows)
  per_seed = {}
  for seed, seed_proposed in proposed.items():
    kept = outcomes(reach, accuracy, seed_proposed, seed)
    kept[ORACLE, "all"] = oracle, reach.candidates() - 1
    for key, (rows, read) in kept.items():
      for subset, where in masks.items():
        per_seed.setdefault((subset, *key), []).append(summary(
            accuracy, madds, reach.rows[where], rows[where], read[where], oracle_gain[where]))
  results = {subset: {} for subset in SUBSETS}
  for (subset, method, k), summaries in per_seed.items():
    results[subset].setdefault(method, {})[str(k)] = over_seeds(summaries)
  return results


def noise_note(reach, accuracy, proposed, seed):
  """How much of a gain read from the table may be its noise: the table's noise (the
  spread among cells computing the same function), the oracle's gain among such cells
  only, and per search a simulation of its bias (search.optimism) at that noise, from
  the seed's `proposals`; on all inputs and the best 10%."""
  classes = search.equivalence_classes()
  masks = subsets(accuracy, reach.rows)
  floors = {"all": -np.inf, BEST: accuracy[reach.rows][masks[BEST]].min()}
  picks = {ORACLE: lambda noisy: search.oracle(reach, noisy)}
  for name in ("NAT best of K", "random search"):
    picks[name] = lambda noisy, name=name: search.keep_best(reach.rows, proposed[name], noisy)
  picks["hill-climbing"] = lambda noisy: search.hill_climb(
      reach, noisy, np.random.default_rng(seed))[max(search.KS)][0]
  gain = accuracy[search.oracle(reach, accuracy)] - accuracy[reach.rows]
  equal = accuracy[search.oracle(reach, accuracy, among=classes)] - accuracy[reach.rows]
  candidates = reach.candidates()
  note = {"candidates": {"mean": float(candidates.mean()), "median": float(np.median(candidates)),
                         "max": int(candidates.max())},
          "floor": float(floors[BEST]), "seed": seed}
  sigma, rng = search.noise_by_level(accuracy, classes), np.random.default_rng(seed)
  optimism = {name: search.optimism(reach, accuracy, sigma, rng, pick)
              for name, pick in picks.items()}
  for subset, where in masks.items():
    noise, cells = search.noise_sd(accuracy, classes, floors[subset])
    note[subset] = {"noise_sd": noise, "cells_with_equivalents": cells,
                    "oracle_gain": float(gain[where].mean()),
                    "equivalent_only_gain": float(equal[where].mean()),
                    "optimism": {name: float(values[where].mean())
                                 for name, values in optimism.items()}}
  return note


def greedy_edges(reach, proposed):
  """[op before, op after]: the share of the inputs' edges holding an op that the greedy
  policy turns into each op, mean over the seeds' policies (`proposed`: {seed: proposals})."""
  shares = []
  for seed_proposed in proposed.values():
    after = nasbench201.from_index(seed_proposed["NAT greedy"])
    counts = np.zeros((search.NUM_OPS, search.NUM_OPS))
    np.add.at(counts, (reach.op_ids.ravel(), after.ravel()), 1)
    shares.append(counts / counts.sum(1, keepdims=True))
  return np.mean(shares, axis=0).tolist()


def shown(entry, stat, seeded):
  """One table cell: the mean (and the SD over seeds where the method is seeded)."""
  mean, sd = entry["mean"][stat], entry["sd"][stat]
  scale, unit, digits = {"accuracy_change": (1, "", 2), "cells_read": (1, "", 1)}.get(
      stat, (100, "%", 1))
  text = f"{scale * mean:+.{digits}f}" if stat.endswith("change") else f"{scale * mean:.{digits}f}"
  if seeded and sd is not None:
    text += f" ± {scale * sd:.{digits}f}"
  return text + unit


def headline(results, subset):
  """Rows methods, columns K: the mean accuracy change in points."""
  lines = [f"Accuracy change (points), {subset} held-out inputs:", "",
           "| method | no query / exhaustive | K=1 | K=10 | K=50 |", "|---|---|---|---|---|"]
  for method in METHODS:
    by_k = results[subset][method]
    columns = [by_k.get("0", by_k.get("all"))] + [by_k.get(str(k)) for k in search.KS]
    cells = [shown(entry, "accuracy_change", method in SEEDED) if entry else ""
             for entry in columns]
    lines.append(f"| {method} | {' | '.join(cells)} |")
  return lines


def details(results, subset):
  """Rows (method, K), columns STATS."""
  lines = [f"Every statistic, {subset} held-out inputs:", "",
           "| method | K | " + " | ".join(STATS) + " |", "|---|---|" + "---|" * len(STATS)]
  for method, k in [(method, k) for method in METHODS for k in results[subset][method]]:
    entry = results[subset][method][k]
    cells = " | ".join(shown(entry, stat, method in SEEDED) for stat in STATS)
    lines.append(f"| {method} | {'-' if k == '0' else k} | {cells} |")
  return lines


def note_lines(note):
  """The noise note of one dataset (noise_note): a paragraph and a table."""
  candidates = note["candidates"]
  rows = [("noise SD among cells computing the same function", "noise_sd", "{:.2f}"),
          ("oracle gain", "oracle_gain", "{:+.2f}"),
          ("oracle gain among those cells only", "equivalent_only_gain", "{:+.2f}")]
  rows += [(f"simulated bias of {name}" + ("" if name == ORACLE else f", K={max(search.KS)}"),
            ("optimism", name), "{:.2f}") for name in note["all"]["optimism"]]
  lines = [
      f"How much of a gain may be the table's noise. Each input reaches "
      f"{candidates['mean']:.0f} cells on average (median {candidates['median']:.0f}, at most "
      f"{candidates['max']}); the table holds one training run per cell, so keeping a maximum "
      "of its values overstates a gain. Cells differing only on edges whose value nothing "
      "reads compute the same function: their spread is the noise (best 10%: among those at "
      f"least as accurate as the subset's lowest input, {note['floor']:.2f}), and the oracle "
      "restricted to them 'gains' what cannot be real. The simulated bias takes the table as "
      "the truth, adds to each cell noise of the SD so measured among cells of its accuracy "
      "(8 ranges), and compares each search's gain read from the noisy table with its "
      f"picks' gain on the table (seed {note['seed']}'s proposals); likely on the low side, "
      "as the table's own noise already spreads the values it treats as true. The best 10% "
      "are picked by their own noisy values, which biases changes measured on them downward.",
      "", "| | all inputs | best 10% |", "|---|---|---|"]
  for label, key, form in rows:
    values = [note[subset][key] if isinstance(key, str) else note[subset][key[0]][key[1]]
              for subset in SUBSETS]
    lines.append(f"| {label} | " + " | ".join(form.format(value) for value in values) + " |")
  return lines + [""]


def edge_lines(shares):
  """The greedy policy's edge changes (greedy_edges) as a table."""
  names = list(nasbench201.OP_LIST)
  lines = ["NAT greedy's edge changes: the share of the held-out inputs' edges holding the row's "
           "op that it turns into the column's op (mean over seeds).", "",
           "| before \\ after | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
  lines += [f"| {name} | " + " | ".join(f"{100 * share:.1f}%" for share in row) + " |"
            for name, row in zip(names, shares)]
  return lines + [""]


def training_text(trained):
  """How the policies were trained, from each run's TRAINING parameters."""
  settings = {tuple(parameters[name] for name in TRAINING) for parameters in trained.values()}
  return "; ".join(f"{epochs} epochs of {steps} steps, learning rate {rate}"
                   for epochs, steps, rate in sorted(settings))


def markdown(report):
  config = report["config"]
  lines = ["# NAT on NAS-Bench-201: held-out input cells", "",
           f"{config['inputs']} held-out input cells; {config['action_space']} action space; "
           f"policies trained on {config['train_dataset']}, seeds {config['seeds']} "
           f"({training_text(config['runs'])}; mean ± "
           "sample SD over seeds for the seeded methods; the random searches use the same "
           "seeds). K: table queries (distinct cells read other than the input: cells_read). "
           "Shares in % of inputs; madds_change: relative change of the network's "
           "multiply-adds; oracle_share: the sum of the method's gains over the sum of the "
           "oracle's, on the inputs the oracle improves.", ""]
  lines += edge_lines(report["greedy_edges"])
  for dataset, results in report["datasets"].items():
    role = "trained on" if dataset == config["train_dataset"] else "transfer"
    lines += [f"## {dataset} ({role})", ""]
    for subset in SUBSETS:
      lines += headline(results, subset) + [""]
    for subset in SUBSETS:
      lines += details(results, subset) + [""]
    lines += note_lines(report["noise_notes"][dataset])
  return "\n".join(lines)


def plot_png(report):
  """nasbench201.png's bytes: on the training dataset, mean accuracy change against K for
  the searches (error bars: SD over seeds), the query-free results as lines."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
  dataset = report["config"]["train_dataset"]
  results = report["datasets"][dataset]
  figure, axes = pyplot.subplots(1, 2, figsize=(11, 4.5))
  for axis, subset in zip(axes, SUBSETS):
    for method, marker in zip(SEARCHES, "osD"):
      entries = [results[subset][method][str(k)] for k in search.KS]
      axis.errorbar(search.KS, [e["mean"]["accuracy_change"] for e in entries],
                    yerr=[e["sd"]["accuracy_change"] or 0.0 for e in entries], marker=marker,
                    capsize=3, label=method)
    for method, key, label, style, color in (
        (ORACLE, "all", "oracle (every reachable cell)", "--", "black"),
        ("NAT greedy", "0", "NAT greedy (no query)", ":", "tab:red"),
        ("input", "0", "input (unchanged)", "-", "grey")):
      axis.axhline(results[subset][method][key]["mean"]["accuracy_change"], linestyle=style,
                   color=color, label=label)
    axis.set_xscale("log")
    axis.set_xticks(search.KS, [str(k) for k in search.KS])
    axis.set_xlabel("K: table queries (trained networks) per input cell")
    axis.set_ylabel(f"mean {dataset} accuracy change (points)")
    axis.set_title(f"{subset} of the held-out input cells")
    axis.grid(alpha=0.3)
  axes[0].legend(fontsize="small")
  figure.suptitle(f"NAT on NAS-Bench-201 ({report['config']['action_space']}, trained on "
                  f"{dataset}, {len(report['config']['seeds'])} seeds)")
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png", dpi=100)
  pyplot.close(figure)
  return buffer.getvalue()


def held_out_rows():
  """The held-out half's rows, or --inputs of them drawn by a fixed seed."""
  rows = nasbench201_table.halves(0)[1]
  if 0 < FLAGS.inputs < len(rows):
    rows = np.sort(np.random.default_rng(0).choice(rows, FLAGS.inputs, replace=False))
  return rows


def main():
  table_path, output_dir = cli.required("table"), cli.required("output_dir")
  seeds = [int(seed) for seed in FLAGS.seeds]
  if not seeds:
    raise UsageError("--seeds is empty; give at least one, e.g. --seeds=0,1,2")
  start = time.time()
  table = nasbench201_table.load(table_path)
  reach = search.Reach(action_spaces.action_space(FLAGS.action_space, nasbench201.OP_LIST.name),
                       held_out_rows())
  proposed, trained = {}, {}
  for seed in seeds:
    folder = os.path.join(output_dir, "runs", f"seed_{seed}")
    seconds = runs.train_unless_finished(folder, [GIN_FILE], training_bindings(seed))
    setup, trained[seed] = load_run(folder, reach.rows)
    trained[seed]["train_seconds"] = seconds
    proposed[seed] = proposals(setup, reach, seed)
    how = f"trained in {seconds:.0f} s" if seconds else "reused"
    print(f"seed {seed}: policy {folder} {how}", flush=True)
  report = {"config": {"table": table_path, "action_space": FLAGS.action_space,
                       "train_dataset": FLAGS.train_dataset, "seeds": seeds,
                       "inputs": len(reach), "ks": list(search.KS),
                       "runs": trained},
            "greedy_edges": greedy_edges(reach, proposed), "datasets": {}, "noise_notes": {}}
  for dataset in nasbench201_table.DATASETS:
    accuracy = table.accuracy[:, nasbench201_table.dataset_column(dataset)]
    report["datasets"][dataset] = dataset_results(reach, accuracy, proposed)
    report["noise_notes"][dataset] = noise_note(reach, accuracy, proposed[seeds[0]], seeds[0])
    print(f"{dataset}: evaluated, {time.time() - start:.0f} s so far", flush=True)
  report["config"]["wall_seconds"] = time.time() - start
  text = markdown(report)
  atomic.write_json(os.path.join(output_dir, "report.json"), report)
  atomic.write_text(os.path.join(output_dir, "report.md"), text)
  atomic.write_bytes(os.path.join(output_dir, "nasbench201.png"), plot_png(report))
  print(text)
  print(f"{time.time() - start:.0f} s; {output_dir}/report.json, report.md, nasbench201.png")


if __name__ == "__main__":
  cli.run(main)
