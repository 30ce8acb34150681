"""ledger_nightly: every night, turn the day's documents into books and a report.

wait for that night's ingest and for the night before to have finished (in the
warehouse's step log, by window: night order holds however the runs were made) -> import bank
statements -> post invoices -> reconcile bank lines -> dbt build (ledger marts and their
tests) -> reconciliation report -> mail it to finance. Every task after the wait but the
mail writes the warehouse: they run in the one-slot warehouse pool. The mail reads the
archived report only; it never fails the run (a mail server that is down is recorded).
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from closeflow.airflow import (
    NIGHT,
    WAREHOUSE_POOL,
    default_args,
    nightly_deadline,
    nightly_timetable,
    runtime,
    start_date,
    wait_for_step,
    window_of,
    window_params,
)

LEDGER = Asset("closeflow://raw/journal_lines")
MARTS = Asset("closeflow://marts/trial_balance")


@dag(
    dag_id="ledger_nightly",
    schedule=nightly_timetable(),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    params=window_params(NIGHT),
    deadline=nightly_deadline(),  # done by 06:00 (CLOSEFLOW_NIGHT_DEADLINE) or on-call is told
    default_args=default_args(),
    tags=["closeflow", "ledger", "reconciliation", "dbt"],
    doc_md=__doc__,
)
def ledger_nightly():
    # this night's invoices are in, and the night before is done (night order)
    wait_for_ingest = wait_for_step("wait_for_ingest", ("ingest", "night_before:report"), 1, 6)

    @task(pool=WAREHOUSE_POOL)
    def import_bank(**context) -> dict:
        from closeflow.bank_import import import_bank

        return import_bank(runtime(), window_of(context)).counts

    @task(outlets=[LEDGER], pool=WAREHOUSE_POOL)
    def post(**context) -> dict:
        from closeflow.invoice_posting import post

        return post(runtime(), window_of(context)).counts

    @task(outlets=[LEDGER], pool=WAREHOUSE_POOL)
    def reconcile(**context) -> dict:
        from closeflow.reconciliation import reconcile_window

        return reconcile_window(runtime(), window_of(context)).counts

    @task(outlets=[MARTS], pool=WAREHOUSE_POOL)
    def build_marts(**context) -> dict:
        from closeflow.pipeline import build_marts

        return build_marts(runtime(), window_of(context)).counts

    @task(pool=WAREHOUSE_POOL)
    def report(**context) -> dict:
        from closeflow.report import nightly_report

        return nightly_report(runtime(), window_of(context)).counts

    @task
    def mail_report(**context) -> dict:
        from closeflow.report_mail import mail_report

        return mail_report(runtime(), window_of(context)).counts

    (
        wait_for_ingest
        >> import_bank()
        >> post()
        >> reconcile()
        >> build_marts()
        >> report()
        >> mail_report()
    )


ledger_nightly()
