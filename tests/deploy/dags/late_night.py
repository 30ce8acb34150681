"""A DAG for the deadline test: closeflow's own nightly deadline, due five seconds after
the run is queued, on a task that takes longer."""

import datetime as dt
import time

from airflow.sdk import dag, task

from closeflow.airflow.deadlines import nightly_deadline


@dag(
    schedule=None,
    start_date=dt.datetime(2026, 1, 1),
    catchup=False,
    deadline=nightly_deadline(dt.timedelta(seconds=5)),
    tags=["test"],
)
def late_night():
    @task
    def slow() -> None:
        time.sleep(25)

    slow()


late_night()
