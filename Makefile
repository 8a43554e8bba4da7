# Corridor router: developer and operator entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
KAFKA := deploy/local/kafka
KAFKA_PORT ?= 9092
# The official ISO 20022 XSDs are not redistributed; point this at a copy to enable base-schema checks.
SHARED ?= $(abspath ../shared)
PAYMENTS ?= 5000
# Offered payments/s for `make run`: the simulators' own default (25/s) would take 3.5 minutes.
RATE ?= 200
# Go tools for the deployment checks, built from the Go module proxy into .tools/bin.
TOOLS := $(abspath .tools/bin)
PROMTOOL_VERSION ?= v0.316.0
KUSTOMIZE_VERSION ?= v5.5.0

.PHONY: help install native browser run demo test test-unit lint typecheck kafka-up kafka-down \
        kafka-status kafka-reset topics worker bench clean tools check-deploy docker-up images test-containers

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

install: $(VENV)/.installed native ## create .venv and install the package with dev dependencies

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The screening hot path compiled with mypyc beside its sources (router/screening/native.py); a no-op
# when the build matches the sources, pure Python (with a message) when mypy or a C compiler is missing.
native: $(VENV)/.installed ## compile the screening modules with mypyc (make install runs it)
	@$(BIN)/python -c 'import sys; from router.screening import native; sys.exit(native.main(["build"]))' \
	  2>&1 | grep -v -e '^gcc ' -e 'Treating generator comprehension as list' || true

# fonts-noto-cjk: without a CJK font the page's Chinese names render as empty boxes (the test checks).
browser: ## install headless Chromium and CJK fonts (Debian packages) for the review-page browser test
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -q "Noto Sans CJK"; } || { \
	  if [ "$$(id -u)" = 0 ]; then { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; } \
	    || echo "chromium or fonts-noto-cjk could not be installed: the browser tests will skip or fail"; \
	  else echo "chromium or CJK fonts missing: run 'sudo apt-get install chromium fonts-noto-cjk'"; fi; }

kafka-up: ## start (or reuse) the local Apache Kafka broker on 127.0.0.1:$(KAFKA_PORT)
	@KAFKA_PORT=$(KAFKA_PORT) $(KAFKA) start

kafka-down: ## stop the local broker
	@KAFKA_PORT=$(KAFKA_PORT) $(KAFKA) stop

kafka-reset: ## stop the local broker and delete its data (every topic, demo runs included)
	@KAFKA_PORT=$(KAFKA_PORT) $(KAFKA) reset

kafka-status: ## is the local broker running?
	@KAFKA_PORT=$(KAFKA_PORT) $(KAFKA) status

topics: install ## create the router's topics on the configured cluster
	$(BIN)/router topics create

worker: install ## run the router worker in the foreground
	$(BIN)/router worker

run: install kafka-up ## the demo: broker, topics, workers, simulated corridor traffic, summary
	ROUTER_KAFKA__BOOTSTRAP_SERVERS=$${ROUTER_KAFKA__BOOTSTRAP_SERVERS:-127.0.0.1:$(KAFKA_PORT)} \
	  $(BIN)/router demo --payments $(PAYMENTS) --rate $(RATE)

demo: run ## alias of run

lint: install ## ruff
	$(BIN)/ruff check router tests connectors

typecheck: install ## mypy (strict on router/)
	$(BIN)/mypy

# Broker for the tests: KAFKA_BOOTSTRAP_SERVERS if set, else the local broker started here, whether
# or not a Docker engine runs (`make test-containers` is the tier that uses containers).
test: install browser lint typecheck ## lint, typecheck and the whole test suite on a real Kafka broker
	@if [ -z "$$KAFKA_BOOTSTRAP_SERVERS" ]; then \
	  KAFKA_PORT=$(KAFKA_PORT) $(KAFKA) start && export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$(KAFKA_PORT); fi; \
	KAFKA_TEST_BROKER=local ROUTER_SHARED_DIR=$(SHARED) $(BIN)/pytest $(PYTEST_ARGS)

docker-up: ## install Debian's docker.io if missing and start dockerd (no bridge: host network only)
	@deploy/docker/engine start

images: docker-up ## build the images from a local Debian base: corridor base, Kafka, router (cached)
	@deploy/docker/images all

# The broker is the Kafka image run by testcontainers on 127.0.0.1:29092 (never the local one);
# the compose smoke test starts every role from the images. Ryuk cannot be pulled: the fixtures
# stop their containers, and `engine clean` removes whatever a killed run left.
test-containers: install images ## integration, e2e and compose smoke tests on containers (testcontainers)
	@deploy/docker/engine clean; \
	env -u KAFKA_BOOTSTRAP_SERVERS KAFKA_TEST_BROKER=container TESTCONTAINERS_RYUK_DISABLED=true \
	  ROUTER_SHARED_DIR=$(SHARED) $(BIN)/pytest tests/integration tests/e2e tests/containers $(PYTEST_ARGS); \
	rc=$$?; deploy/docker/engine clean; exit $$rc

test-unit: install ## unit and property tests only (no broker)
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

bench: install kafka-up ## run every benchmark (results: BENCHMARKS.md)
	@for area in $$($(BIN)/python -c "from router.cli.bench import all_benches; print(' '.join(all_benches()))"); do \
	  echo "== $$area"; $(BIN)/router bench $$area; done

tools: ## build promtool and kustomize into .tools/bin (needs Go; promtool took 21 min on 2 busy cores, once)
	@command -v go >/dev/null 2>&1 || { echo "tools: Go is not installed (apt-get install golang-go)"; exit 1; }
	@mkdir -p $(TOOLS)
	@[ -x $(TOOLS)/promtool ] || GOBIN=$(TOOLS) go install github.com/prometheus/prometheus/cmd/promtool@$(PROMTOOL_VERSION)
	@[ -x $(TOOLS)/kustomize ] || GOBIN=$(TOOLS) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

check-deploy: install ## render and validate the Kubernetes overlays; check alert rules and dashboard (promtool if built)
	$(BIN)/pytest -q tests/unit/test_k8s_overlays.py tests/unit/test_monitoring.py tests/unit/test_deploy_manifests.py
	@if [ -x $(TOOLS)/promtool ]; then cd deploy/monitoring && $(TOOLS)/promtool check rules alerts.yaml \
	  && $(TOOLS)/promtool test rules alerts.test.yaml; else echo "promtool not built: run 'make tools'"; fi

clean: ## remove local state (not the broker's jar cache)
	rm -rf .router-data reports .pytest_cache .mypy_cache .ruff_cache build/mypyc
	$(BIN)/python -c 'from router.screening import native; native.main(["clean"])' 2>/dev/null || true
