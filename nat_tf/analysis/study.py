"""The claim measured end to end: inputs and their transformations trained from scratch.

bin/compare answers "does NAT beat random search?" with the supernet's held-out
accuracy, the number the search itself optimised; a paper reports the test accuracy
of the network trained from scratch, which moves from seed to seed. So for each input
and seed the study takes what every method keeps (`compare.kept_by_method`: the input,
NAT, random search with as many supernet evaluations and the same Selection, the
heuristics), trains each distinct architecture once per seed with the train_final
protocol (`train_final.seed` = the seed), and reports per method the test top-1 (mean,
sample std, per seed), its paired difference from the input on the same seeds with its
95% confidence interval, the cost of the network actually trained, the changed edges,
and the held-out supernet accuracy with its exact McNemar test against the input.

Each method gets a verdict against the input (over_seeds.verdict): non-inferior,
inferior or inconclusive at MARGIN, fixed here before any run, with how many seeds
its measured spread would need to resolve that margin. An input that trains below
its dataset's floor (INPUT_FLOORS) on some seed is reported as broken instead: a
transformation that repairs a broken input is not the claim, so no method gets a
verdict on it.

`output_dir` holds:
  plan.json    what to train: the request, and per input, method and seed the kept
               architecture with its held-out scores; written once, so a rerun trains
               exactly what was planned without reopening the search run;
  trainings/<architecture>-seed<seed>/   one train_final run folder per training
               (config.gin, checkpoints, TensorBoard summaries, report.json), shared by
               every method and input that kept that architecture;
  study.json, study.md, study.png   the results, written when every training is done.
A training with report.json is finished; any other resumes from its checkpoint, so a
rerun after an interruption trains only what is unfinished. A study holds `output_dir`'s
lock (run_folder.py) while it plans and trains: a second one on the folder stops at once.
"""

import hashlib
import io
import json
import os

from absl import logging
import gin

from nat_tf import atomic
from nat_tf import progress as progress_lib
from nat_tf import run_config
from nat_tf import run_folder
from nat_tf.analysis import compare
from nat_tf.analysis import derive
from nat_tf.analysis import over_seeds
from nat_tf.data import datasets
from nat_tf.errors import UsageError
from nat_tf.evaluate import train_final
from nat_tf.search import runs
from nat_tf.space import genotype_format

PLAN_FILE, REPORT_FILE = "plan.json", train_final.REPORT_FILE
TRAININGS_DIR = "trainings"
OUTPUTS = (PLAN_FILE, TRAININGS_DIR, "study.json", "study.md", "study.png")
# The protocol of a run on bundled data: mnist5k's 1,000 test images can tell trained
# networks apart where digits' 297 cannot.
# Non-inferiority margin of test top-1 (0.5 points), fixed before any run.
MARGIN = 0.005
# Test top-1 below which an input has not trained as its class should on that dataset:
# a linear classifier reaches about 0.92 on MNIST, small convolutional networks 0.97 and
# more on mnist5k's 1,000 test images. Datasets without a floor are not checked.
INPUT_FLOORS = {"mnist5k": 0.97}
BUNDLED_PROTOCOL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "gin", "train_final_mnist5k.gin")


def architecture_key(genotype):
  """A short stable name of a genotype: the folder name of its trainings."""
  return hashlib.sha1(genotype_format.to_json(genotype).encode("utf-8")).hexdigest()[:12]


def training_dir(output_dir, key, seed):
  return os.path.join(output_dir, TRAININGS_DIR, f"{key}-seed{seed}")


def check_output_dir(output_dir, outputs=OUTPUTS):
  """Refuse a folder that holds anything but a study's `outputs`: a mistyped --output_dir
  must not get a study mixed into a user's files. Hidden names (an interrupted atomic
  write's temporary file) are ignored."""
  if not os.path.exists(output_dir):
    return
  if not os.path.isdir(output_dir):
    raise UsageError(f"--output_dir={output_dir!r} is a file; give a folder")
  foreign = sorted(name for name in set(os.listdir(output_dir)) - set(outputs)
                   if not name.startswith("."))
  if foreign:
    raise UsageError(f"--output_dir={output_dir!r} holds files that are not a study's "
                     f"({', '.join(foreign[:5])}); give a new or empty folder, or a study's "
                     "folder to resume it")


