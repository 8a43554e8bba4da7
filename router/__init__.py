"""Cross-border settlement router for a CIPS / e-CNY <-> SWIFT CBPR+ corridor."""

__version__ = "0.1.0"
