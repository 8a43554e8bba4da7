"""The thin wiring between the running stages and the Prometheus instruments (``router.metrics``).

Stages and the processor call an observer at a few points (a transaction committed, a state
restored, a payment's state changed, a settlement left the queue); gauges that describe state
(lag, queue depth, holds, FX quote age) are read when ``/metrics`` is scraped, so they cost
nothing per record. Label children are made once and cached. The decisions about *what* happened
(did this state change finish a payment?) are pure functions here, tested on their own.
"""
