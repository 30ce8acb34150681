"""Suggested matches and a person's decision about them, night by night on a real
warehouse: a match below the auto-confirm score is suggested (recorded, nothing booked,
the line in review naming the invoice and score); a confirmation is booked by the night
of the day it was made, and re-runs keep it; a rejected pair is never suggested again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from closeflow.cli import main
from closeflow.invoice_posting import post
from closeflow.match_decisions import (
    MatchDecisionError,
    confirm_match,
    decisions_as_of,
    reject_match,
    undo_match,
)
from closeflow.open_items import open_items_as_of
from closeflow.reconcile import RULE_COUNTERPARTY_NAME, RULE_PERSON, RULE_REFERENCE_TYPO
from closeflow.reconciliation import reconcile_window
from closeflow.runtime import Runtime, Window
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers
from tests.bank_statements import insert_statement

DAY, PAID, NEXT = dt.date(2026, 1, 5), dt.date(2026, 1, 12), dt.date(2026, 1, 13)
KONTOR, PAPERLINE = "a" * 64, "b" * 64
COMPANY = build_company(7)
MORNING_AFTER = dt.datetime(2026, 1, 13, 9, tzinfo=dt.UTC)  # in the night of Jan 13


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    yield from _runtime(tmp_path, url)


@pytest.fixture
def embedded(tmp_path):
    """The command line's own default: the embedded warehouse of CLOSEFLOW_HOME."""
    yield from _runtime(tmp_path, f"duckdb:///{tmp_path / 'w.duckdb'}")


def _runtime(tmp_path, url: str):
    write_company_folder(
        tmp_path / "company",
        COMPANY,
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        "2026-01",
    )
    rt = Runtime(home=tmp_path, warehouse_url=url)
    _invoices(rt)
    post(rt, Window.day(DAY, rt.tz))
    yield rt
    rt.warehouse.dispose()


def _received(sha: str, number: str) -> dict:
    """The manifest row of an invoice file received on the 5th and extracted."""
    return {
        "file_sha256": sha,
        "source_uri": f"inbox/{number}.pdf",
        "received_at": dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
        "size_bytes": 1000,
        "media_type": "application/pdf",
        "status": "extracted",
        "run_id": "ingest:2026-01-05",
        "kind": "invoice",
    }


def _invoices(rt: Runtime) -> None:
    rows, lines, files = [], [], []
    for iid, supplier, name, number, net in (
        (KONTOR, "SUP-007", "Kontor Büromarkt GmbH", "KB-2026-004711", D("100.00")),
        (PAPERLINE, "SUP-008", "PaperLine Office Supplies GmbH", "PL-2026-00101", D("50.00")),
    ):
        tax = (net * D("0.19")).quantize(D("0.01"))
        rows.append(
            {
                "invoice_id": iid,
                "supplier_id": supplier,
                "supplier_name": name,
                "invoice_number": number,
                "invoice_date": DAY,
                "due_date": DAY + dt.timedelta(days=14),
                "currency": "EUR",
                "subtotal": net,
                "tax_amount": tax,
                "total": net + tax,
                "document_type": "invoice",
                "payment_reference": number,
                "status": "extracted",
                "period": "2026-01",
                "run_id": "ingest:2026-01-05",
            }
        )
        lines.append(
            {
                "invoice_id": iid,
                "line_no": 1,
                "description": "Printer paper A4",
                "quantity": D(1),
                "unit_price": net,
                "amount": net,
                "tax_rate": D("0.19"),
                "tax_amount": tax,
            }
        )
        files.append(_received(iid, number))
    with rt.warehouse.transaction() as t:
        t.insert("invoices", rows)
        t.insert("invoice_lines", lines)
        t.insert("file_manifest", files)


def _statement(rt: Runtime, day: dt.date, lines: list[tuple[str, str, str]]) -> None:
    """A EUR statement of `day`: (amount, counterparty name, text) per line, no IBAN."""
    insert_statement(rt, f"S{day:%m%d}", day, COMPANY.eur_iban, lines)


def _matches(rt: Runtime) -> list[tuple]:
    raw = rt.warehouse.schema
    return [
        (r["bank_line_id"], r["item_id"][:1], r["rule"], r["score"], r["status"], r["run_id"])
        for r in rt.warehouse.query(
            f"SELECT * FROM {raw}.matches ORDER BY run_id, bank_line_id, status"
        ).to_pylist()
    ]


