"""nat_tf: the Neural Architecture Transformer (NAT, NAT++) in TensorFlow.

Importing the package turns on TensorFlow's oneDNN CPU kernels, unless the environment
already chose (TF_ENABLE_ONEDNN_OPTS=0 keeps them off). TensorFlow 2.15 turns them on by
itself only on CPUs with AVX-512 VNNI or newer; elsewhere (an AMD Zen 3, with AVX2) its
convolutions, depthwise convolutions, batch-norm and pooling run on Eigen's kernels, and
the supernet's weight step took 1.3x as long (BUILD_NOTES, Performance side by side).
TensorFlow reads the variable once, as it loads, so the package sets it before any of
its modules imports TensorFlow; scripts that import TensorFlow themselves import nat_tf
first.
"""

import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
