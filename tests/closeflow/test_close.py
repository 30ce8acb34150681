"""Month-end close metrics: touchless and wrong-posting rates from the ledger's signals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from closeflow.close import close_metrics
from closeflow.pipeline import summary_lines
from closeflow.review import review_item
from closeflow.runtime import Runtime
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers

RECEIVED = dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC)


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    start, end = dt.date(2026, 1, 1), dt.date(2026, 2, 1)
    write_company_folder(
        tmp_path / "company",
        build_company(7),
        build_suppliers(7),
        cny_rates(7, start, end),
        "2026-01",
    )
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    rt = Runtime(home=tmp_path, warehouse_url=url)
    yield rt
    rt.warehouse.dispose()


def _file(sha: str, status: str) -> dict:
    return {
        "file_sha256": sha,
        "source_uri": f"inbox/{sha}.pdf",
        "received_at": RECEIVED,
        "size_bytes": 1000,
        "media_type": "application/pdf",
        "status": status,
        "reason": None if status == "extracted" else "low confidence",
        "run_id": "ingest:2026-01-05",
    }


def _entry(
    source_id: str, run: str, account: str = "6200", source_type: str = "invoice", rule="r1"
) -> list[dict]:
    base = {
        "entry_id": f"{source_type[:3].upper()}-{source_id}-{run}",
        "entry_date": dt.date(2026, 1, 5),
        "period": "2026-01",
        "currency": "EUR",
        "fx_rate": Decimal("1"),
        "cost_center": None,
        "supplier_id": "SUP-001",
        "source_type": source_type,
        "source_id": source_id,
        "rule_id": rule,
        "rule_version": "v1",
        "description": "test",
        "run_id": run,
        "project": None,
    }
    legs = [(1, account, Decimal("100.00")), (2, "2000", Decimal("-100.00"))]
    return [base | {"line_no": n, "account": a, "amount": x, "amount_txn": x} for n, a, x in legs]


def test_touchless_and_wrong_posting_rates_follow_the_corrections(rt):
    """Five invoices read and one file in review; A-D auto-posted by rules, E posted only
    after it waited in review. B gets a manual correction, C is re-posted to another
    account, D is posted again to the same accounts (no correction)."""
    ids = "ABCDEF"
    lines = [row for i in "ABCD" for row in _entry(i, "post:2026-01-05")]
    lines += _entry("E", "post:2026-01-06")
    lines += _entry("B", "manual:2026-01-20", "6300", "manual", rule=None)
    lines += _entry("C", "post:2026-01-09", "6400")
    lines += _entry("D", "post:2026-01-09")
    review = [
        review_item("invoice", "E", "no posting rule matches this supplier", "post:2026-01-05")
    ]
    review[0]["resolved_at"] = dt.datetime(2026, 1, 6, tzinfo=dt.UTC)
    with rt.warehouse.transaction() as t:
        t.insert("file_manifest", [_file(i, "extracted") for i in ids[:5]])
        t.insert("file_manifest", [_file("F", "needs_review")])
        t.insert("journal_lines", lines)
        t.insert("review_queue", review)
    m = close_metrics(rt, "2026-01")
    assert (m["invoices_received"], m["invoices_posted"]) == (6, 5)
    assert (m["invoices_auto_posted"], m["invoices_corrected"], m["invoices_touchless"]) == (
        4,
        2,
        2,
    )
    assert m["touchless_rate"] == Decimal("0.333333")
    assert m["wrong_posting_rate"] == Decimal("0.500000")
    [stored] = rt.warehouse.read_table("close_metrics").to_pylist()
    assert stored["wrong_posting_rate"] == Decimal("0.500000") and stored["invoices_touchless"] == 2
    text = "\n".join(summary_lines(rt, "2026-01"))
    assert "touchless rate 33.3 %" in text
    assert "auto-posted 4, touchless 2, corrected later 2 (wrong-posting rate 50.0 %)" in text


def test_nothing_corrected_means_a_zero_wrong_posting_rate(rt):
    with rt.warehouse.transaction() as t:
        t.insert("file_manifest", [_file(i, "extracted") for i in "AB"])
        t.insert("journal_lines", [row for i in "AB" for row in _entry(i, "post:2026-01-05")])
    m = close_metrics(rt, "2026-01")
    assert (m["invoices_auto_posted"], m["invoices_touchless"], m["invoices_corrected"]) == (
        2,
        2,
        0,
    )
    assert m["touchless_rate"] == Decimal("1.000000") and m["wrong_posting_rate"] == 0


def test_the_close_waits_for_every_night_of_the_month(rt):
    """The month closes only when every night since go-live has finished; it says which
    have not, and the sensor's question (step_finished) answers the same."""
    from closeflow.close import CloseNotReady, close_period, nights_missing
    from closeflow.runtime import Window
    from closeflow.steps import record_step, step_finished

    month = Window.month("2026-01", rt.tz)
    for day in range(5, 31):  # the 5th (go-live: the first night run) to the 30th
        night = Window.day(dt.date(2026, 1, day), rt.tz)
        record_step(rt, "ingest", night, "success", started_at=RECEIVED)
        record_step(rt, "report", night, "success", started_at=RECEIVED)
    assert nights_missing(rt, "2026-01") == [dt.date(2026, 1, 31)]
    assert not step_finished(rt, "nights", month)
    with pytest.raises(CloseNotReady, match=r"waits for 1 night\(s\) not finished yet: 2026-01-31"):
        close_period(rt, month)
    record_step(
        rt, "report", Window.day(dt.date(2026, 1, 31), rt.tz), "success", started_at=RECEIVED
    )
    assert step_finished(rt, "nights", month)
    assert close_period(rt, month).row["period"] == "2026-01"


