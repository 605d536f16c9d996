# The two commands a new machine needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# the example plugin is installed for the tests only: a service's returns never name it
PLUGIN  = $(VENV)/.example-plugin
PERIOD ?= 2025-Q4
RETURN  = out/example-return-$(PERIOD).xlsx
LINT_PATHS = evaltool tests examples $(wildcard benchmarks)

.PHONY: demo test lint check-return bench clean install

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(PLUGIN): $(STAMP) examples/evaltool-example-plugin/pyproject.toml
	$(BIN)/python -m pip install --quiet -e examples/evaltool-example-plugin
	touch $(PLUGIN)

install: $(PLUGIN)

# The demo makes a draft (marked DRAFT, never recorded as sent; kept apart in the example's
# record only so that a later draft is protected with it).
# A return you send is made with --final (README, "the quarterly run").
demo: $(STAMP)
	@mkdir -p out
	$(BIN)/evaltool score examples/data/example-service.xlsx --config examples/evaltool.toml \
	    --period $(PERIOD) --out $(RETURN) --force
	@echo "That was a draft (DRAFT on every page, never recorded as sent). For the return you send: the same with --final."
	@echo "Next: source $(VENV)/bin/activate, then evaltool init my-service (see README)"

test: $(PLUGIN)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/python -m pytest -q -n auto

lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

check-return: demo
	@if command -v soffice >/dev/null 2>&1; then \
	    soffice --headless --convert-to pdf --outdir out $(RETURN) >/dev/null && echo "PDF written: out/example-return-$(PERIOD).pdf"; \
	    if command -v pdftoppm >/dev/null 2>&1; then mkdir -p out/pages && \
	        pdftoppm -r 80 -png out/example-return-$(PERIOD).pdf out/pages/page && echo "Pages as pictures: out/pages/"; fi; \
	else echo "LibreOffice (soffice) not installed: skipping check-return (apt-get install libreoffice-calc-nogui)"; fi

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache
