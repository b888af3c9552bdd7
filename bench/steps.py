"""One part of the benchmark in this process; prints one JSON line of results.

    python bench/steps.py --part=weights --batch_size=64 [--steps=20] [--gin_bindings=...] \
        [--architectures=FILE.json]

Parts run in separate processes so that each reports its own peak memory:
'weights' (the weight step only, as a weights phase runs) and 'policy' (policy step,
scoring one and several architectures per call, the REINFORCE update alone).
Every timed function is warmed up first; traces counted after that must stay 0. After
its first call, each part hands the memory tracing freed back (freed_memory.release),
as the step loop of a run does after a phase's first step.
"""

import argparse
import functools
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import nat_tf  # pylint: disable=unused-import,wrong-import-position  # before TensorFlow

import gin  # pylint: disable=wrong-import-position
import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position

import measure  # pylint: disable=wrong-import-position
import workload as workload_lib  # pylint: disable=wrong-import-position
from nat_tf.rl import agent as agent_lib  # pylint: disable=wrong-import-position
from nat_tf.training import freed_memory  # pylint: disable=wrong-import-position

WARMUP = 2
BATCHED_ARCHITECTURES = 8


class Traces:
  """Tracing counts of the timed functions, from the end of warm-up on."""

  def __init__(self, functions):
    self.functions = functions
    self.start = self._count()

  def _count(self):
    return sum(f.experimental_get_tracing_count() for f in self.functions)

  def since_warmup(self):
    return self._count() - self.start


def weights_part(work, steps, architectures=None):
  """Weight steps: time, images/s and the achieved forward+backward multiply-adds/s
  (3x the forward count of each architecture stepped on: forward, input and weight
  gradients). `architectures`: WARMUP + steps [2, 2, E] arrays to step on in turn
  instead of the trainer's own draws (the reference's draws, bench/peer.py)."""
  trainer = work.weight_trainer
  iterator = work.batches()
  if architectures is None:
    next_draw = work.replay(workload_lib.WEIGHTS_SEED)
    architectures = [next_draw() for _ in range(WARMUP + steps)]
    traced, step = trainer.step, lambda architecture: trainer.step(iterator)
  else:
    traced = trainer.step_on
    step = lambda architecture: trainer.step_on(iterator, tf.constant(architecture, tf.int32))
  queue = iter(architectures)
  first = measure.timed(lambda: step(next(queue)), 1)[0]
  freed_memory.release()
  for _ in range(WARMUP - 1):
    step(next(queue))
  traces = Traces([traced])
  seconds = measure.timed(lambda: step(next(queue)), steps)
  madds = sum(3 * work.madds(a)[0] for a in architectures[WARMUP:]) * work.batch_size
  return {"weight_step_s": float(np.median(seconds)), "weight_step_mean_s": float(seconds.mean()),
          "images_per_s": work.batch_size / float(np.median(seconds)),
          "weight_madds_per_s": madds / float(seconds.sum()), "first_weight_step_s": float(first),
          "weight_traces_after_warmup": traces.since_warmup()}


def replayed_architectures(path, steps):
  """The WARMUP + steps architectures of an --architectures file: JSON {'warmup': [...],
  'timed': [...]} of [2, 2, E] lists, its last WARMUP warm-up ones first."""
  with open(path) as f:
    draws = json.load(f)
  if len(draws["timed"]) != steps or len(draws["warmup"]) < WARMUP:
    raise SystemExit(f"error: {path} holds {len(draws['warmup'])} warm-up and "
                     f"{len(draws['timed'])} timed architectures; --steps={steps} needs "
                     f"{steps} timed and at least {WARMUP} warm-up ones")
  return [np.array(a, np.int32) for a in draws["warmup"][-WARMUP:] + draws["timed"]]


def policy_part(work, steps):
  """Policy steps (one input scored against its transformation on one minibatch, then
  REINFORCE), scoring throughput, and the update alone."""
  iterator = work.batches()
  step = work.policy_trainer.step
  next_input = work.replay(workload_lib.INPUTS_SEED)
  step(iterator)
  next_input()
  freed_memory.release()
  for _ in range(WARMUP - 1):
    step(iterator)
    next_input()
  score = tf.function(work.scorer, autograph=False)
  update = tf.function(work.agent.train, autograph=False)
  images, labels = next(iter(work.data))
  generator = tf.random.Generator.from_seed(7)
  batches = {m: [work.random_architectures(m, generator) for _ in range(steps)]
             for m in (1, BATCHED_ARCHITECTURES)}
  for architectures in batches.values():
    score(images, labels, architectures[0])
  experience = _experience(work)
  update(experience)
  traces = Traces([step, score, update])

  madds = []

  def policy_step():
    metrics = step(iterator)
    network, cells = work.madds(next_input())
    transformed = network + cells * float(metrics["cost_change"])
    madds.append((network + transformed) * work.batch_size)
    return metrics["loss"]

  seconds = measure.timed(policy_step, steps)
  results = {"policy_step_s": float(np.median(seconds)),
             "policy_step_mean_s": float(seconds.mean()),
             "policy_madds_per_s": sum(madds) / float(seconds.sum())}
  for m, architectures in batches.items():
    calls = iter(architectures)
    count = steps if m == 1 else min(steps, max(steps // 4, 3))  # m per call
    scoring = measure.timed(lambda: score(images, labels, next(calls)), count)  # pylint: disable=cell-var-from-loop
    results[f"scored_per_s_{m}"] = m / float(np.median(scoring))
  results["update_s"] = float(np.median(measure.timed(lambda: update(experience).loss, steps)))
  results["policy_traces_after_warmup"] = traces.since_warmup()
  return results


def _experience(work):
  """One batch of one-step episodes from the environment, to time the update alone."""
  env = work.environment
  env.use_minibatches(work.batches())
  time_step = env.reset()
  action_step = work.agent.collect_policy.action(time_step)
  next_time_step = env.step(action_step.action)
  return agent_lib.one_step_episodes(time_step, action_step, next_time_step,
                                     next_time_step.reward)


PARTS = {"weights": weights_part, "policy": policy_part}


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--part", choices=sorted(PARTS), required=True)
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--gin_bindings", action="append", default=[])
  parser.add_argument("--architectures", help="weights part: a JSON file of the architectures "
                      "to step on (replayed_architectures) instead of the trainer's draws")
  args = parser.parse_args()
  part = PARTS[args.part]
  if args.architectures:
    if args.part != "weights":
      parser.error("--architectures replays weight steps; it needs --part=weights")
    part = functools.partial(weights_part, architectures=replayed_architectures(
        args.architectures, args.steps))
  gin.parse_config(args.gin_bindings)
  work = workload_lib.Workload(args.batch_size)
  results = part(work, args.steps)
  results["peak_rss_gb"] = measure.peak_rss_gb()
  print(json.dumps(results))


if __name__ == "__main__":
  main()
