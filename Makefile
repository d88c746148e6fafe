# Chirpstream — see README.md. Every target installs what it needs (scripts/setup.sh).
SHELL := /bin/bash
SWIFT ?= swift
export LD_LIBRARY_PATH := $(CURDIR)/.tools/lib$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))

.PHONY: setup build release test demo up down bench bench-store soak chaos fuzz clean dashboard-test compose-test

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

# The Swift runtime linked statically, as in the container image: smaller resident memory per
# service, and the compose test reuses this build.
release: setup
	$(SWIFT) build -c release --static-swift-stdlib

# Unit tests plus the integration test, which starts mosquitto, Kafka (Tansu) and PostgreSQL on
# private loopback ports and runs the four services as processes.
test: setup
	@bash scripts/setup-checks.sh
	$(SWIFT) build
	CHIRP_BIN_DIR="$$($(SWIFT) build --show-bin-path)" $(SWIFT) test

# The whole pipeline on the local stack with a generated sample; prints the trends, stops everything.
demo: release
	@bash scripts/demo.sh run

# Keep the stack and the services running (state in .run/stack); `make down` stops them.
up: release
	@bash scripts/demo.sh up

down:
	@bash scripts/demo.sh down

bench: release
	@bash scripts/bench.sh

bench-store: release
	@bash scripts/bench-store.sh

# 30 minutes at 5 000 tweets/s with a sample every 5 s: CSV and figure in .run/soak (not in CI).
soak: release
	@bash scripts/soak.sh

# The fault matrix: kills and restarts of every part while tweets flow (CHAOS_QUICK=1: one of each).
chaos: release
	@bash scripts/chaos.sh

clean:
	rm -rf .build .run

# libFuzzer over the pure core; FUZZ_SECONDS (600) bounds the run.
fuzz:
	@bash scripts/fuzz.sh

# The Superset dashboard for real: Superset from PyPI provisioned like its container, numbers
# checked through its chart-data API, the page rendered by headless chromium (slow: ~3–5 min).
dashboard-test: build
	@bash scripts/dashboard-test.sh

# docker-compose.yml for real under podman with the real Compose v2 (slow: images are built
# locally; ~5–10 min the first time).
compose-test: setup
	@bash scripts/compose-test.sh
