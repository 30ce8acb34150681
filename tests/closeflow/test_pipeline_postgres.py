"""The nightly steps with the warehouse and dbt on PostgreSQL (the multi-machine setup)."""

from __future__ import annotations

import datetime as dt

import pytest

from closeflow.pipeline import run_night
from closeflow.runtime import Runtime
from closeflow.sample import generate

NIGHTS = [dt.date(2026, 1, 2), dt.date(2026, 1, 5)]


@pytest.fixture(scope="module")
def runtime(tmp_path_factory, pg_module_url):
    home = tmp_path_factory.mktemp("pg-home")
    generate(home, start=dt.date(2026, 1, 1), months=1, seed=7, days=6)
    rt = Runtime(home=home, warehouse_url=pg_module_url)
    for day in NIGHTS:
        run_night(rt, day)
    yield rt
    rt.warehouse.dispose()


def _state(rt: Runtime) -> dict[str, list]:
    out = {}
    for name in (
        "file_manifest",
        "invoices",
        "journal_lines",
        "bank_lines",
        "matches",
        "review_queue",
        "open_items",
    ):
        out[name] = sorted(rt.warehouse.read_table(name).to_pylist(), key=repr)
    out["trial_balance"] = sorted(
        rt.warehouse.query("SELECT * FROM analytics.trial_balance").to_pylist(), key=repr
    )
    return out


def test_books_balance_on_postgres(runtime):
    wh = runtime.warehouse
    assert wh.scalar("SELECT count(*) FROM raw.journal_lines") > 20
    assert (
        wh.scalar(
            "SELECT count(*) FROM (SELECT entry_id FROM raw.journal_lines "
            "GROUP BY entry_id HAVING SUM(amount) <> 0) x"
        )
        == 0
    )
    rows = wh.query(
        "SELECT period, SUM(closing_balance) AS total, count(*) AS n "
        "FROM analytics.trial_balance GROUP BY period ORDER BY period"
    ).to_pylist()
    assert rows and all(r["total"] == 0 and r["n"] > 3 for r in rows)
    types = wh.query(
        "SELECT data_type, numeric_precision, numeric_scale FROM "
        "information_schema.columns WHERE table_schema = 'analytics' AND "
        "table_name = 'trial_balance' AND column_name = 'closing_balance'"
    ).to_pylist()
    assert types == [{"data_type": "numeric", "numeric_precision": 18, "numeric_scale": 2}]


def test_every_night_file_is_in_the_manifest_once(runtime):
    got = runtime.warehouse.query(
        "SELECT run_id, count(*) AS n, count(DISTINCT source_uri) AS uris "
        "FROM raw.file_manifest GROUP BY run_id ORDER BY run_id"
    ).to_pylist()
    assert [r["run_id"] for r in got] == [  # the statement files have their rows too
        "bank:2026-01-02",
        "bank:2026-01-05",
        "ingest:2026-01-02",
        "ingest:2026-01-05",
    ]
    assert all(r["n"] == r["uris"] > 0 for r in got)


def test_rerun_on_postgres_changes_nothing(runtime):
    before = _state(runtime)
    run_night(runtime, NIGHTS[0])  # ingest, ledger, dbt build and report again
    assert _state(runtime) == before
