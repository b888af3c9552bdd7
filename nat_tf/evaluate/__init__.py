"""Evaluating architectures: training from scratch, reports, cell diagrams."""
