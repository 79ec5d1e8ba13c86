"""Offline evaluation: loaders, leakage-free splits, matrices, ranking metrics and the one
protocol ("fit on train, recommend, score on held-out") every measurement goes through."""
