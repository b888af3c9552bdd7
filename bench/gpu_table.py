"""The bench on this machine's accelerator in float32, bfloat16 mixed precision and float32
with XLA, as one table (bench/gpu_check.sh runs it after the GPU tests).

    python bench/gpu_table.py [--batch_size=64] [--steps=10] [--gin_bindings=...]

Each variant runs bench/steps.py's parts in their own processes, as bench/run_all.py does;
XLA is TensorFlow's auto-clustering (TF_XLA_FLAGS), which compiles the traced steps on a
GPU. On a machine without one (the CI dry run) the same table comes from the CPU, and the
XLA column is then float32 again: auto-clustering leaves CPU graphs alone.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import tensorflow as tf  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position
import measure  # pylint: disable=wrong-import-position
import run_all  # pylint: disable=wrong-import-position

VARIANTS = {  # column -> (gin bindings, environment variables)
    "float32": ([], {}),
    "bfloat16 mixed": (["Supernet.compute_dtype = 'bfloat16'"], {}),
    "float32 XLA": ([], {"TF_XLA_FLAGS": "--tf_xla_auto_jit=2"}),
}


def device_description():
  """The GPUs TensorFlow sees, by name, or the CPU when it sees none."""
  gpus = tf.config.list_physical_devices("GPU")
  if not gpus:
    return f"no GPU; CPU {machine.cpu_description()}"
  names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
  return "GPU " + ", ".join(names)


def table(columns):
  """Markdown: one row per bench figure, one column per variant."""
  lines = ["| metric | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
  for key, label, fmt in run_all.ROWS:
    cells = [fmt.format(figures[key]) if key in figures else "" for figures in columns.values()]
    lines.append(f"| {label} | " + " | ".join(cells) + " |")
  return "\n".join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--steps", type=int, default=10)
  parser.add_argument("--gin_bindings", action="append", default=[])
  args = parser.parse_args()
  ceiling = measure.matmul_ceiling()
  columns = {name: run_all.column(args.batch_size, args.steps, args.gin_bindings + bindings,
                                  ceiling, env)
             for name, (bindings, env) in VARIANTS.items()}
  print(table(columns))
  print(f"\ndevice: {device_description()}; batch {args.batch_size}; steps per measure "
        f"{args.steps}; float32 matmul ceiling {2 * ceiling / 1e9:.0f} GFLOP/s; gin bindings "
        f"{args.gin_bindings or 'none'}")


if __name__ == "__main__":
  main()
