"""What is done with a finished search run: derivation, the random-search baselines and
the paired comparison against them, and studies over several inputs.

It sits above search/ (it reopens runs) and evaluate/ (a study trains its derived
networks from scratch); nothing below imports it.
"""
