"""month_end_close: on the 1st, close the month that just ended.

wait until every night of the month has finished (in the warehouse's step log) ->
compute the close metrics and write the close report -> lock the period, so nothing
writes into it any more (only `closeflow period reopen` opens it again, logged).
"""

from __future__ import annotations

from airflow.sdk import dag, task

from closeflow.airflow import (
    MONTH,
    WAREHOUSE_POOL,
    default_args,
    monthly_timetable,
    runtime,
    start_date,
    wait_for_step,
    window_of,
    window_params,
)


@dag(
    dag_id="month_end_close",
    schedule=monthly_timetable(),
    start_date=start_date(),
    catchup=False,
    max_active_runs=1,
    params=window_params(MONTH),
    default_args=default_args(),
    tags=["closeflow", "close", "metrics"],
    doc_md=__doc__,
)
def month_end_close():
    wait_for_nights = wait_for_step("wait_for_month_nights", "nights", 5, 12, MONTH)

    @task(pool=WAREHOUSE_POOL)
    def close_metrics(**context) -> dict:
        from closeflow.close import close_period

        summary = close_period(runtime(), window_of(context, MONTH))  # "2026-01"
        return {k: str(v) for k, v in summary.counts.items()}

    @task(pool=WAREHOUSE_POOL)
    def lock_period(**context) -> dict:
        from closeflow.close import lock_period

        return lock_period(runtime(), window_of(context, MONTH)).counts

    wait_for_nights >> close_metrics() >> lock_period()


month_end_close()
