"""Bank-line posting rules (closeflow.bank_rules): conditions on counterparty, words of
the text and amount, first rule in priority order wins, balanced two-leg bookings, and a
rules file that is checked on load like every configuration file."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest

from closeflow.bank_rules import BankLineFacts, book, fee_rules, load_bank_rules
from closeflow.config import Company, ConfigError

DAY = dt.date(2026, 1, 12)
CHART = {"1200", "1210", "3100", "4000", "6000", "6900"}
RULES = """\
version: 1
rules:
  - id: fees
    priority: 20
    when: {direction: out, text_words: [fees, "bank charges", 手续费]}
    then: {account: "6900", source_type: bank_fee}
  - id: holding
    priority: 10
    when:
      counterparty_name: "Closeflow Holding AG"
      direction: in
    then: {account: "3100", description: "Capital {counterparty_name}"}
  - id: landlord-iban
    when:
      counterparty_account: ["DE89 3704 0044 0532 0130 00"]
      amount: {min: "-2000.00", max: "-1000.00"}
    then: {account: "6000"}
  - id: big-receipts
    priority: 200
    when:
      all:
        - {direction: in, currency: EUR}
        - not: {text_words: [refund]}
      any:
        - {amount: {min: "10000"}}
        - {counterparty_name: ["Morgenrot Media AG"]}
    then: {account: "4000", cost_center: "SALES"}