def request(run_dir, inputs, seeds, gin_files, bindings, policy_dir, rules=()):
  """What the user asked for, as plan.json records it (a rerun must ask the same)."""
  unknown = [rule for rule in rules if rule not in derive.RULES]
  if unknown:
    raise UsageError(f"--rules={','.join(rules)}: {unknown[0]!r} is not one of "
                     f"{list(derive.RULES)}")
  return {"run_dir": os.path.abspath(run_dir), "rules": list(rules),
          "policy_dir": policy_dir and os.path.abspath(policy_dir),
          "inputs": {name: genotype_format.to_literal(g) for name, g in inputs.items()},
          "seeds": list(seeds), "gin_files": [os.path.abspath(path) for path in gin_files],
          "bindings": list(bindings)}


def protocol_files(gin_files, dataset):
  """The train_final gin files: those given, else the bundled protocol for a run on
  bundled data; a UsageError for a run on other data without them."""
  if gin_files:
    return [os.path.abspath(path) for path in gin_files]
  if dataset in datasets.BUNDLED:
    return [BUNDLED_PROTOCOL]
  raise UsageError(f"the run searched on {dataset!r}, which has no bundled protocol: give the "
                   "train_final protocol, e.g. --gin_file=gin/train_final_cifar10.gin")


def make_plan(asked, inputs):
  """plan.json's content for the request `asked` on `inputs` ({name: genotype}): per
  input, what each method keeps per seed (compare's search and selection), every
  distinct architecture, the protocol and the run's data dir."""
  gin.clear_config()
  try:
    search, _ = runs.load(asked["run_dir"], asked["bindings"])
    policies = derive.run_policies(search, asked["policy_dir"])
    plans = [_input_plan(name, compare.kept_by_method(search, genotype, policies,
                                                      asked["seeds"], asked["rules"]))
             for name, genotype in inputs.items()]
    trained_by = protocol(search, asked["gin_files"], asked["bindings"])
  finally:
    gin.clear_config()
  architectures = {}
  for entry in plans:
    architectures.update(entry.pop("genotypes"))
  return {"request": asked, "inputs": plans, "architectures": architectures,
          "protocol": trained_by}


def protocol(search, gin_files, bindings):
  """How a plan's trainings train: the train_final gin files (protocol_files), the user's
  bindings and the search run's data dir (None: TFDS's default). Called while the run's
  gin config is parsed."""
  return {"gin_files": protocol_files(gin_files, search.info.name), "bindings": list(bindings),
          "data_dir": run_config.bound_or_none("SearchSetup.data_dir")}


def _input_plan(name, kept):
  """One input's part of the plan (with a 'genotypes' {key: dict} for the plan to merge)."""
  genotypes, methods = {}, []
  for method, candidates in kept.by_method.items():
    per_seed = []
    for seed, candidate in zip(kept.seeds, candidates):
      key = architecture_key(candidate.genotype)
      genotypes[key] = genotype_format.to_dict(candidate.genotype)
      per_seed.append({
          "seed": seed, "architecture": key, "holdout_accuracy": candidate.accuracy,
          "versus_input": derive.versus_input(kept.original, candidate).as_dict(),
          "changed_edges": derive.changed_edges(kept.original.genotype, candidate.genotype)})
    methods.append({"method": method, "per_seed": per_seed})
  return {"name": name, "genotype": genotype_format.to_literal(kept.original.genotype),
          "holdout_examples": kept.holdout_examples, "selection": kept.selection,
          "evaluations_per_seed": kept.evaluations_per_seed,
          "random_rejected": kept.random_rejected, "methods": methods, "genotypes": genotypes}


def load_or_make_plan(output_dir, asked, make):
  """The plan of an earlier run of this study in `output_dir`, or a new one made by
  make(), saved."""
  path = os.path.join(output_dir, PLAN_FILE)
  if os.path.isfile(path):
    plan = read_json(path)
    if plan["request"] != asked:
      differing = sorted(key for key in asked if plan["request"].get(key) != asked[key])
      raise UsageError(f"--output_dir={output_dir!r} holds a study of another request "
                       f"(different {', '.join(differing)}); rerun with the same flags to "
                       "resume it, or give a new --output_dir")
    return plan
  plan = make()
  atomic.write_json(path, plan)
  return plan


