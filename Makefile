# depgraph: `make test` and `make demo` set everything up from nothing (see README.md).
PYTHON ?= /usr/bin/python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test test-pure demo lint bench eval fuzz debootstrap clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@if ! $(PYTHON) -c 'import apt_pkg' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing python3-apt (Debian package) for $(PYTHON)"; \
	    apt-get install -y python3-apt || { apt-get update && apt-get install -y python3-apt; }; \
	  else \
	    echo "note: python3-apt is missing and we are not root: only the pure-Python path will work"; \
	  fi; \
	fi
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing graphviz (Debian package) for --format svg, png, html"; \
	    apt-get install -y graphviz || { apt-get update && apt-get install -y graphviz; }; \
	  else \
	    echo "note: Graphviz (dot) is missing and we are not root: no svg, png or pictures in html"; \
	  fi; \
	fi
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

test: setup
	$(BIN)/python -m pytest -q

test-pure: setup
	DEPGRAPH_NO_APT=1 $(BIN)/python -m pytest -q

# The audit exits 1 when it finds something at --fail-on or above: that is the demo's point.
demo: setup
	$(BIN)/depgraph audit --root fixtures/audit/ubuntu-12.04-server/root; test $$? -le 1

lint: setup
	$(BIN)/ruff check depgraph tests bench
	$(BIN)/ruff format --check depgraph tests bench
	$(BIN)/mypy

bench: setup
	$(BIN)/python bench/run.py
	$(BIN)/python bench/changelog_bench.py
	$(BIN)/python bench/restart_bench.py
	$(BIN)/python bench/render_bench.py
	$(BIN)/python bench/snapshot_bench.py
	$(BIN)/python bench/stress.py
	$(BIN)/python bench/fleet_bench.py

# Every parser's fuzz target for at least FUZZ_SECONDS and FUZZ_MIN_INPUTS inputs each (tests/fuzz/);
# failing inputs are kept in tests/corpus/ and replayed by tests/test_fuzz.py.
# FUZZ_ENGINE=atheris runs them coverage-guided instead (needs `pip install atheris`).
FUZZ_SECONDS ?= 10
FUZZ_MIN_INPUTS ?= 10000
FUZZ_ENGINE ?= hypothesis
fuzz: setup
	$(BIN)/python -m tests.fuzz --engine $(FUZZ_ENGINE) --seconds $(FUZZ_SECONDS) --min-inputs $(FUZZ_MIN_INPUTS)

eval: setup
	$(BIN)/python bench/eval.py

# A real minimal Debian tree for the --root tests (needs root, debootstrap and the Debian mirror).
debootstrap:
	sh fixtures/debootstrap.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
