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

# The whole suite, headless. 2-D views render offscreen; the 3-D tests need a real X server,
# so the suite runs under xvfb-run when it is installed (they skip with a reason otherwise).
test: $(STAMP)
	@if command -v xvfb-run >/dev/null 2>&1; then \
		xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest; \
	else \
		$(PY) -m pytest; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check gdviz tests benchmarks build_scripts

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

dist: $(STAMP)
	$(PY) -m pip install --quiet -e ".[test,build]"
	$(PY) build_scripts/build.py

clean:
	rm -rf build dist .pytest_cache
