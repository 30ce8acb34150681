"""Posting: balanced entries from rules, with the reasons for what cannot post."""

import datetime as dt
from decimal import Decimal as D

import pytest

from closeflow.config import FxRates
from closeflow.posting import load_rules, post_invoices

RULES = """\
version: 1
ap_account: "2000"
tax_codes:
  DE19: {rate: "0.19", account: "1400"}
  DE7: {rate: "0.07", account: "1400"}
  CN13: {rate: "0.13", account: "1401"}
rules:
  - id: hosting
    priority: 10
    when: {supplier_id: "SUP-001"}
    then: {debit_account: "6200", cost_center: "IT"}
  - id: cn-goods
    when: {supplier_id: "SUP-CN1"}
    then: {debit_account: "6300"}
"""


@pytest.fixture
def rules(tmp_path):
    p = tmp_path / "rules.yml"
    p.write_text(RULES)
    return load_rules(p)


FX = FxRates({("CNY", dt.date(2026, 1, 5)): D("0.128137")})


def invoice(**kw) -> dict:
    base = {
        "invoice_id": "f" * 64,
        "supplier_id": "SUP-001",
        "supplier_name": "Hoster GmbH",
        "invoice_number": "INV-1",
        "invoice_date": dt.date(2026, 1, 5),
        "currency": "EUR",
        "subtotal": D("100.00"),
        "tax_amount": D("19.00"),
        "total": D("119.00"),
        "document_type": "invoice",
    }
    return base | kw


def test_invoice_posts_net_tax_and_payable(rules):
    res = post_invoices([invoice()], [], rules, FX, "EUR", "post:2026-01-05")
    got = [(j["account"], j["amount"], j["cost_center"]) for j in res.journal_lines]
    assert got == [
        ("6200", D("100.00"), "IT"),
        ("1400", D("19.00"), None),
        ("2000", D("-119.00"), None),
    ]
    assert {j["rule_id"] for j in res.journal_lines} == {"hosting"}
    assert {j["rule_version"] for j in res.journal_lines} == {rules.content_hash}
    assert res.posted == ["f" * 64] and res.review == []


def test_split_tax_rates_from_lines_give_one_tax_line_per_rate(rules):
    inv = invoice(subtotal=D("200.00"), tax_amount=D("26.00"), total=D("226.00"))
    lines = [
        {"invoice_id": "f" * 64, "tax_rate": D("0.19"), "tax_amount": D("19.00")},
        {"invoice_id": "f" * 64, "tax_rate": D("0.07"), "tax_amount": D("7.00")},
    ]
    res = post_invoices([inv], lines, rules, FX, "EUR", "post:x")
    assert [(j["account"], j["amount"]) for j in res.journal_lines] == [
        ("6200", D("200.00")),
        ("1400", D("7.00")),
        ("1400", D("19.00")),
        ("2000", D("-226.00")),
    ]


def test_foreign_currency_converts_per_line_and_balances_exactly(rules):
    inv = invoice(
        supplier_id="SUP-CN1",
        currency="CNY",
        subtotal=D("1000.01"),
        tax_amount=D("130.00"),
        total=D("1130.01"),
    )
    res = post_invoices([inv], [], rules, FX, "EUR", "post:x")
    amounts = {j["account"]: j["amount"] for j in res.journal_lines}
    assert amounts == {"6300": D("128.14"), "1401": D("16.66"), "2000": D("-144.80")}
    assert sum(j["amount"] for j in res.journal_lines) == 0
    assert [j["amount_txn"] for j in res.journal_lines] == [
        D("1000.01"),
        D("130.00"),
        D("-1130.01"),
    ]
    assert {j["fx_rate"] for j in res.journal_lines} == {D("0.128137")}


def test_credit_note_posts_the_reverse(rules):
    res = post_invoices([invoice(document_type="credit_note")], [], rules, FX, "EUR", "p")
    assert [j["amount"] for j in res.journal_lines] == [D("-100.00"), D("-19.00"), D("119.00")]


def test_what_cannot_post_goes_to_review_with_reason(rules):
    invs = [
        invoice(invoice_id="a" * 64, supplier_id="SUP-999"),
        invoice(
            invoice_id="b" * 64,
            supplier_id="SUP-CN1",
            currency="CNY",
            invoice_date=dt.date(2026, 3, 1),
        ),
        invoice(invoice_id="c" * 64, tax_amount=D("16.00"), total=D("116.00")),
    ]
    res = post_invoices(invs, [], rules, FX, "EUR", "post:x")
    assert res.journal_lines == []
    reasons = {r["item_id"][0]: r["reason"] for r in res.review}
    assert reasons["a"] == "no posting rule matches this supplier"
    assert reasons["b"].startswith("no EUR rate for CNY on 2026-03-01")
    assert reasons["c"] == "no tax code for VAT rate 16 %"


def test_closed_period_posts_to_first_open_period_and_says_so(rules):
    res = post_invoices([invoice()], [], rules, FX, "EUR", "p", closed_through="2026-01")
    assert {j["entry_date"] for j in res.journal_lines} == {dt.date(2026, 2, 1)}
    assert {j["period"] for j in res.journal_lines} == {"2026-02"}
    assert "period 2026-01 is closed; posted to 2026-02" in res.journal_lines[0]["description"]


def test_entry_ids_are_deterministic(rules):
    a = post_invoices([invoice()], [], rules, FX, "EUR", "p").journal_lines
    b = post_invoices([invoice()], [], rules, FX, "EUR", "p").journal_lines
    assert [j["entry_id"] for j in a] == [j["entry_id"] for j in b]
