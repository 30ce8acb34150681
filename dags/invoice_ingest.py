"""invoice_ingest: every night, read the invoices received the day before.

wait for the night before's ingest (night order: which copy of a re-sent invoice is the
original depends on it; in the warehouse's step log, by window) -> scan (take what the
window received: archived and recorded on its first run, read from the archive on every
re-run) -> extract each batch (mapped, so Celery workers share a
peak) -> load the window's manifest, invoices and review items in one transaction.
scan and load write the warehouse: they run in the one-slot warehouse pool.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from closeflow.airflow import (
    NIGHT,
    OCR_QUEUE,
    WAREHOUSE_POOL,
    default_args,
    nightly_timetable,
    runtime,
    start_date,
    wait_for_step,
    window_of,
    window_params,
)

INVOICES = Asset("closeflow://raw/invoices")


@dag(
    dag_id="invoice_ingest",
    schedule=nightly_timetable(),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    params=window_params(NIGHT),
    default_args=default_args(),
    tags=["closeflow", "ingest", "ocr"],
    doc_md=__doc__,
)
def invoice_ingest():
    @task(pool=WAREHOUSE_POOL)
    def scan(**context) -> list[dict]:
        from closeflow.ingest import make_batches, scan_inbox

        paths = scan_inbox(runtime(), window_of(context))
        print(f"{len(paths)} files received in {window_of(context).key}")
        return [{"batch_no": i, "paths": b} for i, b in enumerate(make_batches(paths))]

    @task(max_active_tis_per_dag=4, queue=OCR_QUEUE)
    def extract(batch: dict, **context) -> str:
        from closeflow.ingest import extract_batch

        return extract_batch(runtime(), window_of(context), batch["batch_no"], batch["paths"])

    @task(outlets=[INVOICES], trigger_rule="none_failed", pool=WAREHOUSE_POOL)
    def load(batch_files: list[str], **context) -> dict:
        from closeflow.ingest import load_window

        summary = load_window(runtime(), window_of(context), list(batch_files or []))
        print(summary.line())
        return summary.counts

    batches = scan()
    wait_for_step("wait_for_night_before", "night_before:ingest", 1, 6) >> batches
    load(extract.expand(batch=batches))


invoice_ingest()
