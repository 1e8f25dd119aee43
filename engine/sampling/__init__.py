"""Tool-combination sampling: graph random walks (the paper's Algorithm 1) and the baselines."""
