# closeflow: `make run` runs the sample company's first month through Airflow;
# `make test` runs the whole suite. Both set everything up first.

MONTHS ?= 1
START ?= 2026-01-01
SEED ?= 7

export AIRFLOW_HOME := $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(CURDIR)/.airflow/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(CURDIR)/.airflow/airflow.db
export AIRFLOW__LOGGING__BASE_LOG_FOLDER := $(CURDIR)/.airflow/logs
export CLOSEFLOW_HOME ?= $(CURDIR)/var
export CLOSEFLOW_WAREHOUSE_URL ?= duckdb:///$(CLOSEFLOW_HOME)/warehouse.duckdb
export OMP_THREAD_LIMIT := 1

PY := .venv/bin/python
CLOSEFLOW := .venv/bin/closeflow

.PHONY: setup run test lint bench clean

setup:
	@bash scripts/setup.sh

run: setup
	@rm -rf "$(CLOSEFLOW_HOME)"
	@echo "== generating the sample company ($(MONTHS) month(s) from $(START), seed $(SEED))"
	@$(CLOSEFLOW) sample generate --home "$(CLOSEFLOW_HOME)" --start $(START) --months $(MONTHS) --seed $(SEED) >/dev/null
	@echo "== running every night and month end through Airflow"
	@$(CLOSEFLOW) airflow nights --from $(START) --to $$($(PY) -c "import datetime as d; s=d.date.fromisoformat('$(START)'); m=s.month-1+$(MONTHS); print(d.date(s.year+m//12, m%12+1, 1)-d.timedelta(days=1))")
	@echo "== summary"
	@for p in $$($(PY) -c "import datetime as d; s=d.date.fromisoformat('$(START)'); print(' '.join(f'{s.year+(s.month-1+i)//12}-{(s.month-1+i)%12+1:02d}' for i in range($(MONTHS))))"); do $(CLOSEFLOW) summary --period $$p; done
	@echo "reconciliation reports: $(CLOSEFLOW_HOME)/reports/daily/   close metrics: $(CLOSEFLOW_HOME)/reports/close/"

lint: setup
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

test: setup lint
	@$(PY) -m pytest -q

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf var .airflow dbt_project/target dbt_project/logs .pytest_cache
