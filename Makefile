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

# docs/demo_map.png and docs/demo_site_map.png: the demo's overview map (with one photo's
# popup open) and the map of its water works, in headless Chromium (apt-get install chromium)
SHOT := chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --hide-scrollbars \
	--window-size=1200,800 --virtual-time-budget=3000
screenshots: $(VENV)/.installed-demo
	$(BIN)/geoexpose demo --out out/demo --overwrite
	$(SHOT) --user-data-dir=$$(mktemp -d) --screenshot=docs/demo_map.png \
		"file://$(CURDIR)/out/demo/map.html#footprint=flight3%2FDJI_0028.JPG"
	$(SHOT) --user-data-dir=$$(mktemp -d) --screenshot=docs/demo_site_map.png \
		"file://$(CURDIR)/out/demo/sites/brenmoor-water-works.html"
