"""Reconciliation by reference and exact amount: what matches, and what goes to review why."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
from decimal import Decimal

import pyarrow as pa
import pytest

from closeflow.bank import lines_table, parse_statements
from closeflow.reconcile import (
    NO_MATCH,
    RULE_COUNTERPARTY,
    RULE_REFERENCE_EXACT,
    RULE_REFERENCE_PARTIAL,
    RULE_REFERENCE_SEVERAL,
    RULE_REFERENCE_TOLERANCE,
    MatchPolicy,
    normalise_reference,
    reconcile,
)
from closeflow.schemas import BANK_LINES, MATCHES, OPEN_ITEMS, REVIEW_QUEUE
from tests.conftest import SHARED

D = Decimal
RUN = "run-2026-01-09"


def line(n: int, amount: str, remittance: str | None = None, **kw: object) -> dict:
    return {
        "line_id": f"st1:{n}",
        "statement_id": "st1",
        "booking_date": kw.pop("booking_date", dt.date(2026, 1, 9)),
        "value_date": None,
        "amount": D(amount),
        "currency": kw.pop("currency", "EUR"),
        "counterparty_name": None,
        "counterparty_account": None,
        "remittance_info": remittance,
        "bank_reference": None,
        "end_to_end_id": kw.pop("end_to_end_id", None),
    }


def item(item_id: str, invoice: str, amount: str, ref: str | None = None, ccy: str = "EUR"):
    return {
        "item_id": item_id,
        "supplier_id": "S01",
        "supplier_name": "Nordwind Logistik GmbH",
        "supplier_account": "DE89370400440532013000",
        "invoice_number": invoice,
        "payment_reference": ref,
        "due_date": dt.date(2026, 1, 31),
        "amount_open": D(amount),
        "currency": ccy,
    }


def run(lines: list[dict], items: list[dict]):
    return reconcile(
        pa.Table.from_pylist(lines, schema=BANK_LINES),
        pa.Table.from_pylist(items, schema=OPEN_ITEMS),
        RUN,
    )


def test_reference_in_rf_groups_and_exact_amount_matches() -> None:
    result = run(
        [line(1, "-1469.13", "Zahlung rf18 5390 0754 7034 danke")],
        [item("inv-a", "INV-2026-0042", "1469.13", ref="RF18539007547034")],
    )
    assert result.matches.schema == MATCHES
    assert result.matches.to_pylist() == [
        {
            "match_id": hashlib.sha256(b"st1:1|inv-a").hexdigest()[:16],
            "bank_line_id": "st1:1",
            "item_id": "inv-a",
            "matched_amount": D("1469.13"),
            "rule": RULE_REFERENCE_EXACT,
            "score": 1.0,
            "difference": D("0.00"),
            "difference_account": None,
            "status": "auto",
            "run_id": RUN,
        }
    ]
    assert result.unmatched_lines.num_rows == 0
    assert result.unmatched_lines.schema == BANK_LINES
    assert result.review == []


def test_invoice_number_in_end_to_end_id_matches() -> None:
    result = run(
        [line(1, "-300.00", "Sammelzahlung", end_to_end_id="inv 2026 0043")],
        [item("inv-b", "INV-2026-0043", "300.00")],
    )
    assert result.matches.column("item_id").to_pylist() == ["inv-b"]


def test_a_partial_payment_settles_its_part_and_leaves_the_rest_open() -> None:
    result = run([line(1, "-500.00", "INV-7")], [item("inv-7", "INV-7", "1200.00")])
    [m] = result.matches.to_pylist()
    assert (m["item_id"], m["matched_amount"], m["rule"], m["score"]) == (
        "inv-7",
        D("500.00"),
        RULE_REFERENCE_PARTIAL,
        0.9,
    )
    assert result.review == []


def test_an_overpayment_goes_to_review() -> None:
    result = run([line(1, "-1500.00", "INV-7")], [item("inv-7", "INV-7", "1200.00")])
    assert result.matches.num_rows == 0
    assert result.unmatched_lines.column("line_id").to_pylist() == ["st1:1"]
    (review,) = result.review
    assert review["item_type"] == "bank_line" and review["item_id"] == "st1:1"
    assert (
        review["reason"]
        == "payment of 1,500.00 EUR references invoice INV-7 but 1,200.00 EUR is open"
    )
    details = json.loads(review["details"])
    assert details["amount"] == "-1500.00"
    assert details["referenced_items"][0]["item_id"] == "inv-7"
    assert details["referenced_items"][0]["amount_open"] == "1200.00"


def test_one_payment_for_several_invoices_settles_each() -> None:
    items = [
        item("inv-1", "INV-1001", "100.00"),
        item("inv-2", "INV-1002", "250.50"),
        item("inv-3", "INV-1003", "80.00"),
    ]
    result = run([line(1, "-350.50", "INV-1001 INV-1002 INV-1003")], items)
    got = {(m["item_id"], m["matched_amount"], m["rule"]) for m in result.matches.to_pylist()}
    assert got == {
        ("inv-1", D("100.00"), RULE_REFERENCE_SEVERAL),
        ("inv-2", D("250.50"), RULE_REFERENCE_SEVERAL),
    }
    # two subsets that fit the amount: it is not guessed
    items.append(item("inv-4", "INV-1004", "350.50"))
    items[2] = item("inv-3", "INV-1003", "250.50")
    result = run([line(1, "-350.50", "INV-1001 INV-1003 INV-1002")], items)
    assert result.matches.num_rows == 0 and len(result.review) == 1


def test_a_small_difference_within_the_tolerance_is_written_off() -> None:
    policy = MatchPolicy(D("5.00"), D("2"), underpaid_account="8999", overpaid_account="6900")
    items = [item("inv-7", "INV-7", "1200.00"), item("inv-8", "INV-8", "100.00")]
    lines = [line(1, "-1196.00", "INV-7"), line(2, "-101.00", "INV-8")]
    result = reconcile(
        pa.Table.from_pylist(lines, schema=BANK_LINES),
        pa.Table.from_pylist(items, schema=OPEN_ITEMS),
        RUN,
        policy,
    )
    got = [
        (m["item_id"], m["matched_amount"], m["difference"], m["difference_account"], m["rule"])
        for m in result.matches.to_pylist()
    ]
    assert got == [
        ("inv-7", D("1200.00"), D("4.00"), "8999", RULE_REFERENCE_TOLERANCE),
        ("inv-8", D("100.00"), D("-1.00"), "6900", RULE_REFERENCE_TOLERANCE),
    ]
    # beyond 2 % of a small invoice (2.00 of 100.00), 3.00 less is a partial payment
    result = reconcile(
        pa.Table.from_pylist([line(3, "-97.00", "INV-8")], schema=BANK_LINES),
        pa.Table.from_pylist(items, schema=OPEN_ITEMS),
        RUN,
        policy,
    )
    assert result.matches.column("rule").to_pylist() == [RULE_REFERENCE_PARTIAL]


def test_no_reference_but_the_suppliers_account_and_amount_matches() -> None:
    payment = line(1, "-1200.00", "Zahlung Januar")
    payment["counterparty_account"] = "DE89 3704 0044 0532 0130 00"
    result = run([payment], [item("inv-7", "INV-7", "1200.00"), item("inv-8", "INV-8", "99.00")])
    [m] = result.matches.to_pylist()
    assert (m["item_id"], m["rule"], m["score"]) == ("inv-7", RULE_COUNTERPARTY, 0.9)
    # two open items of that amount: not guessed
    twice = [item("inv-7", "INV-7", "1200.00"), item("inv-9", "INV-9", "1200.00")]
    assert run([payment], twice).matches.num_rows == 0


def test_wrong_currency_goes_to_review() -> None:
    result = run(
        [line(1, "-1200.00", "INV-7", currency="USD")], [item("inv-7", "INV-7", "1200.00")]
    )
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"] == (
        "payment of 1,200.00 USD references invoice INV-7 but 1,200.00 EUR is open"
    )


def test_two_lines_for_one_item_match_once_the_earlier_line_wins() -> None:
    later = line(1, "-80.00", "INV-9001", booking_date=dt.date(2026, 1, 12))
    earlier = line(2, "-80.00", "Rechnung INV-9001", booking_date=dt.date(2026, 1, 10))
    result = run([later, earlier], [item("inv-9", "INV-9001", "80.00")])
    assert result.matches.column("bank_line_id").to_pylist() == ["st1:2"]
    assert result.unmatched_lines.column("line_id").to_pylist() == ["st1:1"]
    assert result.review[0]["reason"] == (
        "payment of 80.00 EUR references invoice INV-9001, which bank line st1:2 already "
        "paid: possibly a double payment"
    )


def test_line_without_reference_goes_to_review() -> None:
    result = run([line(1, "-4.50", "CARD PAYMENT CITY COFFEE")], [item("x", "INV-1", "4.50")])
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"] == NO_MATCH == "no open invoice matches this bank line"


def test_reference_is_found_only_as_a_whole_word() -> None:
    result = run(
        [line(1, "-70.00", "INV-70"), line(2, "-70.00", "XINV-7")],
        [item("seven", "INV-7", "70.00")],
    )
    assert result.matches.num_rows == 0
    assert [r["reason"] for r in result.review] == [NO_MATCH, NO_MATCH]


def test_one_payment_naming_two_invoices_of_the_same_amount_is_not_guessed() -> None:
    result = run(
        [line(1, "-50.00", "INV-1001 INV-1002")],
        [item("a", "INV-1001", "50.00"), item("b", "INV-1002", "50.00")],
    )
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"] == (
        "payment of 50.00 EUR references 2 open invoices of exactly that amount "
        "(INV-1001, INV-1002); choose the one it pays"
    )


def test_payment_naming_two_invoices_pays_the_one_with_its_amount() -> None:
    result = run(
        [line(1, "-50.00", "INV-1001 INV-1002")],
        [item("a", "INV-1001", "50.00"), item("b", "INV-1002", "75.00")],
    )
    assert result.matches.column("item_id").to_pylist() == ["a"]


def test_refund_of_a_credit_note_matches_money_in() -> None:
    result = run(
        [line(1, "25.00", "Gutschrift CN-2026-0003")], [item("cn", "CN-2026-0003", "-25.00")]
    )
    assert result.matches.column("matched_amount").to_pylist() == [D("-25.00")]


def test_result_does_not_depend_on_input_order() -> None:
    lines = [line(n, f"-{n}.00", f"INV-{1000 + n}") for n in range(1, 40)]
    lines += [line(99, "-1.00", "INV-1001", booking_date=dt.date(2026, 1, 20))]
    items = [item(f"i{n}", f"INV-{1000 + n}", f"{n}.00") for n in range(1, 40)]
    first = run(lines, items)
    random.Random(7).shuffle(lines)
    random.Random(8).shuffle(items)
    second = run(lines, items)
    assert first.matches.equals(second.matches)
    assert first.unmatched_lines.equals(second.unmatched_lines)
    assert first.review == second.review
    assert first.matches.num_rows == 39


def test_many_lines_against_many_items() -> None:
    n = 5000
    lines = [line(k, f"-{k}.{k % 100:02d}", f"Payment RF{k:08d}") for k in range(1, n + 1)]
    items = [
        item(f"i{k}", f"INV-{k}", f"{k}.{k % 100:02d}", ref=f"RF{k:08d}") for k in range(1, n + 1)
    ]
    result = run(lines, items)
    assert result.matches.num_rows == n
    assert result.matches.column("item_id").to_pylist()[:3] == ["i1", "i2", "i3"]


def test_review_rows_follow_the_review_queue_contract() -> None:
    result = run([line(1, "-4.50", None)], [])
    table = result.review_table()
    assert table.schema == REVIEW_QUEUE
    assert table.column("created_run_id").to_pylist() == [RUN]


def test_money_as_float_is_refused() -> None:
    lines = pa.Table.from_pylist([line(1, "-1.00")], schema=BANK_LINES)
    floats = lines.set_column(4, "amount", pa.array([-1.0]))
    with pytest.raises(TypeError, match="money must be decimal"):
        reconcile(floats, pa.Table.from_pylist([], schema=OPEN_ITEMS), RUN)


def test_normalised_references() -> None:
    assert normalise_reference(" rf18 5390-0754 7034 ") == "RF18539007547034"
    assert normalise_reference("发票号码 01234567") == "发票号码01234567"
    assert normalise_reference(None) == ""


def test_real_statement_reconciles_against_open_items() -> None:
    statements = parse_statements(SHARED / "bank" / "camt" / "camt053_multicurrency.xml")
    items = [
        item("po", "PO-4711", "500.25"),  # pays "PO 4711"
        item("sub", "SUB-APRIL", "99.99", ccy="USD"),  # not referenced by the line
    ]
    result = reconcile(lines_table(statements), pa.Table.from_pylist(items, schema=OPEN_ITEMS), RUN)
    eur = statements[0].statement["statement_id"]
    assert result.matches.column("bank_line_id").to_pylist() == [f"{eur}:2"]
    assert result.unmatched_lines.num_rows == 2
    assert [r["reason"] for r in result.review] == [NO_MATCH, NO_MATCH]


def test_chinese_remittance_without_spaces_names_the_invoice() -> None:
    result = run(
        [line(1, "-1130.00", "支付货款 发票号码01234567", currency="CNY")],
        [item("fp", "01234567", "1130.00", ref="01234567", ccy="CNY")],
    )
    assert result.matches.column("item_id").to_pylist() == ["fp"]
