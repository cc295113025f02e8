# gdviz: two commands on a fresh machine — `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.gdviz-installed

.PHONY: run test lint bench dist clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Re-install when pyproject.toml changes (new dependency, new extra).
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/gdviz

# The layers first (import-linter, contracts in pyproject.toml: a broken one fails `make test`
# in under a second), then the whole suite, headless. 2-D views render offscreen; the 3-D tests
# need a real X server, so the suite runs under xvfb-run when it is installed (they skip with a
# reason otherwise).
test: $(STAMP)
	$(VENV)/bin/lint-imports
	@if command -v xvfb-run >/dev/null 2>&1; then \
		xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest; \
	else \
		$(PY) -m pytest; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check gdviz tests benchmarks build_scripts

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

# The one-folder executable dist/gdviz/gdviz, then its checks (build_scripts/build.py): same
# output as the installed gdviz, `--smoke` of every lesson and view, start-up times. Under
# xvfb-run when installed, so the frozen app's 3-D view is smoke-tested too.
BUILD_STAMP := $(VENV)/.gdviz-build-installed
$(BUILD_STAMP): pyproject.toml | $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,build]"
	touch $(BUILD_STAMP)

dist: $(BUILD_STAMP)
	@if command -v xvfb-run >/dev/null 2>&1; then \
		xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) build_scripts/build.py; \
	else \
		$(PY) build_scripts/build.py; \
	fi

clean:
	rm -rf build dist .pytest_cache .import_linter_cache
