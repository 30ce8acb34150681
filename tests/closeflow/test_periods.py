"""The period lock: periods close in order, reopen from the latest, logged; what is
dated in a closed period goes to the first open one."""

from __future__ import annotations

import datetime as dt

import pytest

from closeflow.periods import PeriodError, lock, period_locks, reopen
from closeflow.runtime import Runtime

AT = dt.datetime(2026, 2, 3, 7, 15, tzinfo=dt.UTC)


def _runtime(home, closed_through: str | None = None) -> Runtime:
    company = home / "company"
    company.mkdir(parents=True, exist_ok=True)
    extra = f'closed_through: "{closed_through}"\n' if closed_through else ""
    (company / "company.yml").write_text('name: "Test GmbH"\n' + extra)
    (company / "chart_of_accounts.yml").write_text("accounts: []\n")
    (company / "suppliers.yml").write_text("suppliers: []\n")
    return Runtime(home=home, warehouse_url=f"duckdb:///{home / 'wh.duckdb'}")


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    rt = _runtime(tmp_path)
    if request.param == "postgresql":
        rt = Runtime(home=tmp_path, warehouse_url=request.getfixturevalue("pg_url"))
    yield rt
    rt.warehouse.dispose()


def test_periods_lock_in_order_and_reopen_from_the_latest(rt):
    assert period_locks(rt).closed_through is None
    event, new = lock(rt, "2026-01", "closeflow month_end_close", "close:2026-01", at=AT)
    assert new and event.period == "2026-01"
    assert lock(rt, "2026-01", "someone else", None)[1] is False  # already locked: nothing
    with pytest.raises(PeriodError, match="2026-03 cannot be locked before 2026-02"):
        lock(rt, "2026-03", "x", None)
    lock(rt, "2026-02", "closeflow month_end_close", "close:2026-02", at=AT)
    locks = period_locks(rt)
    assert locks.closed_through == "2026-02"
    assert locks.is_closed("2025-11") and locks.is_closed("2026-02")
    assert not locks.is_closed("2026-03")
    with pytest.raises(PeriodError, match="reopen 2026-02 first"):
        reopen(rt, "2026-01", "m.kraus", "a late credit note")
    with pytest.raises(PeriodError, match="period 2026-03 is not closed"):
        reopen(rt, "2026-03", "m.kraus", "x")
    reopen(rt, "2026-02", "m.kraus", "a late credit note", at=AT + dt.timedelta(hours=1))
    assert period_locks(rt).closed_through == "2026-01"
    reopen(rt, "2026-01", "m.kraus", "audit finding", at=AT + dt.timedelta(hours=2))
    assert period_locks(rt).closed_through is None
    lock(rt, "2026-01", "closeflow month_end_close", "close:2026-01", at=AT + dt.timedelta(days=1))
    locks = period_locks(rt)
    assert locks.closed_through == "2026-01"
    assert [(e.action, e.period) for e in locks.events] == [
        ("lock", "2026-01"),
        ("lock", "2026-02"),
        ("reopen", "2026-02"),
        ("reopen", "2026-01"),
        ("lock", "2026-01"),
    ]
    assert locks.why_closed("2026-01") == (
        "period 2026-01 is locked (closed by closeflow month_end_close at 2026-02-04 07:15 "
        "UTC, close:2026-01)"
    )


def test_a_posting_dated_in_a_closed_period_goes_to_the_first_open_day(rt):
    lock(rt, "2026-01", "closeflow month_end_close", "close:2026-01", at=AT)
    locks = period_locks(rt)
    assert locks.place(dt.date(2026, 1, 28)) == (
        dt.date(2026, 2, 1),
        "period 2026-01 is closed; posted to 2026-02",
    )
    assert locks.place(dt.date(2025, 12, 31))[0] == dt.date(2026, 2, 1)
    assert locks.place(dt.date(2026, 2, 3)) == (dt.date(2026, 2, 3), None)


def test_periods_closed_in_company_yml_stay_closed(tmp_path):
    rt = _runtime(tmp_path, closed_through="2025-12")
    locks = period_locks(rt)
    assert locks.closed_through == "2025-12"
    assert locks.why_closed("2025-12") == (
        "period 2025-12 is closed (company.yml closed_through 2025-12)"
    )
    lock(rt, "2026-01", "closeflow month_end_close", "close:2026-01", at=AT)
    assert period_locks(rt).why_closed("2025-12").endswith("(company.yml closed_through 2025-12)")
    with pytest.raises(PeriodError, match="closed before closeflow"):
        reopen(rt, "2025-12", "m.kraus", "x")
    reopen(rt, "2026-01", "m.kraus", "audit", at=AT + dt.timedelta(hours=1))
    assert period_locks(rt).closed_through == "2025-12"  # the floor stays
    with pytest.raises(PeriodError, match="closed before closeflow"):
        reopen(rt, "2025-12", "m.kraus", "x")
    rt.warehouse.dispose()
