#!/usr/bin/env python3
"""The claim on the bundled data, end to end: one search run per input family, bin/study
on each, one table and one plot over every input.

  python bench/study_report.py --data_dir=/tmp/tfds_nat --root_dir=/tmp/study4 --seeds=0,1,2

Per family of --inputs: bin/train's job with the family's quickstart gin file
(nat_tf.search.runs.QUICKSTARTS, its default seed, as the README runs it) in
<root_dir>/runs/<family>, then bin/study's job on that run for the family's inputs in
<root_dir>/studies/<family>. Then <root_dir>/study.md (every family's study.md) and
study.png (every input's panel). A rerun resumes: finished runs are not trained again
and each study trains only what it has not finished.

Every input is trained on the DARTS network of the bundled protocol (C=8, 5 cells),
hand-crafted blocks too (`build_network.network = 'darts'`): their own networks
(ResNet20, MobileNetV2) cost 6-7x as many multiply-adds per mnist5k image, which would
take the study far past the 90 minutes its size is set for (BUILD_NOTES, Study).
"""

# pylint: disable=wrong-import-position
from nat_tf import quiet

quiet.start()  # first: TensorFlow reads its log level as it loads

import json
import os
import time

from absl import flags

from nat_tf import atomic
from nat_tf import cli
from nat_tf.analysis import study
from nat_tf.errors import UsageError
from nat_tf.search import runs
from nat_tf.space import catalogue

flags.DEFINE_string("data_dir", None, "TFDS data dir of the bundled datasets (default TFDS's).")
flags.DEFINE_list("inputs", ["fully_concat:DARTS_V2", "enas:ENAS",
                             "loose_end:ResBlock+MobileNetV2"],
                  "family:input+input... per search run; families: " + ", ".join(runs.QUICKSTARTS))
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the searches and trainings of every study.")
flags.DEFINE_list("rules", [], "Extra Selection rules for every study (bin/study --rules).")
flags.DEFINE_multi_string("bindings", [], "Extra gin bindings for every study (bin/study's "
                          "--gin_bindings), after the DARTS-network one.")
FLAGS = flags.FLAGS

DARTS_NETWORK = "build_network.network = 'darts'"


def parse_inputs(values):
  """{family: [input name]} of --inputs, each family and input checked."""
  families = {}
  for value in values:
    family, _, names = value.partition(":")
    if family not in runs.QUICKSTARTS:
      raise UsageError(f"--inputs={value!r}: family {family!r} is not one of "
                           f"{list(runs.QUICKSTARTS)}")
    inputs = [name for name in names.split("+") if name]
    unfit = [name for name in inputs if name not in runs.QUICKSTARTS[family][1]]
    if not inputs or unfit:
      raise UsageError(f"--inputs={value!r}: give inputs of {family} as {family}:A+B, "
                           f"from {list(runs.QUICKSTARTS[family][1])}")
    families[family] = inputs
  return families


def main():
  root = cli.root_dir()
  seeds = [int(seed) for seed in FLAGS.seeds]
  data = [f"SearchSetup.data_dir = '{FLAGS.data_dir}'"] if FLAGS.data_dir else []
  texts, panels, start = [], [], time.time()
  for family, names in parse_inputs(FLAGS.inputs).items():
    run_dir = os.path.join(root, "runs", family)
    seconds = runs.train_unless_finished(run_dir, [runs.QUICKSTARTS[family][0]], data)
    print(f"{family}: search run {run_dir} trained in {seconds:.0f} s", flush=True)
    output_dir = os.path.join(root, "studies", family)
    texts.append(study.study_run(run_dir, {name: catalogue.get(name) for name in names},
                                 output_dir, seeds, (), [DARTS_NETWORK] + FLAGS.bindings,
                                 None, FLAGS.rules))
    with open(os.path.join(output_dir, "study.json"), encoding="utf-8") as handle:
      panels += json.load(handle)["inputs"]
    print(f"{family}: study {output_dir} done, {(time.time() - start) / 60:.1f} min so far",
          flush=True)
  text = "\n\n".join(texts)
  atomic.write_text(os.path.join(root, "study.md"), text)
  atomic.write_bytes(os.path.join(root, "study.png"),
                     study.plot_png({"seeds": seeds, "inputs": panels}))
  print(text)
  print(f"all studies: {(time.time() - start) / 60:.1f} min; {root}/study.md, study.png")


if __name__ == "__main__":
  cli.run(main)