def _payments(rt: Runtime) -> list[tuple]:
    raw = rt.warehouse.schema
    return [
        (r["account"], r["amount"], r["run_id"])
        for r in rt.warehouse.query(
            f"SELECT account, amount, run_id FROM {raw}.journal_lines "
            f"WHERE source_type = 'payment' ORDER BY run_id, entry_id, line_no"
        ).to_pylist()
    ]


def _review(rt: Runtime) -> dict[str, str]:
    raw = rt.warehouse.schema
    return {
        r["item_id"]: r["reason"]
        for r in rt.warehouse.query(
            f"SELECT item_id, reason FROM {raw}.review_queue WHERE item_type = 'bank_line'"
        ).to_pylist()
    }


TYPO = ("-59.50", "PaperLine Office Supplies", "Rechnung PL-2026-01001")  # 0 and 1 swapped
BY_NAME = ("-119.00", "KONTOR BÜROMARKT", "Zahlung Januar")  # no reference, no IBAN


def test_a_suggestion_books_nothing_until_a_person_confirms_it(rt) -> None:
    _statement(rt, PAID, [TYPO, BY_NAME])
    night = Window.day(PAID, rt.tz)
    summary = reconcile_window(rt, night)
    assert summary.counts["lines matched"] == 0 and summary.counts["matches suggested"] == 2
    assert _matches(rt) == [
        ("S0112:1", "b", RULE_REFERENCE_TYPO, 0.85, "suggested", "reconcile:2026-01-12"),
        ("S0112:2", "a", RULE_COUNTERPARTY_NAME, 0.8, "suggested", "reconcile:2026-01-12"),
    ]
    assert _payments(rt) == []
    review = _review(rt)
    assert review["S0112:1"] == (
        "suggested match, score 0.85 (reference~typo+amount): invoice PL-2026-00101 of "
        "PaperLine Office Supplies GmbH; the text's PL202601001 is one character off "
        "PL202600101; it pays exactly what is open. Confirm or reject it "
        "(closeflow match confirm|reject S0112:1)"
    )
    assert review["S0112:2"].startswith(
        "suggested match, score 0.80 (counterparty~name+amount): invoice KB-2026-004711 of "
        "Kontor Büromarkt GmbH; no reference; KONTOR BÜROMARKT is 100 % like supplier"
    )
    # both invoices stay open: a suggestion pays nothing
    assert {r["item_id"][:1] for r in open_items_as_of(rt, None).to_pylist()} == {"a", "b"}

    # the next night retries both lines but writes no second suggestion
    reconcile_window(rt, Window.day(NEXT, rt.tz))
    assert len(_matches(rt)) == 2

    # a person confirms the typo'd one the morning after, and rejects the other
    got = confirm_match(rt, "S0112:1", None, "anna", at=MORNING_AFTER)
    assert [(r["item_id"][:1], r["rule"], r["score"]) for r in got["rows"]] == [
        ("b", RULE_REFERENCE_TYPO, 0.85)
    ]
    reject_match(rt, "S0112:2", None, "anna", "not Kontor: a refund", at=MORNING_AFTER)
    decided = decisions_as_of(rt, Window.day(NEXT, rt.tz))
    assert decided.rejected == {("S0112:2", KONTOR)}
    assert decisions_as_of(rt, night).confirmed == {}  # made after the night of the 12th

    # the night of the 13th books the confirmed payment; the rejected pair stays out
    reconcile_window(rt, Window.day(NEXT, rt.tz))
    assert _matches(rt) == [
        ("S0112:1", "b", RULE_REFERENCE_TYPO, 0.85, "suggested", "reconcile:2026-01-12"),
        ("S0112:2", "a", RULE_COUNTERPARTY_NAME, 0.8, "suggested", "reconcile:2026-01-12"),
        ("S0112:1", "b", RULE_REFERENCE_TYPO, 0.85, "confirmed", "reconcile:2026-01-13"),
    ]
    booked = [
        ("2000", D("59.50"), "reconcile:2026-01-13"),
        ("1200", D("-59.50"), "reconcile:2026-01-13"),
    ]
    assert _payments(rt) == booked
    assert {r["item_id"][:1] for r in open_items_as_of(rt, None).to_pylist()} == {"a"}

    # re-runs keep the confirmation: the 12th (before it) as it was, the 13th as now
    reconcile_window(rt, night)
    reconcile_window(rt, Window.day(NEXT, rt.tz))
    assert _payments(rt) == booked and len(_matches(rt)) == 3
    # a later night: the confirmed line is explained, the rejected pair not suggested
    later = Window.day(NEXT + dt.timedelta(days=1), rt.tz)
    summary = reconcile_window(rt, later)
    assert summary.counts["bank lines tried"] == 1 and summary.counts["matches suggested"] == 0
    assert len(_matches(rt)) == 3


