# One command runner, used the same way on a laptop and in CI.
#   make demo   set up, build the West Coast demo on SQLite, serve http://127.0.0.1:8000
#   make test   set up, then lint, type-check and run the whole test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: install demo serve test lint typecheck pytest format bench soak clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "parkshare needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(BIN)/parkshare demo
	$(BIN)/parkshare serve --host 127.0.0.1 --port 8000

serve: install
	$(BIN)/parkshare serve --host 127.0.0.1 --port 8000

test: install lint typecheck pytest

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy src

# pytest exits 5 when it collected no tests: a broken suite, never a pass.
pytest: install
	@$(BIN)/pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

# Benchmarks print their figures and write bench/results/*.json (minutes to an hour; not part
# of test). BENCH_QUICK=1 runs the smoke sizes instead (bench/results/*-quick.json). The MQTT
# benchmark runs when a broker answers on 127.0.0.1:1883; search builds its databases under
# /tmp/parkshare-bench-search on first use and uses Debian's wrk when installed.
BENCH_FLAGS := $(if $(BENCH_QUICK),--quick,)
MQTT_UP := $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", 1883), 2)'

bench: install
	$(BIN)/python bench/allocation.py
	$(BIN)/python bench/booking.py $(BENCH_FLAGS)
	$(BIN)/python bench/ingest.py $(BENCH_FLAGS)
	@if $(MQTT_UP) 2>/dev/null; then $(BIN)/python bench/ingest_mqtt.py $(BENCH_FLAGS); \
	else echo "bench/ingest_mqtt.py skipped: no MQTT broker on 127.0.0.1:1883"; fi
	$(BIN)/python bench/search.py $(BENCH_FLAGS)

# The soak (minutes; not part of test or bench): one parkshare serve on a fresh PostgreSQL
# database with the demo, steady mixed traffic for SOAK_SECONDS (default 180) at SOAK_RATE
# requests/s (default 20); prints throughput, latencies, errors, the server's memory and the
# invariant check, writes bench/results/soak.json, fails on any error or broken invariant.
soak: install
	$(BIN)/python bench/soak.py

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