def test_a_night_waits_for_the_night_before_unless_it_is_the_first(rt, monkeypatch):
    """Night order, as the sensors ask it: nothing precedes the first night (go-live);
    after it, a night waits until the night before has finished the step."""
    from closeflow.runtime import Window
    from closeflow.steps import record_step, step_finished

    def night(day: int) -> Window:
        return Window.day(dt.date(2026, 1, day), rt.tz)

    assert step_finished(rt, "night_before:ingest", night(5))  # never ran: a first night
    record_step(rt, "ingest", night(5), "success", started_at=RECEIVED)
    assert step_finished(rt, "night_before:ingest", night(6))
    assert not step_finished(rt, "night_before:ingest", night(7))  # the 6th has not run
    assert step_finished(rt, "night_before:ingest", night(3))  # before go-live (the 5th)
    record_step(rt, "ingest", night(6), "failed", started_at=RECEIVED)
    assert not step_finished(rt, "night_before:ingest", night(7))  # a failed night blocks
    assert not step_finished(rt, "night_before:report", night(6))  # not reported yet
    record_step(rt, "ingest", night(6), "success", started_at=RECEIVED)
    assert step_finished(rt, "night_before:ingest", night(7))

    # `closeflow airflow nights` refuses to start where its sensors would wait forever
    from closeflow.airflow.local_runs import _night_before_ready

    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    refused = r"\(2026-01-06\) has not finished its report, and nights run in order"
    with pytest.raises(RuntimeError, match=refused):
        _night_before_ready(dt.date(2026, 1, 7))
    record_step(rt, "report", night(5), "success", started_at=RECEIVED)
    _night_before_ready(dt.date(2026, 1, 6))  # the 5th is done: the 6th may start


def test_a_period_is_locked_and_reopened_from_the_command_line(rt, monkeypatch, capsys):
    """`closeflow period lock|status|reopen`: the reopen is logged with who and why, and
    recomputes the period's close metrics."""
    from closeflow.cli import main

    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    first = dt.datetime(2026, 2, 3, 7, tzinfo=dt.UTC)
    close_metrics(rt, "2026-01", computed_at=first)
    assert main(["period", "lock", "2026-01", "--by", "m.kraus"]) == 0
    assert "lock 2026-01: period 2026-01, locked by m.kraus at " in capsys.readouterr().out
    assert main(["period", "lock", "2026-01", "--by", "someone"]) == 0
    assert "already locked by m.kraus" in capsys.readouterr().out
    assert main(["period", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("closed through: 2026-01\n") and "lock 2026-01 by m.kraus" in out
    assert main(["period", "reopen", "2026-01", "--by", "a.chef", "--reason", "late credit"]) == 0
    assert "period 2026-01 reopened by a.chef" in capsys.readouterr().out
    [m] = rt.warehouse.read_table("close_metrics").to_pylist()
    assert m["computed_at"] > first
    assert main(["period", "status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("closed through: nothing closed\n")
    assert "reopen 2026-01 by a.chef (late credit)" in out
    assert main(["period", "reopen", "2026-01", "--by", "a", "--reason", "x"]) == 2
    assert "period 2026-01 is not closed" in capsys.readouterr().err


def test_a_sensor_asking_while_another_run_writes_hears_not_yet(rt):
    """The sensors' question takes the run lock for its quick read: while another run
    writes the warehouse the answer is "not yet" (never a failed writer on DuckDB)."""
    import subprocess
    import sys
    import time

    from closeflow.runtime import Window
    from closeflow.steps import record_step, step_finished

    night = Window.day(dt.date(2026, 1, 5), rt.tz)
    record_step(rt, "ingest", night, "success", started_at=RECEIVED)
    assert step_finished(rt, "ingest", night)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom closeflow import run_lock\n"
         "from closeflow.warehouse import Warehouse\n"
         "with run_lock.hold(Warehouse(sys.argv[1]), 'post 2026-01-06'):\n"
         "    print('held', flush=True); time.sleep(30)\n", rt.warehouse_url],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not step_finished(rt, "ingest", night)
    finally:
        holder.kill()
        holder.wait()
    for _ in range(100):  # PostgreSQL frees the dead holder's lock when it sees it gone
        if step_finished(rt, "ingest", night):
            break
        time.sleep(0.1)
    else:
        pytest.fail("the lock outlived its holder")