"""


def line(amount: str, text: str | None = None, name: str | None = None, **kw) -> BankLineFacts:
    return BankLineFacts(
        line_id=kw.pop("line_id", "S1:1"),
        booking_date=kw.pop("booking_date", DAY),
        amount=D(amount),
        currency=kw.pop("currency", "EUR"),
        counterparty_name=name,
        remittance_info=text,
        **kw,
    )


@pytest.fixture
def rules(tmp_path: Path):
    path = tmp_path / "bank_rules.yml"
    path.write_text(RULES, encoding="utf-8")
    return load_bank_rules(path, CHART)


def rule_of(rules, ln: BankLineFacts) -> str | None:
    r = rules.rule_for(ln)
    return r.id if r else None


def test_text_matches_whole_words_not_substrings(rules) -> None:
    assert rule_of(rules, line("-3.00", "Fees 01/2026")) == "fees"
    assert rule_of(rules, line("-3.00", "account FEES")) == "fees"
    assert rule_of(rules, line("-3.00", "COFFEES for the office")) is None
    assert rule_of(rules, line("-3.00", "feesharing")) is None
    # a phrase needs its words in order, next to each other
    assert rule_of(rules, line("-1.50", "Bank charges")) == "fees"
    assert rule_of(rules, line("-1.50", "charges bank")) is None
    assert rule_of(rules, line("-1.50", "bankcharges")) is None
    # Chinese is written without spaces: every character is a word
    assert rule_of(rules, line("-20.00", "手续费Bank charges", currency="CNY")) == "fees"
    assert rule_of(rules, line("-20.00", "续费", currency="CNY")) is None


def test_direction_counterparty_and_amount(rules) -> None:
    # money in from the holding: capital, however the bank spells the name
    assert rule_of(rules, line("300000.00", "Kapitaleinlage", "CLOSEFLOW HOLDING AG.")) == (
        "holding"
    )
    assert rule_of(rules, line("-300.00", "Kapitaleinlage", "Closeflow Holding AG")) is None
    assert rule_of(rules, line("300.00", None, "Closeflow Holding")) is None  # not the name
    # the landlord's IBAN, spaces or not, within the amount range (both ends inclusive)
    rent = {"counterparty_account": "DE89370400440532013000"}
    assert rule_of(rules, line("-1000.00", "Miete", **rent)) == "landlord-iban"
    assert rule_of(rules, line("-2000.00", "Miete", **rent)) == "landlord-iban"
    assert rule_of(rules, line("-2000.01", "Miete", **rent)) is None
    assert rule_of(rules, line("-1500.00", "Miete")) is None  # no account: no match


def test_all_any_not_and_priority(rules) -> None:
    assert rule_of(rules, line("12000.00", "Invoice AR-1", "Hafenkante Handels GmbH")) == (
        "big-receipts"
    )
    assert rule_of(rules, line("500.00", "Invoice AR-2", "Morgenrot Media AG")) == "big-receipts"
    assert rule_of(rules, line("500.00", "Invoice AR-2", "Hafenkante Handels GmbH")) is None
    assert rule_of(rules, line("12000.00", "Refund AR-1", "Hafenkante Handels GmbH")) is None
    assert rule_of(rules, line("12000.00", "x", "Morgenrot", currency="USD")) is None
    # the holding's receipt fits big-receipts too: the lower priority number wins
    assert rule_of(rules, line("300000.00", "Kapital", "Closeflow Holding AG")) == "holding"


def test_a_booking_is_two_balanced_legs_against_the_bank_account(rules) -> None:
    lines = [
        line("300000.00", "Kapitaleinlage", "Closeflow Holding AG", line_id="S1:1"),
        line("-12.90", "Kontoführungsgebühr", "Bank", line_id="S1:2"),
        line("-40.00", "手续费 Bank charges", line_id="S2:1", currency="CNY"),
    ]
    bookings = book(rules, lines)
    assert [(b.line.line_id, b.rule.id, b.source_type) for b in bookings] == [
        ("S1:1", "holding", "bank_rule"),
        ("S2:1", "fees", "bank_fee"),
    ]
    capital, fee = bookings
    assert capital.description() == "Capital Closeflow Holding AG"
    assert capital.rule_version == rules.content_hash and len(rules.content_hash) == 12
    assert [(x.account, x.amount, x.amount_txn) for x in capital.legs("1200", D(1))] == [
        ("3100", D("-300000.00"), D("-300000.00")),
        ("1200", D("300000.00"), D("300000.00")),
    ]
    legs = fee.legs("1210", D("0.127870"))  # CNY at the day's rate, rounded to the cent
    assert [(x.account, x.amount, x.amount_txn) for x in legs] == [
        ("6900", D("5.11"), D("40.00")),
        ("1210", D("-5.11"), D("-40.00")),
    ]
    assert sum(x.amount for x in legs) == 0
    assert fee.description() == "手续费 Bank charges"  # the remittance text by default


def test_money_must_be_decimal() -> None:
    with pytest.raises(TypeError, match="Decimal"):
        BankLineFacts.of({"line_id": "x", "booking_date": DAY, "amount": 1.5, "currency": "EUR"})


def test_without_a_rules_file_the_fee_keywords_book_bank_charges_as_words() -> None:
    rules = fee_rules(Company(name="X"))
    assert [r.id for r in rules.rules] == ["bank-fees"]
    assert rule_of(rules, line("-12.90", "Kontoführungsgebühr 12/2025")) == "bank-fees"
    assert rule_of(rules, line("-2.00", "Entgelt Überweisung")) == "bank-fees"
    assert rule_of(rules, line("-2.00", "Nutzungsentgelt Software")) is None  # a substring
    assert rule_of(rules, line("2.00", "Bank charges refunded")) is None  # money in
    assert rules.rules[0].then.account == "6900"
    assert rules.rules[0].then.source_type == "bank_fee"


@pytest.mark.parametrize(
    ("text", "line_no", "message"),
    [
        (RULES.replace('account: "4000"', 'account: "4711"'), 27, "'4711' is not in the chart"),
        (RULES.replace("id: holding", "id: fees"), 7, "rule id 'fees' is used twice"),
        (RULES.replace("{direction: in, currency: EUR}", "{}"), 22, "empty condition"),
        (RULES.replace("text_words: [fees,", "text_word: [fees,"), 5, "did you mean"),
        (RULES.replace("Capital {counterparty_name}", "{supplier}"), 12, "unknown template"),
        (RULES.replace("direction: in\n", "direction: inward\n"), 11, "direction"),
        (RULES.replace('{min: "-2000.00", max: "-1000.00"}', '{min: "5", max: "1"}'), 16, "above"),
    ],
)
def test_a_bad_rules_file_names_the_line_and_the_fix(tmp_path, text, line_no, message) -> None:
    path = tmp_path / "bank_rules.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        load_bank_rules(path, CHART)
    assert err.value.line == line_no, str(err.value)
    assert err.value.fix
