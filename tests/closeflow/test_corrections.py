"""A controller's correction of an auto-posted entry: audited, re-posted in place,
counted in the wrong-posting rate, kept by re-runs, and learned by the suggester."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from closeflow.cli import main
from closeflow.close import close_metrics
from closeflow.corrections import CorrectionError, correct_posting
from closeflow.invoice_posting import post
from closeflow.posting import load_rules
from closeflow.posting.engine import entry_id_for
from closeflow.posting.suggest import history_from_ledger
from closeflow.runtime import Runtime, Window
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers

DAY = dt.date(2026, 1, 5)
AT = dt.datetime(2026, 1, 20, 9, 30, tzinfo=dt.UTC)
A, B, C = (c * 64 for c in "abc")


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    write_company_folder(
        tmp_path / "company",
        build_company(7),
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        "2026-01",
    )
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    rt = Runtime(home=tmp_path, warehouse_url=url)
    _ingested(rt)
    post(rt, Window.day(DAY, rt.tz))
    yield rt
    rt.warehouse.dispose()


def _invoice(iid, supplier, name, number, currency, lines):
    net = sum(a for _, a, _ in lines)
    tax = sum((a * r).quantize(D("0.01")) for _, a, r in lines)
    head = {
        "invoice_id": iid,
        "supplier_id": supplier,
        "supplier_name": name,
        "invoice_number": number,
        "invoice_date": DAY,
        "due_date": DAY + dt.timedelta(days=14),
        "currency": currency,
        "subtotal": net,
        "tax_amount": tax,
        "total": net + tax,
        "document_type": "invoice",
        "status": "extracted",
        "period": "2026-01",
        "run_id": "ingest:2026-01-05",
    }
    rows = [
        {
            "invoice_id": iid,
            "line_no": n,
            "description": d,
            "quantity": D(1),
            "unit_price": a,
            "amount": a,
            "tax_rate": r,
            "tax_amount": (a * r).quantize(D("0.01")),
        }
        for n, (d, a, r) in enumerate(lines, start=1)
    ]
    return head, rows


def _ingested(rt):
    """Three invoices read by the night's ingest: PaperLine (two lines, office
    supplies), Kontor (one line) and a Chinese IT supplier in CNY."""
    made = [
        _invoice(
            A,
            "SUP-008",
            "PaperLine Office Supplies GmbH",
            "PL-2026-00101",
            "EUR",
            [("Printer paper A4 (box of 2500 sheets)", D("43.00"), D("0.19")),
             ("Desk organizer", D("18.00"), D("0.19"))],
        ),
        _invoice(
            B,
            "SUP-007",
            "Kontor Büromarkt GmbH",
            "0004711",
            "EUR",
            [("Toner schwarz HP 59A", D("99.90"), D("0.19"))],
        ),
        _invoice(
            C,
            "SUP-029",
            "上海云帆信息技术有限公司",
            "00012345",
            "CNY",
            [("*信息技术服务*软件维护费", D("4321.00"), D("0.06"))],
        ),
    ]  # fmt: skip
    files = [
        {
            "file_sha256": iid,
            "source_uri": f"inbox/{iid[:8]}.pdf",
            "received_at": dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
            "size_bytes": 1000,
            "media_type": "application/pdf",
            "status": "extracted",
            "reason": None,
            "run_id": "ingest:2026-01-05",
            "kind": "invoice",
        }
        for iid in (A, B, C)
    ]
    with rt.warehouse.transaction() as t:
        t.insert("file_manifest", files)
        t.insert("invoices", [h for h, _ in made])
        t.insert("invoice_lines", [r for _, rows in made for r in rows])


def _entry(rt, iid):
    return rt.warehouse.read_table(
        "journal_lines", "source_id = :i ORDER BY line_no", {"i": iid}
    ).to_pylist()


def _legs(rt, iid):
    return [(j["account"], j["amount"]) for j in _entry(rt, iid)]


def test_a_corrected_line_is_audited_and_its_entry_reposted_in_place(rt):
    assert _legs(rt, A) == [
        ("6300", D("61.00")),
        ("1400", D("11.59")),
        ("2000", D("-72.59")),
    ]
    got = correct_posting(
        rt, A, "6800", "trade fair booth material, not office supplies", "m.kraus", 2, at=AT
    )
    assert got["status"] == "corrected" and got["entry_id"] == entry_id_for("invoice", A)
    [row] = rt.warehouse.read_table("posting_corrections").to_pylist()
    assert row == {
        "correction_id": got["correction_id"],
        "invoice_id": A,
        "entry_id": entry_id_for("invoice", A),
        "line_no": 2,
        "from_account": "6300",
        "to_account": "6800",
        "reason": "trade fair booth material, not office supplies",
        "corrected_by": "m.kraus",
        "corrected_at": AT,
        "period": "2026-01",
        "posting_run_id": "post:2026-01-05",
    }
    entry = _entry(rt, A)
    assert [(j["account"], j["amount"]) for j in entry] == [
        ("6300", D("43.00")),
        ("6800", D("18.00")),
        ("1400", D("11.59")),
        ("2000", D("-72.59")),
    ]
    assert {j["entry_id"] for j in entry} == {entry_id_for("invoice", A)}
    assert {j["run_id"] for j in entry} == {"post:2026-01-05"}
    assert sum(j["amount"] for j in entry) == 0
    assert entry[1]["rule_id"] == f"r-sup-008+corrected:{got['correction_id']}"
    assert entry[1]["cost_center"] == "ADMIN"  # the rule's other actions stay
    # the other invoices are untouched; AP open items still owe the same
    assert _legs(rt, B) == [("6300", D("99.90")), ("1400", D("18.98")), ("2000", D("-118.88"))]
    [item] = rt.warehouse.read_table("open_items", "item_id = :i", {"i": A}).to_pylist()
    assert item["amount_open"] == D("72.59")


def test_a_whole_foreign_currency_invoice_moves_with_the_same_conversion(rt):
    before = _legs(rt, C)
    assert [a for a, _ in before] == ["6200", "1400", "2000"]
    got = correct_posting(rt, "00012345", "6500", "consulting, not software", "a.lee", at=AT)
    assert [r["line_no"] for r in got["lines"]] == [1]
    after = _legs(rt, C)
    assert after == [("6500", before[0][1]), before[1], before[2]]
    assert sum(a for _, a in after) == 0


def test_corrections_count_as_wrong_postings_and_survive_a_rerun(rt):
    correct_posting(rt, A, "6800", "booth material", "m.kraus", 2, at=AT)
    correct_posting(rt, C, "6500", "consulting", "a.lee", at=AT)
    journal = sorted(rt.warehouse.read_table("journal_lines").to_pylist(), key=repr)
    m = close_metrics(rt, "2026-01")
    assert (m["invoices_auto_posted"], m["invoices_corrected"], m["invoices_touchless"]) == (
        3,
        2,
        1,
    )
    assert m["wrong_posting_rate"] == D("0.666667")
    # re-running the night posts the corrected entries again, identical, never twice
    post(rt, Window.day(DAY, rt.tz))
    assert sorted(rt.warehouse.read_table("journal_lines").to_pylist(), key=repr) == journal
    assert close_metrics(rt, "2026-01")["invoices_corrected"] == 2
    # the same correction again changes nothing and records nothing
    again = correct_posting(rt, A, "6800", "booth material", "m.kraus", 2)
    assert again["status"] == "unchanged"
    assert rt.warehouse.read_table("posting_corrections").num_rows == 2
    assert sorted(rt.warehouse.read_table("journal_lines").to_pylist(), key=repr) == journal


def test_corrected_accounts_are_approved_history_for_the_suggester(rt):
    correct_posting(rt, A, "6800", "booth material", "m.kraus", 2, at=AT)
    correct_posting(rt, C, "6500", "consulting", "a.lee", at=AT)
    rules = load_rules(rt.company.rules_path)
    history = history_from_ledger(rt, rules, before_run="post:2026-01-06").to_pylist()
    assert history == [
        {"supplier_id": "SUP-008", "description": "Desk organizer", "amount": D("18.00"),
         "account": "6800"},
        {"supplier_id": "SUP-007", "description": "Toner schwarz HP 59A", "amount": D("99.90"),
         "account": "6300"},
        {"supplier_id": "SUP-029", "description": "*信息技术服务*软件维护费",
         "amount": D("4321.00"), "account": "6500"},
    ]  # fmt: skip
    # a night before the entry was posted learns nothing from it
    assert history_from_ledger(rt, rules, before_run="post:2026-01-05").num_rows == 0


def test_what_cannot_be_corrected_says_why(rt):
    with pytest.raises(CorrectionError, match="account '9999' is not in chart_of_accounts"):
        correct_posting(rt, A, "9999", "x", "m.kraus")
    with pytest.raises(CorrectionError, match="give a reason"):
        correct_posting(rt, A, "6800", " ", "m.kraus")
    with pytest.raises(CorrectionError, match="has no line 7"):
        correct_posting(rt, A, "6800", "x", "m.kraus", 7)
    with pytest.raises(CorrectionError, match="no invoice 'nope'"):
        correct_posting(rt, "nope", "6800", "x", "m.kraus")
    # once January is closed, its entries stay as they are
    yml = rt.home / "company" / "company.yml"
    yml.write_text(yml.read_text() + 'closed_through: "2026-01"\n')
    closed = Runtime(home=rt.home, warehouse_url=rt.warehouse_url)
    with pytest.raises(CorrectionError, match="period 2026-01 is closed .* adjustment entry"):
        correct_posting(closed, A, "6800", "x", "m.kraus")
    closed.warehouse.dispose()
    assert rt.warehouse.read_table("posting_corrections").num_rows == 0


def test_the_command_line_corrects_and_reports(rt, monkeypatch, capsys):
    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    argv = ["post", "correct", "--invoice", A[:12], "--account", "6800", "--line", "2"]
    assert main([*argv, "--reason", "booth material", "--by", "m.kraus"]) == 0
    out = capsys.readouterr().out
    assert f"invoice {A[:12]}, line 2 6300 -> 6800" in out
    assert "6800" in out and "18.00" in out
    assert main([*argv, "--reason", "booth material", "--by", "m.kraus"]) == 0
    assert "already on 6800; nothing corrected" in capsys.readouterr().out
    assert main(["post", "correct", "--invoice", A, "--account", "1", "--reason", "x",
                 "--by", "y"]) == 2  # fmt: skip
    assert "is not in chart_of_accounts.yml" in capsys.readouterr().err


def test_a_period_locked_by_the_close_refuses_corrections_until_reopened(rt):
    """The month-end close's lock (in the warehouse, not company.yml) stops corrections;
    an explicit, logged reopen lets them through again."""
    from closeflow.periods import PeriodError, lock, period_locks, reopen

    lock(rt, "2026-01", "closeflow month_end_close", "close:2026-01", at=AT)
    with pytest.raises(CorrectionError, match=r"period 2026-01 is locked \(closed by closeflow "):
        correct_posting(rt, A, "6800", "x", "m.kraus", 2)
    with pytest.raises(PeriodError, match="give a reason"):
        reopen(rt, "2026-01", "m.kraus", "")
    reopen(rt, "2026-01", "m.kraus", "late credit note from PaperLine", at=AT)
    assert period_locks(rt).closed_through is None
    assert correct_posting(rt, A, "6800", "booth", "m.kraus", 2)["status"] == "corrected"
    log = rt.warehouse.read_table("period_locks", "TRUE ORDER BY acted_at, action").to_pylist()
    assert [(r["action"], r["acted_by"], r["reason"]) for r in log] == [
        ("lock", "closeflow month_end_close", None),
        ("reopen", "m.kraus", "late credit note from PaperLine"),
    ]
