"""The search space in pure Python and numpy: ops, rules, genotypes, costs.

Nothing here imports TensorFlow, so genotypes, transition rules and costs can be
used and tested without it.
"""
