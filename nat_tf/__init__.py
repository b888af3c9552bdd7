"""nat_tf: the Neural Architecture Transformer (NAT, NAT++) in TensorFlow.

Docstrings cite "the reference code": the official PyTorch implementation of NAT
(github.com/guoyongcs/NAT), whose behaviour this package follows unless BUILD_NOTES.md says
otherwise.

Importing the package sets two variables that TensorFlow reads once, as it loads, so the
package sets them before any of its modules imports TensorFlow; scripts that import
TensorFlow themselves import nat_tf first.

- TF_USE_LEGACY_KERAS=1: `tf.keras` is tf-keras (the Keras 2 API). Spektral's layers and
  TF-Agents' networks are written for Keras 2 and fail under Keras 3, which TensorFlow
  2.16 and newer give by default.
- TF_ENABLE_ONEDNN_OPTS=1: TensorFlow's oneDNN CPU kernels, unless the environment already
  chose (TF_ENABLE_ONEDNN_OPTS=0 keeps them off). TensorFlow turns them on by itself only on
  CPUs with AVX-512 VNNI or newer; elsewhere (an AMD Zen 3, with AVX2) its convolutions,
  depthwise convolutions, batch-norm and pooling run on Eigen's kernels, and the supernet's
  weight step took 1.3x as long (BUILD_NOTES, Performance side by side).
"""

import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
