"""The original PyTorch implementation's own step functions, timed on this machine.

Speed-ups only mean something side by side on one machine (the CPUs of these sessions
differ: some have AVX-512, some only AVX2), so bench/run_all.py --peer runs the
reference harness of ../shared/peer (its README sets it up once per machine) in the
same invocation as the project's parts and reads its figures from here.
"""

import json
import os
import subprocess
import tempfile

from nat_tf.space import ops

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCRIPTS = os.path.join(os.path.dirname(REPO), "shared", "peer")
DEFAULT_SETUP = os.environ.get("NAT_PEER", "/tmp/nat-peer")


def check_ready(scripts, setup):
  """Fails with the set-up step to take when the harness or its venv is missing."""
  run_script = os.path.join(scripts, "run.sh")
  if not os.path.isfile(run_script):
    raise SystemExit(f"error: no reference harness at {run_script}; pass --peer_scripts=<the "
                     "folder holding shared/peer's run.sh>")
  if not os.path.isfile(os.path.join(setup, "venv", "bin", "python")):
    raise SystemExit(f"error: the reference is not set up in {setup}; run "
                     f"{os.path.join(scripts, 'setup.sh')} <the NAT git folder> {setup} once "
                     "(see its README), or pass --peer_setup=<that folder>")


def measure(scripts, setup, batch_size, steps):
  """(figures, draws) of the reference at one batch size. figures, keyed as bench/steps.py
  keys its own: median weight and policy step seconds, architectures scored per second (its
  `_test_acc`, grad on, train mode, as the code runs it) and the whole process's peak
  resident memory (GB). draws: the architectures its weight steps drew (weight_draws)."""
  with tempfile.TemporaryDirectory() as folder:
    out = os.path.join(folder, "reference.json")
    done = subprocess.run([os.path.join(scripts, "run.sh"), out, "--batch", str(batch_size),
                           "--steps", str(steps), "--eval-variants", "primary"],
                          env={**os.environ, "NAT_PEER": setup}, capture_output=True, text=True,
                          check=False)
    if done.returncode:
      log = out[:-len(".json")] + ".log"
      tail = open(log).read()[-3000:] if os.path.exists(log) else done.stderr[-3000:]
      raise SystemExit(f"error: the reference harness failed at batch {batch_size}:\n{tail}")
    with open(out) as f:
      figures = json.load(f)
  whole_process_gb = figures["peak_rss_mb"] * 2 ** 20 / 1e9  # one process runs every part
  return ({"weight_step_s": figures["w_step"]["median_s"],
           "policy_step_s": figures["theta_step"]["median_s"],
           "scored_per_s_1": 1 / figures["eval"]["grad_train"]["median_s"],
           "peak_rss_weights_gb": whole_process_gb, "peak_rss_policy_gb": whole_process_gb},
          weight_draws(figures))


def weight_draws(figures):
  """{'warmup': [...], 'timed': [...]}: the architectures the reference's weight steps drew,
  in order, as the project's [2, 2, E] lists (bench/steps.py --architectures), so our
  weight steps can run the same ones: a step's time depends on its architecture, and two
  sets of 20 random draws differ in cost by up to 10%.

  The reference gives each cell as (op index into its op list, source, target) triples in
  the order of its edges, two per target node, which is the project's edge order."""
  names = figures["eval_arch"]["op_names"]

  def ours(draw):
    cells = []
    for cell in draw:
      if [t for _, _, t in cell] != [2 + e // 2 for e in range(len(cell))]:
        raise SystemExit(f"error: the reference drew a cell whose edges are not in target "
                         f"order (two per node from node 2): {cell}")
      cells.append([[ops.FULLY_CONCAT.index(names[op]) for op, _, _ in cell],
                    [source for _, source, _ in cell]])
    return cells

  steps = figures["w_step"]
  return {"warmup": [ours(d) for d in steps["warmup_archs_normal_reduce"]],
          "timed": [ours(d) for d in steps["archs_normal_reduce"]]}