# The keys a study reads from each file it finds in its folder, and what to do about one
# that lacks them (both are written atomically, so only something else damages them).
EXPECTED = {
    PLAN_FILE: (("request", "inputs", "architectures", "protocol"),
                "delete it to plan the study again"),
    REPORT_FILE: (("top1", "cost", "dataset", "test_examples"),
                  "delete its training folder to train it again"),
}


def read_json(path):
  """The object in `path`, a study's plan.json or a training's report.json; a UsageError
  naming the file and the fix when it cannot be read or lacks what the study reads."""
  keys, fix = EXPECTED[os.path.basename(path)]
  try:
    with open(path, encoding="utf-8") as handle:
      data = json.load(handle)
  except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
    raise UsageError(f"{path} cannot be read ({error}); {fix}") from None
  missing = [key for key in keys if not isinstance(data, dict) or key not in data]
  if missing:
    raise UsageError(f"{path} is damaged: it lacks {', '.join(missing)}; {fix}")
  return data


def trainings(plan):
  """[(seed, architecture key)] of every distinct training, seed by seed in plan order,
  so an interrupted study has whole seeds done first."""
  ordered = []
  for seed in plan["request"]["seeds"]:
    for entry in plan["inputs"]:
      for method in entry["methods"]:
        for step in method["per_seed"]:
          if step["seed"] == seed and (seed, step["architecture"]) not in ordered:
            ordered.append((seed, step["architecture"]))
  return ordered


def protocol_bindings(protocol, seed):
  """The gin bindings of one training: the run's data dir (overridable), the user's
  bindings, then the seed."""
  data_dir = [f"train_final.data_dir = {protocol['data_dir']!r}"] if protocol["data_dir"] else []
  return data_dir + protocol["bindings"] + [f"train_final.seed = {seed}"]


def train_one(folder, genotype, protocol, seed):
  """train_final of `genotype` in `folder` under the protocol and `seed`, with its gin
  config saved as bin/train_final saves it; the report dict. Gin is cleared after."""
  gin.clear_config()
  try:
    run_config.add_search_paths(protocol["gin_files"])
    gin.parse_config_files_and_bindings(protocol["gin_files"], protocol_bindings(protocol, seed))
    # Held as bin/train_final holds its folder: a bin/train_final started on the same
    # training folder meanwhile stops at once, and this one if that one came first.
    with run_folder.locked(folder, "training"):
      run_config.write_config(folder)
      report = train_final.train_final(folder, genotype)
      run_config.write_operative_config(folder)
    return report
  finally:
    gin.clear_config()


def run_trainings(plan, output_dir):
  """{(seed, key): report} of every training of the plan, training what is unfinished;
  one progress line (trainings done, rate, time left) after each."""
  todo = trainings(plan)
  reports = {}
  for seed, key in todo:
    path = os.path.join(training_dir(output_dir, key, seed), REPORT_FILE)
    if os.path.isfile(path):
      reports[seed, key] = read_json(path)
  logging.info("study: %d of %d trainings already finished", len(reports), len(todo))
  progress = progress_lib.Progress({"training": len(todo)}, {"training": len(reports)}, untimed=0)
  for seed, key in todo:
    if (seed, key) in reports:
      continue
    folder = training_dir(output_dir, key, seed)
    logging.info("study: training %s (%s) with seed %d in %s", key,
                 ", ".join(_users(plan, key)), seed, folder)
    genotype = genotype_format.from_json(json.dumps(plan["architectures"][key]))
    reports[seed, key] = train_one(folder, genotype, plan["protocol"], seed)
    progress.advance("training")
    logging.info("study: %d/%d trainings finished, %.1f min per training, %s",
                 progress.steps_done, progress.total, 1 / progress.rate("training") / 60,
                 progress.eta())
  return reports


def _users(plan, key):
  """'input: method' of every method that kept architecture `key`, for log lines."""
  return sorted({f"{entry['name']}: {method['method']}" for entry in plan["inputs"]
                 for method in entry["methods"] for step in method["per_seed"]
                 if step["architecture"] == key})


