"""Held-back accuracy of the learned suggestions on the sample company's postings.

The sample's invoices (its ground truth, as OCR reads a clean document) are ingested
night by night into a real DuckDB warehouse and posted by the nightly posting step; the
month-end close and `closeflow rules accuracy` then measure how often a model trained on
that approved history puts the right account first on the history held back.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from closeflow.cli import main
from closeflow.close import close_metrics
from closeflow.invoice_posting import post
from closeflow.pipeline import summary_lines
from closeflow.runtime import Runtime, Window

TZ = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def rt(sample, tmp_path_factory):
    home = tmp_path_factory.mktemp("acc")  # the sample's company; its own reports
    shutil.copytree(sample.home / "company", home / "company")
    rt = Runtime(home=home, warehouse_url=f"duckdb:///{home / 'warehouse.duckdb'}")
    files, invoices, lines, nights = [], [], [], set()
    for doc in sample.documents:
        inv = doc["invoice"]
        if inv is None or doc["expected_status"] != "extracted":
            continue
        received = dt.datetime.fromisoformat(doc["received_at"])
        night = received.astimezone(TZ).date()
        nights.add(night)
        files.append(
            {
                "file_sha256": doc["sha256"],
                "source_uri": doc["file"],
                "received_at": received,
                "size_bytes": 1,
                "media_type": "application/pdf",
                "status": "extracted",
                "reason": None,
                "run_id": f"ingest:{night.isoformat()}",
                "kind": "invoice",
            }
        )
        day = dt.date.fromisoformat(inv["invoice_date"])
        invoices.append(
            {
                **{k: inv[k] for k in ("supplier_id", "supplier_name", "invoice_number")},
                "invoice_id": doc["sha256"],
                "invoice_date": day,
                "currency": inv["currency"],
                **{k: Decimal(inv[k]) for k in ("subtotal", "tax_amount", "total")},
                "document_type": inv["document_type"],
                "status": "extracted",
                "period": day.strftime("%Y-%m"),
                "run_id": f"ingest:{night.isoformat()}",
            }
        )
        lines += [
            {
                "invoice_id": doc["sha256"],
                "line_no": ln["line_no"],
                "description": ln["description"],
                **{k: Decimal(ln[k]) for k in ("amount", "tax_rate", "tax_amount")},
            }
            for ln in doc["lines"]
        ]
    with rt.warehouse.transaction() as t:
        t.insert("file_manifest", files)
        t.insert("invoices", invoices)
        t.insert("invoice_lines", lines)
    for night in sorted(nights):
        post(rt, Window.day(night, rt.tz))
    yield rt
    rt.warehouse.dispose()


def test_close_metrics_carry_the_held_back_accuracy(rt):
    m = close_metrics(rt, "2026-01")
    # history: the lines of every invoice whose net went to one account
    history = rt.warehouse.scalar(
        "SELECT count(*) FROM raw.invoice_lines WHERE invoice_id IN (SELECT source_id FROM "
        "raw.journal_lines WHERE account NOT IN ('1400', '2000', '8999') GROUP BY source_id "
        "HAVING count(DISTINCT account) = 1)"
    )
    assert history == 92
    assert m["suggestions_held_back"] == int(history * 0.2) == 18
    assert m["suggestion_holdout_accuracy"] == Decimal("0.888889")  # 16 of 18
    [stored] = rt.warehouse.read_table("close_metrics").to_pylist()
    assert stored["suggestion_holdout_accuracy"] == Decimal("0.888889")
    assert stored["suggestions_held_back"] == 18
    csv = (rt.reports / "close" / "2026-01" / "close_metrics.csv").read_text()
    assert "suggestion_holdout_accuracy,0.888889" in csv
    text = "\n".join(summary_lines(rt, "2026-01"))
    assert "suggestions: held-back accuracy 88.9 % (18 approved lines held back)" in text


def test_rules_accuracy_prints_the_figures(rt, monkeypatch, capsys):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    assert main(["rules", "accuracy", "--period", "2026-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "learned suggestions on held-back history (2026-01)"
    assert out[1:] == [
        "  history: 92 approved invoice lines; held back 18 (20%, seeded)",
        "  right 16 of 18 (held-back accuracy 88.9 %)",
        "  above the auto-post threshold 0.9: 13 would post, 13 right, 0 wrong",
        "  model version 61901fa3c33c",
    ]
    # before any night of the period: no history, no model
    assert main(["rules", "accuracy", "--period", "2025-12"]) == 0
    assert "no model" in capsys.readouterr().out
