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
    RULE_COUNTERPARTY_NAME,
    RULE_REFERENCE_EXACT,
    RULE_REFERENCE_FX,
    RULE_REFERENCE_PARTIAL,
    RULE_REFERENCE_SEVERAL,
    RULE_REFERENCE_TOLERANCE,
    RULE_REFERENCE_TYPO,
    Confirmation,
    MatchPolicy,
    PersonDecisions,
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
            "why": "the text names RF18539007547034; it pays exactly what is open",
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


def policy_run(lines: list[dict], items: list[dict], **kw: object):
    names = kw.pop("names", {"S01": ("Nordwind Logistik GmbH", "Nordwind Logistics")})
    return reconcile(
        pa.Table.from_pylist(lines, schema=BANK_LINES),
        pa.Table.from_pylist(items, schema=OPEN_ITEMS),
        RUN,
        MatchPolicy(**kw.pop("policy", {})),
        names,
        kw.pop("decisions", None),
    )


def test_a_reference_one_typo_off_is_suggested_for_the_one_item_of_its_amount() -> None:
    items = [
        item("inv-a", "INV-2026-0042", "1469.13", ref="RF18539007547034"),
        item("inv-b", "INV-2026-0043", "99.00", ref="RF18539007547044"),
    ]
    # two digits swapped: one edit off inv-a's reference (and inv-b's is one edit off
    # the text too, but only inv-a has the amount)
    result = policy_run([line(1, "-1469.13", "RF18 5390 0754 7043 danke")], items)
    [m] = result.matches.to_pylist()
    assert (m["item_id"], m["rule"], m["score"], m["status"], m["matched_amount"]) == (
        "inv-a",
        RULE_REFERENCE_TYPO,
        0.85,
        "suggested",
        D("1469.13"),
    )
    assert m["match_id"] == hashlib.sha256(b"st1:1|inv-a|suggested").hexdigest()[:16]
    assert m["why"] == (
        "the text's RF18539007547043 is one character off RF18539007547034; "
        "it pays exactly what is open"
    )
    # a suggestion settles nothing: the line waits in review naming the invoice
    assert result.unmatched_lines.column("line_id").to_pylist() == ["st1:1"]
    (review,) = result.review
    assert review["reason"] == (
        "suggested match, score 0.85 (reference~typo+amount): invoice INV-2026-0042 of "
        "Nordwind Logistik GmbH; the text's RF18539007547043 is one character off "
        "RF18539007547034; it pays exactly what is open. Confirm or reject it "
        "(closeflow match confirm|reject st1:1)"
    )
    assert json.loads(review["details"])["suggested"]["items"] == ["inv-a"]
    # at a lower auto-confirm score it is booked at once
    result = policy_run(
        [line(1, "-1469.13", "RF18 5390 0754 7043")], items, policy={"auto_confirm_score": 0.8}
    )
    assert result.matches.column("status").to_pylist() == ["auto"]
    assert result.review == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("INV-2026-0534", True),  # a character changed
        ("INV-2026-00524", True),  # one added
        ("INV-2026-054", True),  # one dropped
        ("INV-2026-0542", True),  # neighbours swapped
        ("INV-2026-0245", False),  # two edits
        ("INV-20", False),  # too short to compare
    ],
)
def test_one_edit_of_any_kind_is_a_typo_two_are_not(text: str, found: bool) -> None:
    result = policy_run(
        [line(1, "-310.00", f"Rechnung {text}")], [item("i", "INV-2026-0524", "310.00")]
    )
    assert result.matches.column("rule").to_pylist() == ([RULE_REFERENCE_TYPO] if found else [])


def test_a_short_reference_is_never_compared_for_typos() -> None:
    result = policy_run([line(1, "-310.00", "INV-7")], [item("i", "INV-8", "310.00")])
    assert result.matches.num_rows == 0 and result.review[0]["reason"] == NO_MATCH


