#!/usr/bin/env bash
# On a machine with a GPU: the supernet, environment and agent tests on it, then the bench in
# float32, bfloat16 mixed precision and float32 with XLA as one table; about 8 minutes.
#   bench/gpu_check.sh             needs a GPU TensorFlow sees (requirements.txt's first lines:
#                                  tensorflow[and-cuda]==2.21.0), else it stops and says so
#   bench/gpu_check.sh --dry_run   on the CPU, a tiny supernet and one step per measure: the
#                                  same commands end to end in a minute (CI runs this)
# PYTHON selects the interpreter (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export TF_CPP_MIN_LOG_LEVEL=2
GPUS=$("$PY" -c "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))")
if [ "${1:-}" = "--dry_run" ]; then
  TESTS=(-k "a_bad_count")
  TEST_LIMIT=600  # CPU: the tests' digits supernet alone took 3-4 minutes on 2 cores
  # 8 channels, not 4: TF 2.21's oneDNN kernels on an AVX2 CPU abort the 4-channel, 1-node
  # weight step at one intra-op thread (the tests' setting), "double free or corruption"
  BENCH=(--batch_size=8 --steps=1 "--gin_bindings=Supernet.channels = 8"
         "--gin_bindings=Supernet.layers = 3" "--gin_bindings=Supernet.num_nodes = 1")
elif [ "$GPUS" = "0" ]; then
  echo "error: TensorFlow sees no GPU here; install tensorflow[and-cuda]==2.21.0 (see" \
       "requirements.txt) on a machine with one, or run bench/gpu_check.sh --dry_run" >&2
  exit 1
else
  TESTS=(-m "not slow")
  TEST_LIMIT=300  # so that the whole check fits a device machine's 8 minutes
  BENCH=(--batch_size=64 --steps=10)
fi
echo "GPUs TensorFlow sees: $GPUS"
timeout "$TEST_LIMIT" "$PY" -m pytest -q -p no:cacheprovider "${TESTS[@]}" \
  tests/test_supernet.py tests/test_environment.py tests/test_rl_networks.py
timeout 300 "$PY" bench/gpu_table.py "${BENCH[@]}"