def test_a_person_names_the_invoice_when_nothing_was_suggested(rt) -> None:
    _statement(rt, PAID, [("-50.00", "Someone", "Sammelzahlung")])
    reconcile_window(rt, Window.day(PAID, rt.tz))
    assert _matches(rt) == []
    with pytest.raises(MatchDecisionError, match="no suggestion waits .*--item"):
        confirm_match(rt, "S0112:1", None, "anna", at=MORNING_AFTER)
    with pytest.raises(MatchDecisionError, match="it pays 50.00, not the 178.50"):
        confirm_match(rt, "S0112:1", ["KB-2026-004711", "PL-2026-00101"], "anna")
    # 50.00 of PaperLine's 59.50: a part payment, booked by the night of the decision
    confirm_match(rt, "S0112:1", ["PL-2026-00101"], "anna", at=MORNING_AFTER)
    reconcile_window(rt, Window.day(NEXT, rt.tz))
    assert _matches(rt) == [
        ("S0112:1", "b", RULE_PERSON, 1.0, "confirmed", "reconcile:2026-01-13"),
    ]
    items = {r["item_id"][:1]: r["amount_open"] for r in open_items_as_of(rt, None).to_pylist()}
    assert items == {"a": D("119.00"), "b": D("9.50")}
    with pytest.raises(MatchDecisionError, match="needs no decision: it is matched already"):
        confirm_match(rt, "S0112:1", ["PL-2026-00101"], "anna")


def test_match_confirm_and_reject_at_the_command_line(embedded, monkeypatch, capsys) -> None:
    rt = embedded
    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    _statement(rt, PAID, [TYPO, BY_NAME])
    reconcile_window(rt, Window.day(PAID, rt.tz))
    assert main(["match", "reject", "S0112:2", "--by", "anna"]) == 0
    assert "rejected" in capsys.readouterr().out
    assert main(["match", "confirm", "S0112:2", "--by", "anna"]) == 2
    assert "no suggestion waits for bank line S0112:2" in capsys.readouterr().err
    assert main(["match", "confirm", "S0112:1", "--by", "anna"]) == 0
    out = capsys.readouterr().out
    assert "bank line S0112:1 confirmed" in out and "reference~typo+amount, 0.85" in out


EXACT = ("-59.50", "PaperLine Office Supplies", "Rechnung PL-2026-00101")


def _ledger(rt: Runtime, account: str) -> D:
    """What payments and their undoing moved on `account`."""
    raw = rt.warehouse.schema
    return rt.warehouse.scalar(
        f"SELECT COALESCE(SUM(amount), 0) FROM {raw}.journal_lines WHERE account = :a "
        f"AND source_type IN ('payment', 'match_undo')",
        {"a": account},
    )


