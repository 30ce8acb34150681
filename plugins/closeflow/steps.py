"""A step that writes the warehouse for one window, and the log of what each step did.

Every nightly step (ingest, bank, post, reconcile, marts, report) and the close run
through `warehouse_step`:
- one writer at a time: the step holds the warehouse's run lock (closeflow.run_lock);
- one warehouse connection for the whole step (DuckDB releases the file at the end);
- closed means closed: a step of a window in a locked period writes nothing and says so
  (its summary reads `skipped: period 2026-01 is locked (closed by … )`);
- the step is recorded in raw.step_runs (running, then success, failed or skipped, with
  what it did in numbers): the ledger waits there for its night's ingest and the close
  for every night of its month, pairing runs by window whoever made them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
from dataclasses import dataclass, field

from closeflow import run_lock
from closeflow.runtime import Runtime, Window, period_of

log = logging.getLogger(__name__)


@dataclass
class StepSummary:
    """What one step did for one window, in numbers (or why it did nothing)."""

    step: str
    window: str
    counts: dict[str, int | str] = field(default_factory=dict)

    def line(self) -> str:
        return f"{self.step} {self.window}: " + ", ".join(
            f"{k} {v}" for k, v in self.counts.items()
        )

    @property
    def skipped(self) -> str | None:
        value = self.counts.get("skipped")
        return str(value) if value else None


def record_step(rt: Runtime, step: str, window: Window, status: str, **extra: object) -> None:
    """Write what the latest run of `step` for `window` did into raw.step_runs
    (`started_at`, `finished_at` and a `summary` dict in `extra`)."""
    row = {
        "run_id": window.run_key(step),
        "step": step,
        "window_start": window.start,
        "window_end": window.end,
        "status": status,
        "started_at": extra.pop("started_at"),
        "finished_at": extra.pop("finished_at", None),
        "summary": json.dumps(extra.pop("summary", {}), default=str, ensure_ascii=False),
    }
    with rt.warehouse.transaction() as t:
        t.replace("step_runs", [row], "run_id = :r", {"r": row["run_id"]})


def mark_running(rt: Runtime, step: str, window: Window) -> None:
    """Record that `step` of `window` has started (a step split over several tasks,
    such as the ingest: whoever waits for it waits again until it ends)."""
    record_step(rt, step, window, "running", started_at=dt.datetime.now(dt.UTC))


def closed_reason(rt: Runtime, window: Window) -> str | None:
    """Why `window` may not be written (its period is closed), or None."""
    from closeflow.periods import period_locks

    locks = period_locks(rt)
    period = period_of(window.start)
    if not locks.is_closed(period):
        return None
    return f"{locks.why_closed(period)}: its rows are left as they are"


def warehouse_step(step: str, *, respects_lock: bool = True):
    """Decorate `fn(rt, window, ...) -> StepSummary` (or anything with `.counts` and
    `.line()`) as the warehouse step `step` (see the module docstring)."""

    def decorate(fn):
        @functools.wraps(fn)
        def run(rt: Runtime, window: Window, *args, **kwargs):
            with (
                run_lock.hold(rt.warehouse, f"{step} {window.key}", wait=rt.lock_wait),
                rt.warehouse.connected(),
            ):
                started = dt.datetime.now(dt.UTC)

                def finish(status: str, summary: object) -> None:
                    record_step(
                        rt,
                        step,
                        window,
                        status,
                        started_at=started,
                        finished_at=dt.datetime.now(dt.UTC),
                        summary=summary,
                    )

                reason = closed_reason(rt, window) if respects_lock else None
                if reason is not None:
                    summary = StepSummary(step, window.key, {"skipped": reason})
                    log.warning(summary.line())
                    finish("skipped", summary.counts)
                    return summary
                try:
                    summary = fn(rt, window, *args, **kwargs)
                except BaseException as exc:
                    try:
                        finish("failed", {"error": f"{type(exc).__name__}: {exc}"[:2000]})
                    except Exception:  # the step's own error is what matters
                        log.exception("could not record the failure of %s", step)
                    raise
                finish("success", getattr(summary, "counts", summary))
                return summary

        return run

    return decorate


def step_statuses(rt: Runtime, step: str, first: dt.date, last: dt.date) -> dict[dt.date, str]:
    """The status of `step` for each night from `first` to `last` that has one."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"SELECT window_start, status FROM {raw}.step_runs WHERE step = :s "
        f"AND window_start >= :a AND window_start <= :b AND window_end = window_start + 1",
        {"s": step, "a": first, "b": last},
    ).to_pylist()
    return {r["window_start"]: r["status"] for r in rows}


def first_night(rt: Runtime) -> dt.date | None:
    """The first night closeflow ever ran for this warehouse (its go-live), if any."""
    raw = rt.warehouse.schema
    return rt.warehouse.scalar(
        f"SELECT min(window_start) FROM {raw}.step_runs WHERE step = 'ingest'"
    )


def go_live(rt: Runtime) -> dt.date | None:
    """The first night closeflow owns: company.yml's `go_live`, else the first night it
    ran (first_night), else None (it never ran)."""
    return rt.company.company.go_live or first_night(rt)


NIGHT_BEFORE = "night_before:"


def step_finished(rt: Runtime, step: str, window: Window) -> bool:
    """Whether `step` has finished for `window` (see `finished`), asked the way a sensor
    asks: while another process writes the warehouse the answer is "not yet", and the
    sensor asks again at its next poke."""
    try:
        # a quick read under the run lock: on DuckDB, opening the file while a writer
        # holds it would fail that writer; a busy warehouse is read again at the next poke
        with (
            run_lock.hold(rt.warehouse, f"waiting for {step} of {window.key}"),
            rt.warehouse.connected(),
        ):
            return finished(rt, step, window)
    except Exception as exc:
        if not _transient(exc):
            raise
        log.warning("could not read the step log (%s): will look again", exc)
        return False


def finished(rt: Runtime, step: str, window: Window) -> bool:
    """Whether `step` has finished for `window`: for `step="nights"`, every night of the
    month `window` (closeflow.close.nights_missing); for `"night_before:<step>"`, that
    step for the night before the window's, which night order needs (true when that
    night is before go-live: nothing precedes the first night)."""
    if step == "nights":
        from closeflow.close import nights_missing

        missing = nights_missing(rt, window.key)
        if missing:
            log.info("%s: %d night(s) not finished: %s", window.key, len(missing), missing)
        return not missing
    if step.startswith(NIGHT_BEFORE):
        step = step.removeprefix(NIGHT_BEFORE)
        window = Window.day(window.start - dt.timedelta(days=1), window.tz)
        first = go_live(rt)
        if first is None or window.start < first:
            log.info("%s: before go-live (%s), nothing to wait for", window.key, first)
            return True
    raw = rt.warehouse.schema
    status = rt.warehouse.scalar(
        f"SELECT status FROM {raw}.step_runs WHERE run_id = :r", {"r": window.run_key(step)}
    )
    log.info("%s: %s", window.run_key(step), status or "not run yet")
    return status in ("success", "skipped")


def _transient(exc: Exception) -> bool:
    """A warehouse busy or unreachable for a moment (another process holds DuckDB's file,
    PostgreSQL restarts), as opposed to a fault that waiting does not cure."""
    import duckdb
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, run_lock.WarehouseBusy):
        return True
    if isinstance(exc, duckdb.IOException):
        return "lock" in str(exc).lower()
    return isinstance(exc, OperationalError)