def test_two_items_within_one_typo_go_to_review_with_both_named() -> None:
    items = [
        item("inv-1", "INV-2026-0524", "310.00"),
        item("inv-2", "INV-2026-0526", "310.00"),
    ]
    result = policy_run([line(1, "-310.00", "INV-2026-0525")], items)
    assert result.matches.num_rows == 0
    (review,) = result.review
    assert review["reason"] == (
        "payment of 310.00 EUR names no open invoice, but is one character off 2 open "
        "invoices of exactly that amount (INV-2026-0524, INV-2026-0526); choose the one it pays"
    )
    assert [r["item_id"] for r in json.loads(review["details"])["referenced_items"]] == [
        "inv-1",
        "inv-2",
    ]


def test_the_counterparty_name_finds_the_suppliers_one_invoice_near_its_due_date() -> None:
    payment = line(1, "-1200.00", "Zahlung Januar", booking_date=dt.date(2026, 2, 10))
    payment["counterparty_name"] = "NORDWIND LOGISTICS"  # the alias, upper case
    other = dict(item("inv-x", "X-1", "1200.00"), supplier_id="S02", supplier_name="Elbe AG")
    result = policy_run([payment], [item("inv-7", "INV-7", "1200.00"), other])
    [m] = result.matches.to_pylist()
    assert (m["item_id"], m["rule"], m["score"], m["status"]) == (
        "inv-7",
        RULE_COUNTERPARTY_NAME,
        0.8,
        "suggested",
    )
    assert m["why"] == (
        "no reference; NORDWIND LOGISTICS is 100 % like supplier Nordwind Logistik GmbH, its "
        "one open invoice of the amount, due 2026-01-31"
    )
    # 31 days past the due date: outside the window
    late = dict(payment, booking_date=dt.date(2026, 3, 3))
    assert policy_run([late], [item("inv-7", "INV-7", "1200.00")]).matches.num_rows == 0
    # a name not alike enough, or a known account, is no match by name
    stranger = dict(payment, counterparty_name="Nordstern Logistik")
    assert policy_run([stranger], [item("inv-7", "INV-7", "1200.00")]).matches.num_rows == 0
    # two of the supplier's invoices of the amount: not guessed, both named
    two = [item("inv-7", "INV-7", "1200.00"), item("inv-9", "INV-9", "1200.00")]
    result = policy_run([payment], two)
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"] == (
        "payment of 1,200.00 EUR without reference from NORDWIND LOGISTICS could pay 2 open "
        "invoices of exactly that amount (INV-7, INV-9); choose the one it pays"
    )


def test_a_rejected_pair_is_never_proposed_again_and_a_confirmed_one_is_settled() -> None:
    items = [item("inv-a", "INV-2026-0524", "310.00")]
    typo = line(1, "-310.00", "INV-2026-0542")
    rejected = PersonDecisions(rejected=frozenset({("st1:1", "inv-a")}))
    result = policy_run([typo], items, decisions=rejected)
    assert result.matches.num_rows == 0 and result.review[0]["reason"] == NO_MATCH
    # a rejection blocks the pair in every pass, an exact reference included
    exact = line(1, "-310.00", "INV-2026-0524")
    assert policy_run([exact], items, decisions=rejected).matches.num_rows == 0
    at = dt.datetime(2026, 1, 12, 9, tzinfo=dt.UTC)
    confirmed = PersonDecisions(
        confirmed={"st1:1": (Confirmation("inv-a", RULE_REFERENCE_TYPO, 0.85, "anna", at),)}
    )
    [m] = policy_run([typo], items, decisions=confirmed).matches.to_pylist()
    assert (m["status"], m["rule"], m["score"], m["matched_amount"], m["why"]) == (
        "confirmed",
        RULE_REFERENCE_TYPO,
        0.85,
        D("310.00"),
        "confirmed by anna on 2026-01-12",
    )
    assert m["match_id"] == hashlib.sha256(b"st1:1|inv-a").hexdigest()[:16]
    # a confirmation the payment cannot settle waits in review, saying why
    result = policy_run([line(1, "-400.00", "x")], items, decisions=confirmed)
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"] == (
        "a person confirmed invoices for this line, but it pays 400.00, but only 310.00 is open"
    )