def results(plan, reports):
  """study.json's content: per input, one row per method over the seeds."""
  seeds = plan["request"]["seeds"]
  inputs = []
  for entry in plan["inputs"]:
    by_method = {method["method"]: method["per_seed"] for method in entry["methods"]}
    input_top1 = [reports[step["seed"], step["architecture"]]["top1"]
                  for step in by_method["input"]]
    some_report = reports[seeds[0], by_method["input"][0]["architecture"]]
    floor = INPUT_FLOORS.get(some_report["dataset"])
    broken = floor is not None and min(input_top1) < floor
    rows = [_result_row(method, per_seed, reports, input_top1)
            for method, per_seed in by_method.items()]
    for row in rows[1:]:
      row["verdict"] = "input broken" if broken else over_seeds.verdict(row["top1_minus_input"],
                                                                          MARGIN)
    inputs.append({
        "name": entry["name"], "genotype": entry["genotype"],
        "dataset": some_report["dataset"], "test_examples": some_report["test_examples"],
        "holdout_examples": entry["holdout_examples"], "selection": entry["selection"],
        "evaluations_per_seed": entry["evaluations_per_seed"],
        "random_rejected": entry.get("random_rejected"),  # None: a plan made before the check
        "input_floor": floor, "input_broken": broken, "rows": rows})
  return {"seeds": seeds, "run_dir": plan["request"]["run_dir"], "protocol": plan["protocol"],
          "trainings": len(trainings(plan)), "margin": MARGIN, "inputs": inputs}


def _result_row(method, per_seed, reports, input_top1):
  trained = [reports[step["seed"], step["architecture"]] for step in per_seed]
  top1 = [report["top1"] for report in trained]
  differences = over_seeds.spread([a - b for a, b in zip(top1, input_top1)])
  return {"method": method, "architectures": [step["architecture"] for step in per_seed],
          "top1": over_seeds.spread(top1), "top1_minus_input": differences,
          "seeds_to_resolve": over_seeds.seeds_to_resolve(differences["std"], MARGIN),
          "params": over_seeds.spread([report["cost"]["params"] for report in trained]),
          "madds": over_seeds.spread([report["cost"]["madds"] for report in trained]),
          "changed_edges": over_seeds.spread([step["changed_edges"] for step in per_seed]),
          "holdout_accuracy": over_seeds.spread([step["holdout_accuracy"] for step in per_seed]),
          "versus_input": [step["versus_input"] for step in per_seed]}


# (key, title, scale, format) of study.md's numeric columns, each shown as mean ± std.
COLUMNS = (("top1", "test top-1", 1, ".4f"), ("top1_minus_input", "minus input", 1, "+.4f"),
           ("params", "params", 1, ",.0f"), ("madds", "multiply-adds (M)", 1e6, ".2f"),
           ("changed_edges", "changed edges", 1, ".1f"),
           ("holdout_accuracy", "held-out supernet accuracy", 1, ".4f"))


def markdown(study):
  """study.md: one table per input, with the lines that say how it was made."""
  protocol = study["protocol"]
  lines = [f"# Study: trained from scratch over seeds {study['seeds']}", "",
           f"Protocol: {', '.join(os.path.basename(f) for f in protocol['gin_files'])}"
           + (f" with {'; '.join(protocol['bindings'])}" if protocol["bindings"] else "")
           + f"; {study['trainings']} trainings. Mean ± sample std over the seeds; "
           "'minus input' is the paired difference from the input trained on the same seed; "
           "cost is counted on the network trained; 'versus input' compares the held-out "
           "supernet scores image by image (images only the input / only the kept "
           "architecture gets right, exact McNemar p), per seed.", ""]
  for entry in study["inputs"]:
    lines += [f"## {entry['name']}", "",
              f"Test top-1 on {entry['test_examples']} {entry['dataset']} test images. NAT and "
              f"random search keep one of {entry['evaluations_per_seed']} candidates per seed "
              f"by {entry['selection']} ('(rule)' rows: by that rule), scored on "
              f"{entry['holdout_examples']} held-out images. "
              + compare.rejected_sentence(entry["random_rejected"]), ""]
    lines += compare.markdown_rows(entry["rows"], COLUMNS) + [""]
    lines += verdict_lines(entry, study["margin"]) + [""]
  return "\n".join(lines)


