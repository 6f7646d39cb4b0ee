# Set-up is part of each target: a fresh machine needs nothing but Python 3.11+.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha1sum | cut -c1-12)

.PHONY: run test bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==25.3
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	rm -f $(VENV)/.installed-* && touch $@

## run: price the sample portfolio on embedded defaults and print its risk
run: $(STAMP)
	$(BIN)/hedgekeeper risk examples/portfolio.toml

## test: the whole test suite, doctests included
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q

## bench: every benchmark, each printing hedgekeeper's figures beside its peer's
bench: $(STAMP)
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
