"""A DAG for the Celery deployment test: one task mapped over eight inputs on the `ocr`
queue (as OCR fans out over the inbox's files), then one task on the default queue that
sees every mapped result."""

import datetime as dt
import os
import socket
import time

from airflow.sdk import dag, task


@dag(schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False, tags=["test"])
def celery_fanout():
    @task(queue="ocr")
    def read(n: int) -> dict:
        time.sleep(1)  # long enough that one worker cannot take every item
        return {"n": n, "worker": os.environ.get("CLOSEFLOW_TEST_WORKER", socket.gethostname())}

    @task
    def collect(results: list[dict]) -> dict:
        return {
            "items": sorted(r["n"] for r in results),
            "workers": sorted({r["worker"] for r in results}),
        }

    collect(read.expand(n=list(range(8))))


celery_fanout()
