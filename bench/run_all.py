"""Every benchmark at the reference configuration, batch 64 and 256, as one table.

    python bench/run_all.py [--steps=20] [--batch_sizes=64,256] [--gin_bindings=...]

Each (part, batch size) runs in its own process (bench/steps.py) so each peak memory
is its own; this process measures the float32 matrix-product ceiling the achieved
multiply-adds per second are a share of. The PyTorch column is the original
implementation on a 2-core AMD EPYC (issue 8); load on the machine skews every
number, so the load average is printed with the table.
"""

import argparse
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import measure  # pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
PYTORCH = {  # batch size -> the reference's figures (median step seconds; one process's peak GB)
    64: {"weight_step_s": 1.38, "policy_step_s": 0.85, "scored_per_s_1": 1 / 0.38,
         "peak_rss_weights_gb": 2.6, "peak_rss_policy_gb": 2.6},
    256: {"weight_step_s": 6.4, "policy_step_s": 4.8, "scored_per_s_1": 1 / 1.5,
          "peak_rss_weights_gb": 8.4, "peak_rss_policy_gb": 8.4},
}
ROWS = [  # (key, label, format)
    ("weight_step_s", "weight step (s, median)", "{:.3f}"),
    ("images_per_s", "weight step images/s", "{:.0f}"),
    ("policy_step_s", "policy step (s, median)", "{:.3f}"),
    ("scored_per_s_1", "architectures scored/s, one per call", "{:.2f}"),
    ("scored_per_s_8", "architectures scored/s, 8 per call", "{:.2f}"),
    ("update_s", "policy update alone (s)", "{:.4f}"),
    ("peak_rss_weights_gb", "peak memory, weight-step process (GB)", "{:.2f}"),
    ("peak_rss_policy_gb", "peak memory, policy process (GB)", "{:.2f}"),
    ("traces_after_warmup", "traces after warm-up", "{:d}"),
    ("weight_share", "weight step multiply-adds/s, share of ceiling", "{:.1%}"),
    ("policy_share", "policy step multiply-adds/s, share of ceiling", "{:.1%}"),
    ("first_weight_step_s", "first weight step, with tracing (s)", "{:.1f}"),
]


def run_part(part, batch_size, steps, bindings):
  command = [sys.executable, os.path.join(HERE, "steps.py"), f"--part={part}",
             f"--batch_size={batch_size}", f"--steps={steps}"]
  command += [f"--gin_bindings={b}" for b in bindings]
  done = subprocess.run(command, capture_output=True, text=True, check=False)
  if done.returncode:
    sys.exit(f"bench part {part} at batch {batch_size} failed:\n{done.stderr[-3000:]}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def column(batch_size, steps, bindings, ceiling):
  weights = run_part("weights", batch_size, steps, bindings)
  policy = run_part("policy", batch_size, steps, bindings)
  merged = {**weights, **policy}
  merged["peak_rss_weights_gb"] = weights["peak_rss_gb"]
  merged["peak_rss_policy_gb"] = policy["peak_rss_gb"]
  merged["traces_after_warmup"] = (weights["weight_traces_after_warmup"]
                                   + policy["policy_traces_after_warmup"])
  merged["weight_share"] = weights["weight_madds_per_s"] / ceiling
  merged["policy_share"] = policy["policy_madds_per_s"] / ceiling
  return merged


def table(results):
  """Markdown: ours and PyTorch's per batch size, and the speed-up where both exist."""
  header = ["metric"]
  for batch_size in results:
    header += [f"batch {batch_size}", "PyTorch", "speed-up"]
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for key, label, fmt in ROWS:
    cells = [label]
    for batch_size, ours in results.items():
      reference = PYTORCH.get(batch_size, {}).get(key)
      cells.append(fmt.format(ours[key]) if key in ours else "")
      cells.append(fmt.format(reference) if reference is not None else "")
      cells.append(_speedup(key, ours.get(key), reference))
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def _speedup(key, ours, reference):
  if ours is None or reference is None or key.startswith("peak"):
    return ""
  faster = reference / ours if key.endswith("_s") else ours / reference
  return f"{faster:.2f}x"


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--batch_sizes", default="64,256")
  parser.add_argument("--gin_bindings", action="append", default=[])
  args = parser.parse_args()
  load_before = os.getloadavg()[0]
  ceiling = measure.matmul_ceiling()
  results = {int(b): column(int(b), args.steps, args.gin_bindings, ceiling)
             for b in args.batch_sizes.split(",")}
  print(table(results))
  print(f"\nceiling: float32 matmul {2 * ceiling / 1e9:.0f} GFLOP/s; 1-minute load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after; steps per measure "
        f"{args.steps}; gin bindings {args.gin_bindings or 'none'}")


if __name__ == "__main__":
  main()
