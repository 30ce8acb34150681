"""month_end_close: on the 1st, close the month that just ended.

wait for the month's last ledger_nightly -> compute close metrics -> write the close report.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from closeflow.airflow import (
    default_args,
    monthly_timetable,
    runtime,
    start_date,
    wait_for_run,
    window_of,
)


@dag(
    dag_id="month_end_close",
    schedule=monthly_timetable(),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    default_args=default_args(),
    tags=["closeflow", "close", "metrics"],
    doc_md=__doc__,
)
def month_end_close():
    wait_for_ledger = wait_for_run("wait_for_last_nightly", "ledger_nightly", 5, 12)

    @task
    def close_metrics(**context) -> dict:
        from closeflow.close import close_period

        row = close_period(runtime(), window_of(context).key)  # the month: "2026-01"
        return {k: str(v) for k, v in row.items()}

    wait_for_ledger >> close_metrics()


month_end_close()
