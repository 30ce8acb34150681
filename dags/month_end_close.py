"""month_end_close: on the 1st, close the month that just ended.

wait for the month's last ledger_nightly -> compute close metrics -> write the close report.
"""

from __future__ import annotations

from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.sdk import dag, task

from closeflow.airflow import default_args, monthly_timetable, runtime, start_date


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
    # Its logical date (the 1st, 00:00) is the logical date of the ledger run for the
    # month's last day, so the sensor waits for exactly that run.
    wait_for_ledger = ExternalTaskSensor(
        task_id="wait_for_last_nightly",
        external_dag_id="ledger_nightly",
        mode="reschedule",
        poke_interval=300,
        timeout=12 * 3600,
    )

    @task
    def close_metrics(**context) -> dict:
        from closeflow.close import close_period
        from closeflow.runtime import Window

        start = context["data_interval_start"]
        period = Window.from_interval(start, context["data_interval_end"], runtime().tz).start
        row = close_period(runtime(), period.strftime("%Y-%m"))
        return {k: str(v) for k, v in row.items()}

    wait_for_ledger >> close_metrics()


month_end_close()
