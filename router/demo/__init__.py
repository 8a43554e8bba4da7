"""The demo: router workers and simulators as real processes on a real broker."""
