"""The search: its setup, the supernet's and the agent's steps, the alternating loop,
and the held-out evaluation of the policy that the loop reports when it ends.

`runs` reopens a search run's folder for everything above (analysis/, evaluate/).
"""