def test_a_suggestion_never_names_an_item_a_later_line_settles() -> None:
    items = [item("inv-a", "INV-2026-0524", "310.00")]
    typo = line(1, "-310.00", "INV-2026-0542", booking_date=dt.date(2026, 1, 8))
    exact = line(2, "-310.00", "INV-2026-0524")
    result = policy_run([typo, exact], items)
    assert [(m["bank_line_id"], m["status"]) for m in result.matches.to_pylist()] == [
        ("st1:2", "auto")
    ]
    assert [r["item_id"] for r in result.review] == ["st1:1"]


def test_typo_matching_compares_only_items_of_the_amount() -> None:
    """100,000 open items, 2,000 lines with typo'd references: the typo pass looks only at
    the items of each line's amount, so it takes well under the time of a pairwise scan."""
    import time

    rng = random.Random(3)
    numbers = rng.sample(range(10**9), 100_000)
    items = [
        item(f"i{k}", f"INV-{number:09d}", f"{rng.randint(100, 10**7) / 100:.2f}")
        for k, number in enumerate(numbers)
    ]
    lines = []
    for n, k in enumerate(rng.sample(range(100_000), 2_000)):
        ref = f"{numbers[k]:09d}"
        typo = ref[:3] + ref[4] + ref[3] + ref[5:] if ref[3] != ref[4] else ref[:-1] + "X"
        lines.append(line(n, f"-{items[k]['amount_open']}", f"INV-{typo}"))
    started = time.perf_counter()
    result = policy_run(lines, items, policy={"auto_confirm_score": 0.8})
    took = time.perf_counter() - started
    assert result.matches.num_rows >= 1_990
    assert {m["rule"] for m in result.matches.to_pylist()} == {RULE_REFERENCE_TYPO}
    assert took < 20, took


CNY_RATES = {("CNY", dt.date(2026, 1, 9)): D("0.128000"), ("EUR", dt.date(2026, 1, 9)): D(1)}


def _fx(currency: str, day: dt.date) -> Decimal | None:
    return CNY_RATES.get((currency, day))


def _run_fx(paid: str, fx_tolerance: str = "3", rates=_fx):
    return reconcile(
        pa.Table.from_pylist([line(1, paid, "货款 CN-20260042")], schema=BANK_LINES),
        pa.Table.from_pylist(
            [item("cn-42", "CN-20260042", "10000.00", ccy="CNY")], schema=OPEN_ITEMS
        ),
        RUN,
        MatchPolicy(fx_tolerance_percent=D(fx_tolerance)),
        fx_rate=rates,
    )


def test_an_invoice_paid_from_an_account_in_another_currency_matches_at_the_days_rate() -> None:
    """10,000.00 CNY at 0.128 is 1,280.00 EUR; the bank converted at 1,290.00 (0.8 % more):
    within the 3 % margin, the line settles the whole invoice, in its own currency."""
    result = _run_fx("-1290.00")
    [m] = result.matches.to_pylist()
    assert (m["rule"], m["status"], m["matched_amount"], m["difference"]) == (
        RULE_REFERENCE_FX,
        "auto",
        D("10000.00"),
        D("0.00"),
    )
    assert m["why"] == (
        "the text names CN-20260042; it pays 1,290.00 EUR for 10,000.00 CNY open, "
        "1,280.00 EUR at the rates of 2026-01-09 (0.128000)"
    )
    assert result.unmatched_lines.num_rows == 0


@pytest.mark.parametrize(
    ("paid", "tolerance", "rates"),
    [
        ("-1400.00", "3", _fx),  # 9.4 % more than the converted amount: not a conversion
        ("-1290.00", "0", _fx),  # the company takes no conversion margin
        ("-1290.00", "3", lambda c, d: None),  # no rate for the day
    ],
)
def test_an_fx_payment_outside_the_margin_or_without_a_rate_goes_to_review(
    paid, tolerance, rates
) -> None:
    result = _run_fx(paid, tolerance, rates)
    assert result.matches.num_rows == 0
    assert result.review[0]["reason"].startswith(
        f"payment of {D(paid).copy_abs():,.2f} EUR references invoice CN-20260042 but "
        "10,000.00 CNY is open"
    )
