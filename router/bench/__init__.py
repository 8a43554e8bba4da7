"""Benchmarks behind ``router bench AREA``. Each area module exposes ``add_arguments(parser)``
and ``run(args) -> dict`` (the numbers, printed as JSON and as a table). Areas that drive the
simulators live in ``connectors.bench`` and are found at run time (``router.cli.plugins``)."""

BENCHES: dict[str, str] = {
    "screening": "router.bench.screening",
    "settlement": "router.bench.settlement",
    "state": "router.bench.state",
}
