"""Run the DAGs for a range of nights through Airflow on this machine.

Each night is a real DAG run (`dag.test()`: recorded in Airflow's metadata database,
tasks run with their dependencies, mapped tasks expanded), first invoice_ingest and then
ledger_nightly, and month_end_close after each month's last night. This is what
`make run` uses on the embedded default; with a scheduler running, `airflow backfill
create` does the same for data engineers.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)


def _trigger_instant(day: dt.date, tz: str) -> dt.datetime:
    """When the nightly run owning `day` triggers: the next midnight, company time."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=ZoneInfo(tz))


def load_dags(dag_ids: tuple[str, ...] = ("invoice_ingest", "ledger_nightly", "month_end_close")):
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag()
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    dags = {d: bag.get_dag(d) for d in dag_ids}
    for dag in dags.values():
        # a deadline is the scheduler's to watch (closeflow.airflow.deadlines); dag.test()
        # runs the night in this process, and Airflow 3.3's dag.test() cannot evaluate a
        # DAG's DeadlineAlert (it looks the alert up by id in the metadata DB and fails)
        dag.deadline = None
    return dags


def _month_ready(period: str) -> None:
    """Refuse to start a close whose sensor would wait for nights nobody runs here."""
    from closeflow.airflow import runtime
    from closeflow.close import nights_missing

    rt = runtime()
    with rt.warehouse.connected():
        missing = nights_missing(rt, period)
    if missing:
        shown = ", ".join(str(d) for d in missing[:5]) + (" …" if len(missing) > 5 else "")
        raise RuntimeError(
            f"month_end_close for {period} not started: {len(missing)} night(s) of the month "
            f"have not run ({shown}); run them first"
        )


def _night_before_ready(first: dt.date) -> None:
    """Refuse to start with a night whose night-order sensors would wait for a night
    before it that nobody runs here (closeflow.steps: `night_before:`)."""
    from closeflow.airflow import runtime
    from closeflow.runtime import Window
    from closeflow.steps import NIGHT_BEFORE, finished

    rt = runtime()
    night = Window.day(first, rt.tz)
    with rt.warehouse.connected():
        waits = [s for s in ("ingest", "report") if not finished(rt, NIGHT_BEFORE + s, night)]
    if waits:
        before = first - dt.timedelta(days=1)
        raise RuntimeError(
            f"the night of {first} not started: the night before ({before}) has not finished "
            f"its {' and '.join(waits)}, and nights run in order; run from {before} (or from "
            "the first night that has not run)"
        )


def run_nights(
    first: dt.date,
    last: dt.date,
    tz: str,
    close: bool = True,
    on_run: Callable[[str, str, str], None] | None = None,
) -> list[tuple[str, str, str]]:
    """Run every night from `first` to `last` (inclusive); return (dag, window, state).

    Hold the warehouse's run lock around it (closeflow.run_lock): the DAG runs here are
    one process's, and no other run may interleave its nights."""
    from closeflow.airflow import ensure_pool

    ensure_pool()
    _night_before_ready(first)
    dags = load_dags()
    results = []

    def run(dag_id: str, day: dt.date, label: str) -> None:
        dr = dags[dag_id].test(logical_date=_trigger_instant(day, tz))
        state = str(getattr(dr.state, "value", dr.state))
        results.append((dag_id, label, state))
        if on_run:
            on_run(dag_id, label, state)
        if state != "success":
            raise RuntimeError(f"{dag_id} for {label} ended {state}: see the task logs")

    day = first
    while day <= last:
        run("invoice_ingest", day, day.isoformat())
        run("ledger_nightly", day, day.isoformat())
        if close and (day + dt.timedelta(days=1)).day == 1:
            _month_ready(day.strftime("%Y-%m"))
            run("month_end_close", day, day.strftime("%Y-%m"))
        day += dt.timedelta(days=1)
    return results
