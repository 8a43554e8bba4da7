"""Benchmarks behind ``router bench AREA``. Each area module exposes ``add_arguments(parser)``
and ``run(args) -> dict`` (the numbers, printed as JSON and as a table)."""

BENCHES: dict[str, str] = {
    "e2e": "router.bench.e2e",
    "fx": "router.bench.fx",
    "iso": "router.bench.iso",
    "screening": "router.bench.screening",
    "settlement": "router.bench.settlement",
}
