# mailsift: `make demo` and `make test` are the two commands; both set up .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install browser demo test bench dev mlflow docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mailsift demo

# The browser tests (tests/test_browser.py) drive Debian's headless `chromium`: installed here with
# apt-get only when no `chromium` is on PATH (never a browser downloaded by a Python package).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  command -v apt-get >/dev/null 2>&1 || { echo "chromium is missing and apt-get is not available: install Chromium as 'chromium' on PATH" >&2; exit 1; }; \
	  echo "Installing Debian's chromium for the browser tests (apt-get)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@chromium --version

# Two pytest workers (pytest-xdist); the tests on the shared demo world form one group on one worker.
TEST_WORKERS ?= 2
test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run

dev: $(STAMP)
	@mkdir -p data/dagster_home
	@test -f data/dagster_home/dagster.yaml || cp orchestration/dagster.yaml data/dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/data/dagster_home $(BIN)/dagster dev -w workspace.yaml

mlflow: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow.db --port 5000

docs: $(STAMP)
	cd dbt_project && MAILSIFT_WAREHOUSE=$(CURDIR)/data/warehouse.duckdb ../$(BIN)/dbt docs generate --profiles-dir .

clean:
	rm -rf data dbt_project/target dbt_project/logs
