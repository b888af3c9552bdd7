"""TensorFlow / Keras (channels-last) side of the search space: operations, cells,
networks, the weight-sharing supernet and architectures as tensors.

The fixed networks are built from the plain-data skeletons of `nat_tf.space`, and
the parameter and multiply-add counts read from them equal the analytic ones of
`nat_tf.space.cost` exactly (tests/test_nn_network.py).
"""
