"""Simulated outside world: CIPS / e-CNY network, correspondent banks, FX feed."""
