#!/usr/bin/env python3
"""Kendall's tau between a search run's supernet and training from scratch, on a family's
inputs and their transformations (nat_tf.analysis.fidelity).

  python bench/supernet_fidelity.py --run_dir=runs/loose_end \
      --genotypes=VGG,ResBlock,MobileNetV2 --output_dir=runs/loose_end/fidelity \
      [--samples=3] [--randoms=4] [--seed=0] [--train_seed=0] \
      [--gin_file=gin/train_final_mnist5k.gin] [--gin_bindings="build_network.network = 'darts'"]

Per input: itself, NAT's greedy and --samples sampled transformations, --randoms connected
random ones; each scored by the run's supernet on its held-out split and trained from
scratch once (seed --train_seed) under the protocol of --gin_file (default: the bundled
one for a run on bundled data), with --gin_bindings applied to the run's config and to
every training, as bin/study applies them. Prints and writes fidelity.md and
fidelity.json into --output_dir; rerun the same command to resume. With --output_dir
<run_dir>/fidelity, bin/derive on that run prints the result beside its pick.
"""

# pylint: disable=wrong-import-position
from nat_tf import quiet

quiet.start()  # first: TensorFlow reads its log level as it loads

from absl import flags

from nat_tf import cli
from nat_tf.analysis import fidelity
from nat_tf.space import catalogue

flags.DEFINE_string("run_dir", None, "Search run folder (bin/train --root_dir).")
flags.DEFINE_list("genotypes", ["VGG", "ResBlock", "MobileNetV2"],
                  "The family's inputs: catalogue names (comma-separated).")
flags.DEFINE_string("output_dir", None, "Folder of the measurement (trainings, fidelity.*).")
flags.DEFINE_integer("samples", 3, "NAT's sampled transformations per input.")
flags.DEFINE_integer("randoms", 4, "Connected random transformations per input.")
flags.DEFINE_integer("seed", 0, "Seed of the sampled and random transformations.")
flags.DEFINE_integer("train_seed", 0, "Seed of every training from scratch.")
FLAGS = flags.FLAGS


def main():
  inputs = {name: catalogue.get(name) for name in FLAGS.genotypes}
  print(fidelity.fidelity_run(cli.required("run_dir"), inputs, cli.required("output_dir"),
                              FLAGS.samples, FLAGS.randoms, FLAGS.seed, FLAGS.train_seed,
                              FLAGS.gin_file, FLAGS.gin_bindings))


if __name__ == "__main__":
  cli.run(main)
