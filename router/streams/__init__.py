"""Kafka stream processing the payment path runs on (transactional, keyed state)."""
