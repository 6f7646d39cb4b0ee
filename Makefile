# Set-up is part of each target: a fresh machine needs nothing but Python 3.11+.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

NODE_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | sha1sum | cut -c1-12)

.PHONY: run test bench clean system-packages

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-* && touch $@

## system-packages: Debian's chromium (dashboard browser test) and PostgreSQL (store tests);
## the tests that need them skip with the reason when they cannot be installed (not root, no apt)
system-packages:
	@command -v chromium >/dev/null && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium postgresql >/dev/null; } ; } || \
	  echo "system-packages: chromium or PostgreSQL could not be installed; the tests that need them will skip"

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

## run: the live service on embedded defaults (simulated market and exchange, SQLite under out/service/,
## dashboard on http://127.0.0.1:8000/, API token in out/service/api-token); Ctrl-C stops it
## (DURATION=seconds stops it by itself)
run: $(STAMP)
	$(BIN)/hedgekeeper run examples/service.toml $(if $(DURATION),--duration $(DURATION))

## test: the whole test suite, doctests included
test: $(STAMP) $(NODE_STAMP) system-packages
	$(BIN)/python -m pytest -n 2 -q

## bench: every benchmark, each printing hedgekeeper's figures beside its peer's
bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) node_modules build *.egg-info
