"""TF-Agents side of NAT: the architecture-transformation MDP as an environment, the
Spektral GCN policy networks, the REINFORCE agent and the control policies."""
