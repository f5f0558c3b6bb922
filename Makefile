# mailsift: `make demo` and `make test` are the two commands; both set up .venv when it is missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench dev mlflow docs clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mailsift demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