def test_an_auto_match_undone_is_reversed_and_its_line_tried_again(rt) -> None:
    _statement(rt, PAID, [EXACT])
    night, next_night = Window.day(PAID, rt.tz), Window.day(NEXT, rt.tz)
    assert reconcile_window(rt, night).counts["lines matched"] == 1
    (auto,) = _matches(rt)
    assert auto[2:5] == ("reference+exact_amount", 1.0, "auto")
    assert _ledger(rt, "1200") == D("-59.50") and {
        r["item_id"][:1] for r in open_items_as_of(rt, None).to_pylist()
    } == {"a"}

    with pytest.raises(MatchDecisionError, match="say why"):
        undo_match(rt, "S0112:1", "anna", " ", at=MORNING_AFTER)
    got = undo_match(rt, "S0112:1", "anna", "a refund PaperLine sent back", at=MORNING_AFTER)
    assert [(r["item_id"][:1], r["decision"]) for r in got["rows"]] == [("b", "undo")]
    with pytest.raises(MatchDecisionError, match="undone already: the next night applies it"):
        undo_match(rt, "S0112:1", "anna", "again", at=MORNING_AFTER)

    # the night of the undo: an `undone` row, the payment reversed, the invoice open again
    summary = reconcile_window(rt, next_night)
    assert summary.counts["matches undone"] == 1 and summary.counts["lines matched"] == 0
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"SELECT match_id, status, matched_amount, run_id, why FROM {raw}.matches ORDER BY run_id"
    ).to_pylist()
    assert [(r["status"], r["matched_amount"], r["run_id"]) for r in rows] == [
        ("auto", D("59.50"), "reconcile:2026-01-12"),
        ("undone", D("-59.50"), "reconcile:2026-01-13"),
    ]
    assert rows[0]["match_id"] == rows[1]["match_id"]
    assert rows[1]["why"] == "undone by anna on 2026-01-13: a refund PaperLine sent back"
    reversal = rt.warehouse.query(
        f"SELECT account, amount, entry_date, run_id FROM {raw}.journal_lines "
        f"WHERE source_type = 'match_undo' ORDER BY line_no"
    ).to_pylist()
    assert [(r["account"], r["amount"], r["entry_date"]) for r in reversal] == [
        ("2000", D("-59.50"), PAID),
        ("1200", D("59.50"), PAID),
    ]
    assert _ledger(rt, "1200") == 0 and _ledger(rt, "2000") == 0
    items = {r["item_id"][:1]: r["amount_open"] for r in open_items_as_of(rt, None).to_pylist()}
    assert items == {"a": D("119.00"), "b": D("59.50")}
    assert _review(rt)["S0112:1"].startswith(
        "anna undid its match to invoice PL-2026-00101 (a refund PaperLine sent back); "
    )

    # re-runs: the 12th as it was (the undo came after it), the 13th as now
    before = _matches(rt), _payments(rt)
    reconcile_window(rt, night)
    reconcile_window(rt, next_night)
    assert (_matches(rt), _payments(rt)) == before
    # a later night tries the line again but never matches the undone pair again
    later = reconcile_window(rt, Window.day(NEXT + dt.timedelta(days=1), rt.tz))
    assert later.counts["bank lines tried"] == 1 and later.counts["lines matched"] == 0
    assert len(_matches(rt)) == 2

    # a person changes their mind: the confirmed pair is a new match, booked again
    with pytest.raises(MatchDecisionError, match="no match to undo"):
        undo_match(rt, "S0112:1", "anna", "nothing to undo")
    confirm_match(rt, "S0112:1", ["PL-2026-00101"], "ben", at=MORNING_AFTER + dt.timedelta(days=2))
    reconcile_window(rt, Window.day(NEXT + dt.timedelta(days=2), rt.tz))
    ids = rt.warehouse.query(
        f"SELECT match_id, status FROM {raw}.matches ORDER BY run_id"
    ).to_pylist()
    assert [r["status"] for r in ids] == ["auto", "undone", "confirmed"]
    assert ids[2]["match_id"] != ids[0]["match_id"]
    assert _ledger(rt, "1200") == D("-59.50")
    assert {r["item_id"][:1] for r in open_items_as_of(rt, None).to_pylist()} == {"a"}
    # and the new match can be undone in its turn
    again = undo_match(
        rt, "S0112:1", "ben", "wrong after all", at=MORNING_AFTER + dt.timedelta(days=3)
    )
    assert [r["decision"] for r in again["rows"]] == ["undo"]


def test_undo_needs_a_match(rt) -> None:
    _statement(rt, PAID, [TYPO, ("-12.00", "Bank", "Kontoführung")])
    reconcile_window(rt, Window.day(PAID, rt.tz))
    with pytest.raises(MatchDecisionError, match="only suggested.*closeflow match reject"):
        undo_match(rt, "S0112:1", "anna", "wrong")
    with pytest.raises(MatchDecisionError, match="no bank line 'S9999:1'"):
        undo_match(rt, "S9999:1", "anna", "wrong")