def verdict_lines(entry, margin):
  """Per method its paired difference from the input with the 95% interval, the verdict
  at `margin` and its cost against the input's; or, for a broken input, why there is none."""
  if entry["input_broken"]:
    return [f"**Input broken**: it trained to {min(entry['rows'][0]['top1']['values']):.4f} on "
            f"some seed, below the floor of {entry['input_floor']:.2f} for {entry['dataset']}; "
            "no method is judged on it."]
  input_madds = entry["rows"][0]["madds"]["mean"]
  lines = [f"Against the input, non-inferiority margin {100 * margin:.1f} points of test top-1 "
           "(fixed before the run):", "",
           "| method | minus input, 95% interval (points) | verdict | multiply-adds / input "
           "| seeds to resolve the margin |", "|---|---|---|---|---|"]
  for row in entry["rows"][1:]:
    difference = row["top1_minus_input"]
    interval = ("one seed: none" if difference["ci95"] is None else
                "[{:+.2f}, {:+.2f}]".format(*(100 * bound for bound in difference["ci95"])))
    lines.append(f"| {row['method']} | {100 * difference['mean']:+.2f} {interval} | "
                 f"{row['verdict']} | {row['madds']['mean'] / input_madds:.2f} | "
                 f"{row['seeds_to_resolve'] or 'over 100'} |")
  return lines


def plot_png(study):
  """study.png's bytes: per input, test top-1 against multiply-adds, one marker per method
  with its spread over the seeds as error bars, the input a large gold star drawn under
  the others, so a method that kept the input shows on top of it."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
  count = len(study["inputs"])
  figure, axes = pyplot.subplots(1, count, figsize=(5.5 * count, 4.5), squeeze=False)
  markers = "osD^vP<>"
  for axis, entry in zip(axes[0], study["inputs"]):
    for index, row in enumerate(entry["rows"]):
      is_input = row["method"] == "input"
      axis.errorbar(row["madds"]["mean"] / 1e6, row["top1"]["mean"],
                    xerr=row["madds"]["std"] / 1e6, yerr=row["top1"]["std"],
                    marker="*" if is_input else markers[index % len(markers)],
                    markersize=22 if is_input else 7, color="gold" if is_input else None,
                    markeredgecolor="black" if is_input else None, ecolor="black" if is_input
                    else None, capsize=3, linestyle="none", label=row["method"],
                    zorder=2 if is_input else 3)
    axis.set_title(f"{entry['name']} ({len(study['seeds'])} seed(s), {entry['dataset']})")
    axis.set_xlabel("multiply-adds of the trained network (M)")
    axis.set_ylabel("test top-1")
    axis.grid(alpha=0.3)
    axis.legend(fontsize="small")
  figure.tight_layout()
  buffer = io.BytesIO()
  figure.savefig(buffer, format="png", dpi=100)
  pyplot.close(figure)
  return buffer.getvalue()


def study_run(run_dir, inputs, output_dir, seeds, gin_files=(), bindings=(), policy_dir=None,
              rules=()):
  """bin/study: plan (or reload the plan), train what is unfinished, write study.json,
  study.md and study.png into `output_dir`; returns the Markdown.

  `inputs`: {name: genotype}; `gin_files`: the train_final protocol (default: the bundled
  one for a run on bundled data); `bindings` apply to the search run's config and to
  every training (e.g. proposals.samples, Selection.rule, train_final.epochs); `rules`:
  extra Selection rules, each adding NAT's and random search's pick by it as rows.
  """
  if not inputs:
    raise UsageError("--genotypes is empty; give at least one, e.g. --genotypes=DARTS_V2")
  compare.check_seeds(seeds)
  check_output_dir(output_dir)
  asked = request(run_dir, inputs, seeds, gin_files, bindings, policy_dir, rules)
  # One study per folder at a time, as one bin/train per run folder: two would train the
  # same trainings at once.
  with run_folder.locked(output_dir, "--output_dir"):
    plan = load_or_make_plan(output_dir, asked, lambda: make_plan(asked, inputs))
    study = results(plan, run_trainings(plan, output_dir))
    text = markdown(study)
    atomic.write_json(os.path.join(output_dir, "study.json"), study)
    atomic.write_text(os.path.join(output_dir, "study.md"), text)
    atomic.write_bytes(os.path.join(output_dir, "study.png"), plot_png(study))
  return text
