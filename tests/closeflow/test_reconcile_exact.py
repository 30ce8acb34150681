"""The column-wise first pass (closeflow.reconcile_exact) settles exactly what the per-line
pass would: the same matches, unmatched lines and review items, with and without it."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest

import closeflow.reconcile as rec
from closeflow.reconcile import (
    MIN_REFERENCE_LENGTH,
    RULE_COUNTERPARTY,
    RULE_REFERENCE_EXACT,
    Confirmation,
    MatchPolicy,
    PersonDecisions,
    normalise_reference,
    reconcile,
    reference_candidates,
)
from closeflow.reconcile_exact import ExactSettlement, normalised_references, reference_hits
from closeflow.schemas import BANK_LINES, OPEN_ITEMS

D = Decimal
RUN = "run-exact"
ACCOUNT = "DE89370400440532013000"
POLICY = MatchPolicy(tolerance=D("5.00"), tolerance_percent=D("2.5"), underpaid_account="8999")


def line(n: int, amount: str, text: str | None = None, **kw: object) -> dict:
    return {
        "line_id": kw.pop("line_id", f"st1:{n}"),
        "statement_id": "st1",
        "booking_date": kw.pop("day", dt.date(2026, 1, 9)),
        "value_date": None,
        "amount": D(amount),
        "currency": kw.pop("currency", "EUR"),
        "counterparty_name": kw.pop("name", None),
        "counterparty_account": kw.pop("account", None),
        "remittance_info": text,
        "bank_reference": None,
        "end_to_end_id": kw.pop("e2e", None),
    }


def item(item_id: str, invoice: str | None, amount: str, ref: str | None = None, **kw: object):
    return {
        "item_id": item_id,
        "supplier_id": "S01",
        "supplier_name": "Nordwind Logistik GmbH",
        "supplier_account": kw.pop("account", ACCOUNT),
        "invoice_number": invoice,
        "payment_reference": ref,
        "due_date": dt.date(2026, 1, 20),
        "amount_open": D(amount),
        "currency": kw.pop("currency", "EUR"),
    }


def _rows(result) -> tuple:
    return (
        result.matches.to_pylist(),
        result.unmatched_lines.column("line_id").to_pylist(),
        result.review,
    )


def _both(lines, items, decisions=None, policy=POLICY, monkeypatch=None):
    """reconcile with the column-wise pass, and with every line left to the per-line pass."""
    args = (
        pa.Table.from_pylist(lines, schema=BANK_LINES),
        pa.Table.from_pylist(items, schema=OPEN_ITEMS),
        RUN,
        policy,
        {"S01": ("Nordwind Logistik GmbH", "Nordwind")},
        decisions,
    )
    fast = reconcile(*args)
    none = ExactSettlement(np.empty(0, np.int64), np.empty(0, np.int64), pa.array([], pa.string()))
    with monkeypatch.context() as m:
        m.setattr(rec, "settle_exact", lambda *a, **k: none)
        slow = reconcile(*args)
    return fast, slow


def _settled_in_bulk(lines, items, decisions=None, monkeypatch=None) -> set[str]:
    """The line ids the column-wise pass settles."""
    taken: list[ExactSettlement] = []
    settle = rec.settle_exact
    with monkeypatch.context() as m:
        m.setattr(rec, "settle_exact", lambda *a, **k: taken.append(settle(*a, **k)) or taken[0])
        reconcile(
            pa.Table.from_pylist(lines, schema=BANK_LINES),
            pa.Table.from_pylist(items, schema=OPEN_ITEMS),
            RUN,
            POLICY,
            None,
            decisions,
        )
    return {lines[n]["line_id"] for n in taken[0].line_rows.tolist()}


def test_the_common_case_is_settled_in_bulk_as_the_per_line_pass_would(monkeypatch) -> None:
    lines = [
        line(1, "-100.00", "Payment RE-2026-0012345 thank you"),
        line(2, "-250.50", "rf18 5390 0754 7034"),
        line(3, "-7.00", "Zahlung", e2e="INV-00000077"),
        line(4, "-30.00", "付款 发票号码00123456"),
        line(5, "-40.00", "Überweisung Rechnung SI-26-0000001"),  # not ASCII: Python's words
    ]
    items = [
        item("a", "RE-2026-0012345", "100.00"),
        item("b", "INV-1", "250.50", ref="RF18539007547034"),
        item("c", "INV-00000077", "7.00"),
        item("d", "00123456", "30.00", currency="eur"),
        item("e", "SI-26-0000001", "40.00", ref="AB"),  # a short reference, not indexed
        item("f", "SI-26-0000002", "40.00", ref="X1"),
    ]
    fast, slow = _both(lines, items, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)
    assert fast.matches.column("rule").to_pylist() == [RULE_REFERENCE_EXACT] * 5
    assert fast.matches.column("why").to_pylist()[1] == (
        "the text names RF18539007547034; it pays exactly what is open"
    )
    # e's short payment reference is not among the words, which only the per-line pass
    # can tell: its line is left to it
    assert _settled_in_bulk(lines, items, monkeypatch=monkeypatch) == {
        "st1:1",
        "st1:2",
        "st1:3",
        "st1:4",
    }


def test_two_lines_paying_one_item_the_earlier_gets_it(monkeypatch) -> None:
    lines = [
        line(2, "-100.00", "Invoice RE-2026-0000001", day=dt.date(2026, 1, 10)),
        line(1, "-100.00", "RE 2026 0000001", day=dt.date(2026, 1, 9)),
    ]
    items = [item("a", "RE-2026-0000001", "100.00")]
    fast, slow = _both(lines, items, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)
    assert fast.matches.column("bank_line_id").to_pylist() == ["st1:1"]
    assert "possibly a double payment" in fast.review[0]["reason"]
    assert _settled_in_bulk(lines, items, monkeypatch=monkeypatch) == set()


def test_an_item_paid_earlier_by_amount_is_not_settled_again(monkeypatch) -> None:
    early, late = dt.date(2026, 1, 8), dt.date(2026, 1, 12)
    items = [item("a", "RE-2026-0000001", "100.00"), item("b", "RE-2026-0000002", "55.00")]
    # a line from the supplier's account without reference, booked before the one naming it
    lines = [
        line(1, "-100.00", "Sammelueberweisung", account=ACCOUNT, day=early),
        line(2, "-100.00", "Invoice RE-2026-0000001", day=late),
        line(3, "-55.00", "RE-2026-0000002", day=early),
        line(4, "-55.00", "Lieferung", account=ACCOUNT, day=late),  # booked after: none left
    ]
    fast, slow = _both(lines, items, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)
    assert [(m["bank_line_id"], m["rule"]) for m in fast.matches.to_pylist()] == [
        ("st1:1", RULE_COUNTERPARTY),
        ("st1:3", RULE_REFERENCE_EXACT),
    ]
    assert _settled_in_bulk(lines, items, monkeypatch=monkeypatch) == {"st1:3"}


def test_a_persons_decisions_are_kept(monkeypatch) -> None:
    at = dt.datetime(2026, 1, 9, 12, tzinfo=dt.UTC)
    items = [
        item("a", "RE-2026-0000001", "100.00"),
        item("b", "RE-2026-0000002", "200.00"),
        item("c", "RE-2026-0000003", "300.00"),
    ]
    lines = [
        line(1, "-100.00", "RE-2026-0000001"),  # rejected for a: not by reference either
        line(2, "-200.00", "RE-2026-0000002"),  # b confirmed for line 3
        line(3, "-200.00", "no reference"),
        line(4, "-300.00", "RE-2026-0000003"),  # confirmed for the item it names
    ]
    decisions = PersonDecisions(
        confirmed={
            "st1:3": (Confirmation("b", "person", 1.0, "anna", at),),
            "st1:4": (Confirmation("c", "person", 1.0, "anna", at),),
        },
        rejected=frozenset({("st1:1", "a")}),
    )
    fast, slow = _both(lines, items, decisions, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)
    assert [(m["bank_line_id"], m["item_id"], m["status"]) for m in fast.matches.to_pylist()] == [
        ("st1:2", "b", "auto"),  # booked before the line a person confirmed b for
        ("st1:4", "c", "confirmed"),
    ]
    assert "no longer open" in fast.review[1]["reason"]
    assert _settled_in_bulk(lines, items, decisions, monkeypatch=monkeypatch) == set()


def test_ambiguous_references_stay_with_the_per_line_pass(monkeypatch) -> None:
    items = [
        item("a", "INV-5001", "80.00"),
        item("b", "INV-5001", "80.00"),  # the same reference twice
        item("c", "INV-6001", "10.00"),
        item("d", "INV-6002", "15.00"),
        item("e", "INV-7001", "99.00", currency="USD"),
    ]
    lines = [
        line(1, "-80.00", "INV-5001"),
        line(2, "-25.00", "INV-6001 INV-6002"),  # several
        line(3, "-10.00", "INV-6001 and INV-6002"),  # names two, pays one exactly
        line(4, "-99.00", "INV-7001"),  # another currency
        line(5, "-99.00", "INV-7001", currency="usd"),
    ]
    fast, slow = _both(lines, items, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)
    # e is named by two lines: left to the per-line pass too
    assert _settled_in_bulk(lines, items, monkeypatch=monkeypatch) == set()


@pytest.mark.parametrize("seed", range(40))
def test_random_statements_come_out_the_same_with_and_without_it(seed, monkeypatch) -> None:
    """Few amounts, references and days, so that lines collide: several lines naming one
    item, items of the same amount, references inside others, decisions."""
    rnd = random.Random(seed)
    amounts = ["10.00", "20.00", "30.00", "50.00", "-20.00"]
    numbers = ["INV-1001", "INV-1002", "INV-10021", "RE 2026 77", "F2026-0001", "AB", None]
    items = [
        item(
            f"i{k}",
            rnd.choice(numbers),
            rnd.choice(amounts),
            ref=rnd.choice([None, None, "RF18 5390 0754 7034", "INV-1001", "XY"]),
            currency=rnd.choice(["EUR", "EUR", "USD"]),
            account=rnd.choice([ACCOUNT, "GB29NWBK60161331926819", None]),
        )
        for k in range(rnd.randint(1, 25))
    ]
    texts = [
        "Payment INV-1001",
        "inv 1002",
        "INV-1002 INV-1001",
        "re2026 77 danke",
        "RF18539007547034",
        "Rechnung F2026 0001 vom 03.11.",
        "INV-10O21",  # a typo
        "Sammelueberweisung",
        "付款 INV-1001",
        "Zahlung für INV-1002",
        None,
    ]
    lines = [
        line(
            n,
            str(-D(rnd.choice(amounts))),
            rnd.choice(texts),
            day=dt.date(2026, 1, rnd.randint(8, 12)),
            currency=rnd.choice(["EUR", "EUR", "USD", "eur"]),
            account=rnd.choice([ACCOUNT, None, "DE02120300000000202051"]),
            name=rnd.choice([None, "NORDWIND LOGISTIK", "Someone Else"]),
            e2e=rnd.choice([None, "NOTPROVIDED", "INV-1002"]),
        )
        for n in range(rnd.randint(1, 40))
    ]
    at = dt.datetime(2026, 1, 9, tzinfo=dt.UTC)
    picks = [(ln["line_id"], it["item_id"]) for ln in lines for it in items if rnd.random() < 0.02]
    decisions = PersonDecisions(
        confirmed={
            line_id: (Confirmation(item_id, "person", 1.0, "anna", at),)
            for line_id, item_id in picks[: len(picks) // 2]
        },
        rejected=frozenset(picks[len(picks) // 2 :]),
    )
    policy = rnd.choice([POLICY, MatchPolicy(auto_confirm_score=0.8)])
    fast, slow = _both(lines, items, decisions, policy, monkeypatch=monkeypatch)
    assert _rows(fast) == _rows(slow)


@pytest.mark.parametrize("seed", range(5))
def test_the_items_a_line_names_are_those_of_its_words(seed) -> None:
    """reference_hits (bytes and hashes) against reference_candidates and a dict."""
    rnd = random.Random(seed)
    pieces = ["RE", "2026", "0012345", "-", " ", "/", "rf18", "5390", "付款", "号码", "Ü", "ß",
              "inv", "00123456", "_", "Straße", "ＩＮＶ", "SS", "x"]  # fmt: skip
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 9))) for _ in range(300)]
    refs = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 4))) for _ in range(200)]
    items = pa.Table.from_pylist(
        [item(f"i{k}", r, "1.00", ref=rnd.choice(refs)) for k, r in enumerate(refs)],
        schema=OPEN_ITEMS,
    )
    lines = pa.Table.from_pylist(
        [line(n, "-1.00", t, e2e=rnd.choice(texts)) for n, t in enumerate(texts)],
        schema=BANK_LINES,
    )
    references = normalised_references(items, normalise_reference)
    pr, number = (r.to_pylist() for r in references)
    assert pr == [normalise_reference(v) for v in items.column("payment_reference").to_pylist()]
    index: dict[str, set[int]] = {}
    for i, keys in enumerate(zip(pr, number, strict=True)):
        for key in keys:
            if len(key) >= MIN_REFERENCE_LENGTH:
                index.setdefault(key, set()).add(i)
    longest = max(map(len, index))
    hits = reference_hits(
        lines, references, MIN_REFERENCE_LENGTH, longest, rec._CJK, reference_candidates
    )
    got = set(
        zip(
            hits.line.tolist(),
            hits.item.tolist(),
            hits.via_payment_reference.tolist(),
            strict=True,
        )
    )
    want = set()
    for n, (text, e2e) in enumerate(
        zip(texts, lines.column("end_to_end_id").to_pylist(), strict=True)
    ):
        words = reference_candidates(text, longest) | reference_candidates(e2e, longest)
        for i in {i for w in words for i in index.get(w, ())}:
            want.add((n, i, len(pr[i]) >= MIN_REFERENCE_LENGTH and pr[i] in words))
    assert got == want
