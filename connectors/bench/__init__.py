"""Benchmarks that need the simulators' data (ECB quotes, generated Chinese names and addresses);
they join ``router bench`` through ``connectors.commands``. The others are in ``router.bench``."""

BENCHES: dict[str, str] = {
    "corridor": "connectors.bench.corridor",
    "e2e": "connectors.bench.e2e",
    "fx": "connectors.bench.fx",
    "iso": "connectors.bench.iso",
    "population": "connectors.bench.population",
}
