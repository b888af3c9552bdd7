"""bench/profile_step.py's op-by-op accounting: self times from nested profiler events on
a hand-made trace, and the op types of a real profiled gradient step."""

import os
import sys
import tempfile

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

import profile_step  # pylint: disable=wrong-import-position


def _space(*lines):
  """An XSpace of one plane; each line a list of (name, start, end) events in ps."""
  space = xplane_pb2.XSpace()
  plane = space.planes.add(name="/host:CPU")
  ids = {}
  for events in lines:
    line = plane.lines.add(name="tf_Compute")
    for name, start, end in events:
      if name not in ids:
        ids[name] = len(ids) + 1
        plane.event_metadata[ids[name]].name = name
      line.events.add(metadata_id=ids[name], offset_ps=start, duration_ps=end - start)
  return space


def test_self_time_is_an_ops_time_less_the_ops_it_contains():
  space = _space(
      [("ExecutorState::Process", 0, 200), ("call:PartitionedCall", 0, 100),
       ("c:Conv2D", 10, 40), ("r:Relu", 50, 60), ("c2:Conv2D", 120, 160)],
      [("f:  __inference_f_7", 0, 300), ("g:Conv2DBackpropInput", 5, 25)])
  totals = profile_step.self_times(space)
  assert {kind: tuple(v) for kind, v in totals.items()} == {
      "PartitionedCall": (60, 1), "Conv2D": (70, 2), "Relu": (10, 1),
      "Conv2DBackpropInput": (20, 1)}
  rows = profile_step.table(totals, steps=2, top=2).splitlines()
  assert rows[2].startswith("| Conv2D |") and rows[3].startswith("| PartitionedCall |")
  assert rows[-1].startswith("| (the other 2 types) |")


def test_a_profiled_gradient_step_shows_its_backward_kernels():
  x = tf.random.normal([4, 8, 8, 3])
  kernel = tf.Variable(tf.random.normal([3, 3, 3, 5]))

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      loss = tf.reduce_sum(tf.square(tf.nn.conv2d(x, kernel, 1, "SAME")))
    return tape.gradient(loss, kernel)

  step()
  with tempfile.TemporaryDirectory() as logdir:
    totals = profile_step.self_times(profile_step.profiled_xspace(step, 2, logdir))
  # Under oneDNN (nat_tf's default) the kernels are the _MklNative… forms of the same ops.
  counts = {kind.removeprefix("_MklNative"): count for kind, (_, count) in totals.items()}
  assert counts["Conv2DBackpropFilter"] == 2
  assert counts["Conv2D"] == 2
  assert not any(kind.startswith("__") for kind in totals)
