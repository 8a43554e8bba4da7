"""How faust's Kafka consumer is created, adjusted for the router.

faust-streaming's aiokafka driver builds its consumer with a hard-coded 1,500 ms fetch wait and,
outside its (here unusable) exactly-once mode, ``read_uncommitted``. The router needs
``read_committed``: the settlement core writes its outcomes in Kafka transactions, and an
outcome from an aborted transaction must never be acted on. A short fetch wait keeps latency
low on quiet topics. The driver offers no setting for either, so this wraps the consumer
factory the driver calls, changing those two arguments only.
"""

from __future__ import annotations

import types
from typing import Any

_PATCHED: dict[str, int] = {}


def use_read_committed(fetch_max_wait_ms: int) -> None:
    """Make faust's consumers read committed data only, with the given fetch wait (idempotent)."""
    import aiokafka
    from faust.transport.drivers import aiokafka as driver_module

    driver: Any = driver_module

    _PATCHED["fetch_max_wait_ms"] = fetch_max_wait_ms
    if getattr(driver.aiokafka, "__router_patched__", False):
        return

    def consumer(*args: Any, **kwargs: Any) -> aiokafka.AIOKafkaConsumer:
        kwargs["isolation_level"] = "read_committed"
        kwargs["fetch_max_wait_ms"] = _PATCHED["fetch_max_wait_ms"]
        return aiokafka.AIOKafkaConsumer(*args, **kwargs)

    shim = types.ModuleType("aiokafka")
    shim.__dict__.update(aiokafka.__dict__)
    shim.AIOKafkaConsumer = consumer  # type: ignore[attr-defined]
    shim.__router_patched__ = True  # type: ignore[attr-defined]
    driver.aiokafka = shim
