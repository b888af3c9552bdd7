"""What any training run needs, whatever it trains: the SGD update, the tf.distribute
strategy, checkpoints that resume exactly, the learning-rate schedule.

Shared by the search (search/) and training from scratch (evaluate/train_final), so
that neither imports the other.
"""
