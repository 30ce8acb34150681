"""Which accounting periods are closed, and where something dated in one goes.

The month-end close locks its period in the warehouse (who, when, which run); only an
explicit reopen, logged with who and why, opens it again. `raw.period_locks` keeps every
lock and reopen as a row of its own and is never updated, so the history is the audit
trail. Periods close in order and reopen from the latest, so what is closed is always
everything through one month (the closed-through period), like most ledgers' lock date.
`company.yml`'s `closed_through` marks periods closed before closeflow kept the books;
those cannot be reopened here.

A closed period changes no more: no step writes into it (a re-run of one of its nights
leaves its rows as they are and says so), and what arrives late for it posts to the
first open period with a note (`place`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from closeflow.failpoints import failpoint
from closeflow.runtime import Runtime, period_of


class PeriodError(ValueError):
    """A lock or reopen that cannot be done, with what to do instead."""


def next_period(period: str) -> str:
    first = dt.date.fromisoformat(period + "-01")
    return period_of((first + dt.timedelta(days=32)).replace(day=1))


def previous_period(period: str) -> str:
    first = dt.date.fromisoformat(period + "-01")
    return period_of(first - dt.timedelta(days=1))


@dataclass(frozen=True)
class LockEvent:
    period: str
    action: str  # lock | reopen
    acted_at: dt.datetime
    acted_by: str
    run_id: str | None
    reason: str | None


@dataclass(frozen=True)
class PeriodLocks:
    """The periods closed now: through `closed_through` (None: none is)."""

    closed_through: str | None
    from_config: str | None  # company.yml's closed_through
    events: tuple[LockEvent, ...] = ()

    def is_closed(self, period: str) -> bool:
        return self.closed_through is not None and period <= self.closed_through

    def first_open_day(self) -> dt.date | None:
        if self.closed_through is None:
            return None
        return dt.date.fromisoformat(next_period(self.closed_through) + "-01")

    def place(self, day: dt.date) -> tuple[dt.date, str | None]:
        """Where a posting dated `day` goes: that day, or the first day of the first open
        period with a note saying why."""
        if not self.is_closed(period_of(day)):
            return day, None
        moved = self.first_open_day()
        return moved, f"period {period_of(day)} is closed; posted to {period_of(moved)}"

    def lock_of(self, period: str) -> LockEvent | None:
        """The event that locked `period`, if it is locked by closeflow."""
        if not self.is_closed(period) or (self.from_config and period <= self.from_config):
            return None
        return next(
            (e for e in reversed(self.events) if e.action == "lock" and e.period >= period),
            None,
        )

    def why_closed(self, period: str) -> str:
        """Why `period` is closed, in words: by whom and when, or by company.yml."""
        event = self.lock_of(period)
        if event is None:
            return f"period {period} is closed (company.yml closed_through {self.from_config})"
        return (
            f"period {period} is locked (closed by {event.acted_by} at "
            f"{event.acted_at:%Y-%m-%d %H:%M} UTC, {event.run_id or 'by hand'})"
        )


def _replay(events: list[LockEvent], floor: str | None) -> str | None:
    """The closed-through period after `events` in order: a lock closes through its
    period; a reopen (always of the latest locked period) goes back to what was closed
    before that lock. company.yml's `floor` stays closed whatever the log says."""
    before: list[str | None] = []
    closed: str | None = None
    for e in events:
        if e.action == "lock":
            before.append(closed)
            closed = e.period
        elif e.action == "reopen" and before:
            closed = before.pop()
    if floor is not None and (closed is None or floor > closed):
        return floor
    return closed


def period_locks(rt: Runtime) -> PeriodLocks:
    """The periods closed now, from the warehouse's lock log and company.yml."""
    rows = rt.warehouse.read_table("period_locks", "TRUE ORDER BY acted_at, action").to_pylist()
    events = [LockEvent(**r) for r in rows]
    floor = rt.company.company.closed_through
    return PeriodLocks(_replay(events, floor), floor, tuple(events))


def _record(rt: Runtime, event: LockEvent) -> None:
    with rt.warehouse.transaction() as t:
        t.insert("period_locks", [event.__dict__])
        failpoint(f"{event.action}:{event.period}")


def lock(
    rt: Runtime, period: str, by: str, run_id: str | None, at: dt.datetime | None = None
) -> tuple[LockEvent, bool]:
    """Lock `period` (the close); return the lock and whether it was locked just now.

    Locking a locked period changes nothing. Periods lock in order: the one before must
    be closed, unless no period was ever closed (the first close)."""
    locks = period_locks(rt)
    if locks.is_closed(period):
        return locks.lock_of(period) or LockEvent(
            period, "lock", dt.datetime.min.replace(tzinfo=dt.UTC), "company.yml", None, None
        ), False
    if locks.closed_through is not None and locks.closed_through != previous_period(period):
        raise PeriodError(
            f"period {period} cannot be locked before {next_period(locks.closed_through)}: "
            f"periods close in order (closed through {locks.closed_through})"
        )
    event = LockEvent(period, "lock", at or dt.datetime.now(dt.UTC), by, run_id, None)
    _record(rt, event)
    return event, True


def reopen(
    rt: Runtime, period: str, by: str, reason: str, at: dt.datetime | None = None
) -> LockEvent:
    """Reopen `period`, logged with who and why. Only the latest closed period reopens
    (reopen later ones first); periods closed in company.yml do not."""
    reason, by = (reason or "").strip(), (by or "").strip()
    if not reason:
        raise PeriodError("give a reason: the audit trail records why a period reopens")
    if not by:
        raise PeriodError("say who reopens the period: the audit trail records it")
    locks = period_locks(rt)
    if not locks.is_closed(period):
        raise PeriodError(f"period {period} is not closed")
    if locks.from_config and period <= locks.from_config:
        raise PeriodError(
            f"period {period} was closed before closeflow (company.yml closed_through "
            f"{locks.from_config}): change company.yml to reopen it"
        )
    if period != locks.closed_through:
        raise PeriodError(
            f"reopen {locks.closed_through} first: periods reopen from the latest closed one"
        )
    event = LockEvent(period, "reopen", at or dt.datetime.now(dt.UTC), by, "cli", reason)
    _record(rt, event)
    return event
