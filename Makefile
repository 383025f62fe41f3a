# The two commands of the README: `make demo` and `make test`. Both make .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip

.PHONY: demo test bench lint clean screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed-demo
	$(BIN)/geoexpose demo --out out/demo --overwrite

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-test
	$(BIN)/python -m benchmarks.run

lint: $(VENV)/.installed-test
	$(PIP) install --quiet ruff mypy
	$(BIN)/ruff check geoexpose tests benchmarks
	$(BIN)/mypy geoexpose

clean:
	rm -rf $(VENV) out build dist .pytest_cache

# The README's pictures in docs/ (examples/screenshots.py): the demo's overview and
# water works map; a scan of the two real DJI flights near Bremerton (read from
# $GEOEXPOSE_REALDATA, never copied) against made-up sites, its overview and a site
# map; one page of that scan's PDF briefing. Needs Debian's chromium (apt-get install
# chromium) and pypdfium2 (the test extra).
GEOEXPOSE_REALDATA ?= $(abspath ../shared/realdata)
screenshots: $(VENV)/.installed-test
	GEOEXPOSE_REALDATA=$(GEOEXPOSE_REALDATA) $(BIN)/python examples/screenshots.py