def test_match_undo_at_the_command_line(embedded, monkeypatch, capsys) -> None:
    rt = embedded
    monkeypatch.setenv("CLOSEFLOW_HOME", str(rt.home))
    monkeypatch.setenv("CLOSEFLOW_WAREHOUSE_URL", rt.warehouse_url)
    _statement(rt, PAID, [EXACT])
    reconcile_window(rt, Window.day(PAID, rt.tz))
    assert main(["match", "undo", "S0112:1", "--by", "anna", "--reason", "a refund"]) == 0
    out = capsys.readouterr().out
    assert "bank line S0112:1 undone" in out and "reverses the payment entry" in out
    assert main(["match", "undo", "S0112:1", "--by", "anna", "--reason", "again"]) == 2
    assert "undone already" in capsys.readouterr().err


def test_an_invoice_in_yuan_paid_from_the_euro_account_clears_it_at_the_days_rate(rt) -> None:
    """A CNY invoice paid from the EUR account (the bank converts, at a margin): the
    payment entry clears the payable in yuan, credits the bank in euros, and books what
    the rates leave as an FX difference; the entry balances and nothing stays open."""
    cny = "c" * 64
    invoice = {
        "invoice_id": cny,
        "supplier_id": "SUP-007",
        "supplier_name": "Kontor Büromarkt GmbH",
        "invoice_number": "CN-20260042",
        "invoice_date": DAY,
        "due_date": DAY + dt.timedelta(days=30),
        "currency": "CNY",
        "subtotal": D("10000.00"),
        "tax_amount": D("1300.00"),
        "total": D("11300.00"),
        "document_type": "invoice",
        "payment_reference": "CN-20260042",
        "status": "extracted",
        "period": "2026-01",
        "run_id": "ingest:2026-01-05",
    }
    with rt.warehouse.transaction() as t:
        t.insert("invoices", [invoice])
        t.insert("file_manifest", [_received(cny, "CN-20260042")])
        t.insert(
            "invoice_lines",
            [
                {
                    "invoice_id": cny,
                    "line_no": 1,
                    "description": "Printer paper A4",
                    "quantity": D(1),
                    "unit_price": D("10000.00"),
                    "amount": D("10000.00"),
                    "tax_rate": D("0.13"),
                    "tax_amount": D("1300.00"),
                }
            ],
        )
    post(rt, Window.day(DAY, rt.tz))
    rate = rt.company.fx.rate("CNY", PAID, "EUR")
    paid = (D("11300.00") * rate * D("1.008")).quantize(D("0.01"))  # the bank's margin
    _statement(rt, PAID, [(f"-{paid}", "Kontor Büromarkt", "货款 CN-20260042")])
    reconcile_window(rt, Window.day(PAID, rt.tz))
    [m] = rt.warehouse.query(f"SELECT * FROM {rt.warehouse.schema}.matches").to_pylist()
    assert (m["rule"], m["status"], m["matched_amount"]) == (
        "reference+fx_amount",
        "auto",
        D("11300.00"),
    )
    raw = rt.warehouse.schema
    legs = rt.warehouse.query(
        f"SELECT account, amount, currency, amount_txn FROM {raw}.journal_lines "
        f"WHERE source_type = 'payment' ORDER BY line_no"
    ).to_pylist()
    payable = -rt.warehouse.scalar(
        f"SELECT SUM(amount) FROM {raw}.journal_lines WHERE source_id = :i AND account = '2000'",
        {"i": cny},
    )
    assert [(r["account"], r["currency"], r["amount_txn"]) for r in legs] == [
        ("2000", "CNY", D("11300.00")),
        ("1200", "EUR", -paid),
        ("7900", "EUR", D("0.00")),
    ]
    assert legs[0]["amount"] == payable and legs[1]["amount"] == -paid
    assert sum(r["amount"] for r in legs) == 0
    assert cny not in {r["item_id"] for r in open_items_as_of(rt, None).to_pylist()}

    # undone, the payment is reversed leg by leg, each in its own currency
    undo_match(rt, "S0112:1", "anna", "paid twice", at=MORNING_AFTER)
    reconcile_window(rt, Window.day(NEXT, rt.tz))
    reversal = rt.warehouse.query(
        f"SELECT account, amount, currency, amount_txn FROM {raw}.journal_lines "
        f"WHERE source_type = 'match_undo' ORDER BY line_no"
    ).to_pylist()
    assert [(r["account"], r["currency"], r["amount_txn"], r["amount"]) for r in reversal] == [
        (r["account"], r["currency"], -r["amount_txn"], -r["amount"]) for r in legs
    ]
    assert cny in {r["item_id"] for r in open_items_as_of(rt, None).to_pylist()}
