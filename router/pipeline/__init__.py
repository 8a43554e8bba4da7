"""Router stages: thin wiring from topics to the pure functions in the domain packages.

Every stage is logic for the transactional processor (``router.streams.processor``): its outputs,
state and consumed offsets commit together. ``router.bootstrap`` assembles them into roles: the
payment path (``ingest_stage``, ``screening_stage``, ``corridor_stage``) runs in ``router worker``,
the settlement core (``settlement_stage``) in ``router settle-worker``.
"""
