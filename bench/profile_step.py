"""Where a search step's time goes, op type by op type, from TensorFlow's profiler.

    python bench/profile_step.py [--part=weights] [--batch_size=64] [--steps=5] [--top=25] \
        [--gin_bindings=...]

Runs the benchmark's weight step or policy step (`--part=weights|policy`,
bench/workload.py, the reference configuration) under the profiler after warm-up and
prints one Markdown table: each TensorFlow op type's self time per step (its own time,
less that of ops it runs inside it, such as the bodies of function calls), its share of
all ops' self time, and how often it runs per step. The gradient kernels (…Backprop…,
…Grad…) are the backward pass. Ops of the two threads can overlap, so the shares are of
summed op time, not of the step's wall time. Traced functions (types named `__…`) are left
out: their bodies run on other threads too, so their time on their own thread is the time
they wait.
"""

import argparse
import collections
import glob
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import gin  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # pylint: disable=wrong-import-position

import machine  # pylint: disable=wrong-import-position
import measure  # pylint: disable=wrong-import-position
import workload as workload_lib  # pylint: disable=wrong-import-position

WARMUP = 2


def profiled_xspace(fn, count, logdir):
  """The profiler's XSpace of `count` calls of fn() (each waited for)."""
  tf.profiler.experimental.start(logdir)
  measure.timed(fn, count)
  tf.profiler.experimental.stop()
  path, = glob.glob(os.path.join(logdir, "plugins", "profile", "*", "*.xplane.pb"))
  space = xplane_pb2.XSpace()
  with open(path, "rb") as f:
    space.ParseFromString(f.read())
  return space


def self_times(space):
  """{op type: (total self picoseconds, occurrences)} over every thread of the trace.

  Only TensorFlow op events count (named 'name:Type'; the executor's own events are
  'Class::method'); on one thread they nest only by containment (a function call's body
  runs inside it), so a stack of open events gives each its self time.
  """
  totals = collections.defaultdict(lambda: [0, 0])
  for plane in space.planes:
    for line in plane.lines:
      ops = []
      for event in line.events:
        name = plane.event_metadata[event.metadata_id].name
        kind = name.rsplit(":", 1)[-1].strip()
        if ":" in name and "::" not in name and not kind.startswith("__"):
          ops.append((event.offset_ps, event.offset_ps + event.duration_ps, kind))
      stack = []  # [end, type, self time] of open events
      for start, end, kind in sorted(ops, key=lambda o: (o[0], -o[1])):
        while stack and stack[-1][0] <= start:
          _close(stack.pop(), totals)
        if stack:
          stack[-1][2] -= end - start
        stack.append([end, kind, end - start])
      while stack:
        _close(stack.pop(), totals)
  return totals


def _close(event, totals):
  _, kind, own = event
  totals[kind][0] += own
  totals[kind][1] += 1


def table(totals, steps, top):
  """Markdown rows of the `top` op types by self time, per step."""
  everything = sum(own for own, _ in totals.values())
  rows = ["| op type | self ms per step | share | per step |", "|---|---|---|---|"]
  ranked = sorted(totals.items(), key=lambda item: -item[1][0])
  for kind, (own, count) in ranked[:top]:
    rows.append(f"| {kind} | {own / 1e9 / steps:.1f} | {own / everything:.1%} | "
                f"{count / steps:.0f} |")
  rest = sum(own for _, (own, _) in ranked[top:])
  rows.append(f"| (the other {max(len(ranked) - top, 0)} types) | {rest / 1e9 / steps:.1f} | "
              f"{rest / max(everything, 1):.1%} | |")
  return "\n".join(rows)


# Per part: the trainer whose traced step is profiled, and what the table's title calls it.
PARTS = {"weights": ("weight_trainer", "weight step"), "policy": ("policy_trainer", "policy step")}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--part", choices=sorted(PARTS), default="weights")
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--steps", type=int, default=5)
  parser.add_argument("--top", type=int, default=25)
  parser.add_argument("--gin_bindings", action="append", default=[])
  args = parser.parse_args()
  gin.parse_config(args.gin_bindings)
  work = workload_lib.Workload(args.batch_size)
  iterator = work.batches()
  trainer, title = PARTS[args.part]
  step = lambda: getattr(work, trainer).step(iterator)
  measure.timed(step, WARMUP)
  with tempfile.TemporaryDirectory() as logdir:
    space = profiled_xspace(step, args.steps, logdir)
  print(f"{machine.cpu_description()}; {title}, batch {args.batch_size}, "
        f"{args.steps} steps profiled\n")
  print(table(self_times(space), args.steps, args.top))


if __name__ == "__main__":
  main()
