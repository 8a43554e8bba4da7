"""ISO 20022: hardened parsing, message registry, validation, canonical model, translation."""
