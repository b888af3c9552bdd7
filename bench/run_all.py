"""Every benchmark at the reference configuration, batch 64 and 256, as one table.

    python bench/run_all.py [--steps=20] [--batch_sizes=64,256] [--gin_bindings=...] [--peer]

Each (part, batch size) runs in its own process (bench/steps.py) so each peak memory
is its own; this process measures the float32 matrix-product ceiling the achieved
multiply-adds per second are a share of. With --peer the original PyTorch
implementation's own step functions (../shared/peer, set up once per machine) run in
the same invocation, alternating with the project's parts (reference, ours, reference,
ours per batch size), our weight steps run the architectures the reference's drew in
the same round (a step's time depends on its architecture), and the table gives the
ratios of the medians over those rounds: speeds measured on another CPU are not
comparable, so no reference figure is printed without --peer. Load on the machine skews
every number, so the load average and the CPU are printed with the table.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import numpy as np  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position
import measure  # pylint: disable=wrong-import-position
import peer  # pylint: disable=wrong-import-position

HERE = os.path.dirname(os.path.abspath(__file__))
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


def run_part(part, batch_size, steps, bindings, env=None, flags=()):
  """bench/steps.py's figures for one part, in its own process; `env` adds variables to it,
  `flags` arguments."""
  command = [sys.executable, os.path.join(HERE, "steps.py"), f"--part={part}",
             f"--batch_size={batch_size}", f"--steps={steps}", *flags]
  command += [f"--gin_bindings={b}" for b in bindings]
  done = subprocess.run(command, capture_output=True, text=True, check=False,
                        env={**os.environ, **(env or {})})
  if done.returncode:
    sys.exit(f"bench part {part} at batch {batch_size} failed:\n{done.stderr[-3000:]}")
  return json.loads(done.stdout.strip().splitlines()[-1])


def column(batch_size, steps, bindings, ceiling, env=None, draws=None):
  """Every row's figure at one batch size: the weight and policy parts, merged. `draws`
  (bench/peer.weight_draws): the architectures the weight steps run, instead of their own."""
  if draws is None:
    weights = run_part("weights", batch_size, steps, bindings, env)
  else:
    with tempfile.TemporaryDirectory() as folder:
      path = os.path.join(folder, "architectures.json")
      with open(path, "w") as f:
        json.dump(draws, f)
      weights = run_part("weights", batch_size, steps, bindings, env, [f"--architectures={path}"])
  policy = run_part("policy", batch_size, steps, bindings, env)
  merged = {**weights, **policy}
  merged["peak_rss_weights_gb"] = weights["peak_rss_gb"]
  merged["peak_rss_policy_gb"] = policy["peak_rss_gb"]
  merged["traces_after_warmup"] = (weights["weight_traces_after_warmup"]
                                   + policy["policy_traces_after_warmup"])
  merged["weight_share"] = weights["weight_madds_per_s"] / ceiling
  merged["policy_share"] = policy["policy_madds_per_s"] / ceiling
  return merged


def side_by_side(batch_size, args, ceiling):
  """(ours, reference, rounds): `args.rounds` alternations of the reference and ours at one
  batch size, each metric's median over the rounds, and every round's step times. Our
  weight steps run the architectures the reference's drew in the same round."""
  ours_rounds, reference_rounds = [], []
  for _ in range(args.rounds):
    reference, draws = peer.measure(args.peer_scripts, args.peer_setup, batch_size, args.steps)
    reference_rounds.append(reference)
    ours_rounds.append(column(batch_size, args.steps, args.gin_bindings, ceiling, draws=draws))
  return _median(ours_rounds), _median(reference_rounds), list(zip(reference_rounds, ours_rounds))


def _median(rounds):
  return {key: type(rounds[0][key])(np.median([r[key] for r in rounds])) for key in rounds[0]}


def table(results):
  """Markdown: ours per batch size, and beside it the reference and the speed-up where the
  reference ran in this invocation."""
  header = ["metric"]
  for batch_size, (_, reference) in results.items():
    header += [f"batch {batch_size}"] + (["reference", "speed-up"] if reference else [])
  lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
  for key, label, fmt in ROWS:
    cells = [label]
    for ours, reference in results.values():
      cells.append(fmt.format(ours[key]) if key in ours else "")
      if reference:
        value = reference.get(key)
        cells.append(fmt.format(value) if value is not None else "")
        cells.append(_speedup(key, ours.get(key), value))
    lines.append("| " + " | ".join(cells) + " |")
  return "\n".join(lines)


def round_lines(batch_size, rounds):
  """One line per round: the step times behind the medians, so the spread is visible."""
  return [f"batch {batch_size} round {i + 1}: weight step {ref['weight_step_s']:.3f} s reference, "
          f"{ours['weight_step_s']:.3f} s ours; policy step {ref['policy_step_s']:.3f} s reference, "
          f"{ours['policy_step_s']:.3f} s ours" for i, (ref, ours) in enumerate(rounds)]


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
  parser.add_argument("--peer", action="store_true",
                      help="time the original PyTorch code beside ours (../shared/peer/README.md)")
  parser.add_argument("--rounds", type=int, default=2, help="alternations with --peer")
  parser.add_argument("--peer_scripts", default=peer.DEFAULT_SCRIPTS)
  parser.add_argument("--peer_setup", default=peer.DEFAULT_SETUP)
  args = parser.parse_args()
  if args.peer:
    peer.check_ready(args.peer_scripts, args.peer_setup)
  load_before = os.getloadavg()[0]
  ceiling = measure.matmul_ceiling()
  results, rounds = {}, []
  for batch_size in (int(b) for b in args.batch_sizes.split(",")):
    if args.peer:
      ours, reference, batch_rounds = side_by_side(batch_size, args, ceiling)
      rounds += round_lines(batch_size, batch_rounds)
    else:
      ours, reference = column(batch_size, args.steps, args.gin_bindings, ceiling), None
    results[batch_size] = (ours, reference)
  print(table(results))
  print("\n".join([""] + rounds))
  print(f"\nmachine: {machine.cpu_description()}; ceiling: float32 matmul "
        f"{2 * ceiling / 1e9:.0f} GFLOP/s; 1-minute load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; steps per measure {args.steps}; gin bindings "
        f"{args.gin_bindings or 'none'}" + ("; reference: the original PyTorch code's own steps "
        f"(shared/peer), peak memory of its whole process" if args.peer else ""))


if __name__ == "__main__":
  main()
