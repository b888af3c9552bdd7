"""The main job learns: on held-out cells, the learned policy cuts cost and beats random.

For each seed, bin/train's job runs in-process with gin/quickstart.gin and
FASTER's bindings (fewer epochs, so the three seeds fit in CI); then the greedy
policy transforms 200 held-out random input cells (nat_tf.search.policy_eval),
each scored with the supernet on the whole held-out split. It must
- cut the cells' mean multiply-adds by at least 15% (quickstart's cost term), and
- change their accuracy by MARGIN more than the uniformly random valid policy does.
Measured at these settings (BUILD_NOTES.md, bench/learning_report.py): madds -51%, -33%,
-50% and margins over uniform +0.140, +0.124, +0.117 for seeds 1, 2, 3.
"""

import gin
import pytest

from nat_tf.search import runs

SEEDS = (1, 2, 3)
MADDS_CUT = -0.15
MARGIN = 0.05
FASTER = [
    "train_eval.epochs = 50",
    "train_eval.warmup_epochs = 35",
]


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_greedy_policy_cuts_cost_and_beats_uniform(digits_data_dir, tmp_path, seed):
  bindings = [f"SearchSetup.data_dir = '{digits_data_dir}'", f"SearchSetup.seed = {seed}"]
  runs.train(str(tmp_path), ["gin/quickstart.gin"], FASTER + bindings)
  try:
    scores, _ = runs.evaluate(str(tmp_path), bindings)
  finally:
    gin.clear_config()
  greedy, uniform = scores["greedy"].summary(), scores["uniform"].summary()
  assert greedy["madds_change"] <= MADDS_CUT, greedy
  assert greedy["accuracy_change"] > uniform["accuracy_change"] + MARGIN, (greedy, uniform)
