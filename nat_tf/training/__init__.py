"""What any training run needs, whatever it trains: the step loop, the run's position,
checkpoints that resume exactly, the SGD update, the tf.distribute strategy, the
learning-rate schedule and the top-1 count.

Shared by the search (search/) and training from scratch (evaluate/train_final), so
that neither imports the other.
"""
