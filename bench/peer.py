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
  """The reference's figures at one batch size, keyed as bench/steps.py keys its own: median
  weight and policy step seconds, architectures scored per second (its `_test_acc`, grad on,
  train mode, as the code runs it) and the whole process's peak resident memory (GB)."""
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
  return {"weight_step_s": figures["w_step"]["median_s"],
          "policy_step_s": figures["theta_step"]["median_s"],
          "scored_per_s_1": 1 / figures["eval"]["grad_train"]["median_s"],
          "peak_rss_weights_gb": whole_process_gb, "peak_rss_policy_gb": whole_process_gb}
