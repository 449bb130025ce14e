# spreadscale: `make demo` to try it, `make test` to check it. Needs Python 3.12 and make.
PYTHON ?= python3.12
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: install demo test test-fast lint benchmarks vendor clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.12, or run make PYTHON=/path/to/python3.12"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -e '.[dev,dask]'
	@touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/spreadscale demo

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -n 2 -m "not browser"

lint: install
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

benchmarks: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Refresh the vendored front-end files from the npm lockfile (needs Node; the app never does).
vendor:
	cd frontend && npm ci --no-audit --no-fund
	cp frontend/node_modules/htmx.org/dist/htmx.min.js src/spreadscale/web/static/vendor/
	cp frontend/node_modules/vega/build/vega.min.js frontend/node_modules/vega-lite/build/vega-lite.min.js frontend/node_modules/vega-embed/build/vega-embed.min.js src/spreadscale/web/static/vendor/
	# vega-interpreter ships only as an ES module; expose it on window.vega (CSP forbids eval)
	{ echo '(function (vega) {'; sed -e "s/^import { \(.*\) } from 'vega-util';/const { \1 } = vega;/" -e "s/^export { expression as expressionInterpreter };/vega.expressionInterpreter = expression;/" -e '/sourceMappingURL/d' frontend/node_modules/vega-interpreter/build/vega-interpreter.js; echo '})(window.vega);'; } > src/spreadscale/web/static/vendor/vega-interpreter.js

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
