"""ledger_nightly: every night, turn the day's documents into books and a report.

wait for that night's invoice_ingest -> import bank statements -> post invoices ->
reconcile bank lines -> dbt build (ledger marts and their tests) -> reconciliation report.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from closeflow.airflow import (
    default_args,
    nightly_timetable,
    runtime,
    start_date,
    wait_for_run,
    window_of,
)

LEDGER = Asset("closeflow://raw/journal_lines")
MARTS = Asset("closeflow://marts/trial_balance")


@dag(
    dag_id="ledger_nightly",
    schedule=nightly_timetable(),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["closeflow", "ledger", "reconciliation", "dbt"],
    doc_md=__doc__,
)
def ledger_nightly():
    wait_for_ingest = wait_for_run("wait_for_ingest", "invoice_ingest", 1, 6)

    @task
    def import_bank(**context) -> dict:
        from closeflow.ledger import import_bank

        return import_bank(runtime(), window_of(context)).counts

    @task(outlets=[LEDGER])
    def post(**context) -> dict:
        from closeflow.ledger import post

        return post(runtime(), window_of(context)).counts

    @task(outlets=[LEDGER])
    def reconcile(**context) -> dict:
        from closeflow.ledger import reconcile_window

        return reconcile_window(runtime(), window_of(context)).counts

    @task(outlets=[MARTS])
    def build_marts() -> dict:
        from closeflow.dbt import build

        rt = runtime()
        return build(rt.warehouse_url, rt.raw_schema, rt.dbt_schema).as_dict()

    @task
    def report(**context) -> dict:
        from closeflow.report import nightly_report

        return nightly_report(runtime(), window_of(context))

    wait_for_ingest >> import_bank() >> post() >> reconcile() >> build_marts() >> report()


ledger_nightly()
