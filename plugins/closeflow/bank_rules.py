"""Bank-line posting rules: how a bank line that no invoice explains is booked.

Salary runs, customer receipts, capital injections, loans, tax payments, card settlements
and bank charges reach the bank account without an invoice to match. The company's
`bank_rules.yml` (company.yml's `bank_rules`) says how each kind is booked, as data: a
finance user adds a rule without code. A rule names its conditions (`when`) and the
account the line is booked against (`then`); the other leg is always the bank account's
own ledger account, so each booking is a balanced entry of two legs.

Rules are tried in priority order (lowest number first, then id); the first rule whose
conditions all hold books the line. The reconciliation runs them after the invoice
matching, on the lines still unexplained (closeflow.reconciliation).

Conditions (all the fields given must hold; `all`, `any` and `not` combine conditions):
- `counterparty_name`: any of these names, compared word by word, case-insensitive
  ("Closeflow Holding AG" is "CLOSEFLOW HOLDING AG." but not "Closeflow Holding");
- `counterparty_account`: any of these IBANs or account numbers (spaces ignored);
- `text_words`: any of these words or phrases appears as whole words in the remittance
  information ("fees" matches "Fees 01/2026" but not "coffees"; "bank charges" needs the
  two words in that order); in Chinese every character is a word, so 手续费 is found in
  手续费Bank charges;
- `direction`: `in` (money received) or `out` (money paid);
- `amount`: {min, max} on the signed amount (money in positive), both inclusive;
- `currency`: the line's currency.
A rule may be limited to booking dates with valid_from / valid_to (inclusive).

Actions: `account` (the account the line is booked against), `source_type` (`bank_rule`,
or `bank_fee` for bank charges, which reports count as such), `cost_center`, and a
`description` template ({counterparty_name}, {remittance_info}, {booking_date},
{currency}, {amount}, {rule_id}). Every booking records the rule id and the rules file's
content hash (`rule_id`, `rule_version` of its journal lines).

A company without a bank_rules.yml books bank charges by company.yml's
`bank_fee_keywords` (as words) to its `bank_fee_account`, as one rule `bank-fees`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from closeflow.config import Company, ConfigError, Strict, load_model, read_yaml
from closeflow.money import round_money
from closeflow.posting.rules import Range, description_template, walk_conditions
from closeflow.reconcile import text_words

SOURCE_TYPES = ("bank_rule", "bank_fee")
TEMPLATE_FIELDS = (
    "counterparty_name",
    "remittance_info",
    "booking_date",
    "currency",
    "amount",
    "rule_id",
)
DEFAULT_FEE_RULE = "bank-fees"


def _listify(v: object) -> object:
    return [v] if isinstance(v, str | int | Decimal) else v


def _account_str(v: object) -> object:
    return str(v) if isinstance(v, int) else v


@functools.lru_cache(maxsize=4096)
def _phrase(text: str) -> tuple[str, ...]:
    return tuple(text_words(text))


def _norm_account(value: str | None) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def _has_phrase(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    if not n:
        return False
    first = phrase[0]
    return any(words[i] == first and words[i : i + n] == phrase for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class BankLineFacts:
    """What a rule looks at in a bank line (a BANK_LINES row)."""

    line_id: str
    booking_date: dt.date
    amount: Decimal  # signed, money in positive, in the line's currency
    currency: str
    counterparty_name: str | None = None
    counterparty_account: str | None = None
    remittance_info: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, object]) -> BankLineFacts:
        amount = row["amount"]
        if not isinstance(amount, Decimal):
            raise TypeError(f"bank line {row['line_id']}: amount must be a Decimal")
        return cls(
            line_id=str(row["line_id"]),
            booking_date=row["booking_date"],  # type: ignore[arg-type]
            amount=amount,
            currency=str(row.get("currency") or "").upper(),
            counterparty_name=row.get("counterparty_name"),  # type: ignore[arg-type]
            counterparty_account=row.get("counterparty_account"),  # type: ignore[arg-type]
            remittance_info=row.get("remittance_info"),  # type: ignore[arg-type]
        )

    @functools.cached_property
    def words(self) -> tuple[str, ...]:
        return _phrase(self.remittance_info or "")

    @functools.cached_property
    def name_words(self) -> tuple[str, ...]:
        return _phrase(self.counterparty_name or "")


class BankCondition(Strict):
    counterparty_name: list[str] | None = None
    counterparty_account: list[str] | None = None
    text_words: list[str] | None = None
    direction: Literal["in", "out"] | None = None
    amount: Range | None = None
    currency: list[str] | None = None
    all: list[BankCondition] | None = None
    any: list[BankCondition] | None = None
    not_: BankCondition | None = Field(default=None, alias="not")

    model_config = Strict.model_config | {"populate_by_name": True}

    @field_validator(
        "counterparty_name", "counterparty_account", "text_words", "currency", mode="before"
    )
    @classmethod
    def _as_list(cls, v: object) -> object:
        v = _listify(v)
        if isinstance(v, list) and not all(isinstance(k, str | int) and str(k).strip() for k in v):
            raise ValueError("give non-empty texts")
        return [str(k) for k in v] if isinstance(v, list) else v

    @field_validator("text_words", "counterparty_name")
    @classmethod
    def _has_words(cls, v: list[str] | None) -> list[str] | None:
        for text in v or []:
            if not _phrase(text):
                raise ValueError(f"{text!r} holds no word (letters or digits)")
        return v

    def is_empty(self) -> bool:
        return self.model_dump(exclude_none=True) == {}

    def holds(self, line: BankLineFacts) -> bool:
        """Whether every condition given holds for `line`."""
        if self.direction is not None and (line.amount > 0) != (self.direction == "in"):
            return False
        if self.amount is not None:
            lo, hi = self.amount.min, self.amount.max
            if (lo is not None and line.amount < lo) or (hi is not None and line.amount > hi):
                return False
        if self.currency is not None and line.currency not in {c.upper() for c in self.currency}:
            return False
        if self.counterparty_name is not None and line.name_words not in {
            _phrase(n) for n in self.counterparty_name
        }:
            return False
        if self.counterparty_account is not None:
            account = _norm_account(line.counterparty_account)
            if not account or account not in {_norm_account(a) for a in self.counterparty_account}:
                return False
        if self.text_words is not None and not any(
            _has_phrase(line.words, _phrase(w)) for w in self.text_words
        ):
            return False
        if self.all is not None and not all(c.holds(line) for c in self.all):
            return False
        if self.any is not None and not any(c.holds(line) for c in self.any):
            return False
        return not (self.not_ is not None and self.not_.holds(line))


class BankAction(Strict):
    account: str
    source_type: Literal["bank_rule", "bank_fee"] = "bank_rule"
    cost_center: str | None = None
    description: str | None = None

    @field_validator("account", mode="before")
    @classmethod
    def _account_code(cls, v: object) -> object:
        return _account_str(v)

    @field_validator("description")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        return description_template(v, TEMPLATE_FIELDS)


class BankRule(Strict):
    id: str
    priority: int = 100
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    when: BankCondition
    then: BankAction

    @model_validator(mode="after")
    def _dates(self) -> BankRule:
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"valid_from {self.valid_from} is after valid_to {self.valid_to}")
        return self

    def applies(self, line: BankLineFacts) -> bool:
        day = line.booking_date
        if (self.valid_from and day < self.valid_from) or (self.valid_to and day > self.valid_to):
            return False
        return self.when.holds(line)


class BankRuleSet(Strict):
    version: int = 1
    rules: list[BankRule] = Field(default_factory=list)
    content_hash: str = ""  # the rule version recorded on every booking

    def ordered(self) -> list[BankRule]:
        return sorted(self.rules, key=lambda r: (r.priority, r.id))

    def rule_for(self, line: BankLineFacts) -> BankRule | None:
        """The first rule, in priority order, that books `line`; None if none does."""
        return next((r for r in self.ordered() if r.applies(line)), None)


@dataclass(frozen=True)
class Leg:
    """One line of a booking's entry: signed functional amount, debit positive, and the
    amount in the bank line's currency."""

    account: str
    amount: Decimal
    amount_txn: Decimal


@dataclass(frozen=True)
class RuleBooking:
    """A bank line booked by a rule: what the journal entry needs."""

    line: BankLineFacts
    rule: BankRule
    rule_version: str

    @property
    def source_type(self) -> str:
        return self.rule.then.source_type

    def description(self) -> str:
        line, template = self.line, self.rule.then.description
        if template is None:
            return line.remittance_info or line.counterparty_name or self.rule.id
        return template.format(
            counterparty_name=line.counterparty_name or "",
            remittance_info=line.remittance_info or "",
            booking_date=line.booking_date.isoformat(),
            currency=line.currency,
            amount=f"{line.amount:.2f}",
            rule_id=self.rule.id,
        ).strip()

    def legs(self, bank_account: str, rate: Decimal) -> tuple[Leg, Leg]:
        """The bank account takes the line as the statement shows it (converted at
        `rate`), the rule's account the opposite: the entry sums to zero."""
        amount = round_money(self.line.amount * rate)
        return (
            Leg(self.rule.then.account, -amount, -self.line.amount),
            Leg(bank_account, amount, self.line.amount),
        )


def book(rules: BankRuleSet, lines: list[BankLineFacts]) -> list[RuleBooking]:
    """The bookings of the lines a rule covers, in the order of `lines`."""
    out = []
    for line in lines:
        rule = rules.rule_for(line)
        if rule is not None:
            out.append(RuleBooking(line, rule, rules.content_hash))
    return out


def load_bank_rules(path: Path | str, accounts: set[str] | None = None) -> BankRuleSet:
    """Load and validate a bank rules file; `accounts` (chart codes) checks every account
    named. A bad file raises ConfigError with the file, the line and the fix."""
    path = Path(path)
    data, lines = read_yaml(path)
    rules = load_model(path, BankRuleSet, data=data)

    def line_of(loc: tuple) -> int | None:
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                return lines[loc[:n]]
        return None

    seen: set[str] = set()
    for i, rule in enumerate(rules.rules):
        if rule.id in seen:
            raise ConfigError(
                path, line_of(("rules", i)), f"rule id {rule.id!r} is used twice", "make ids unique"
            )
        seen.add(rule.id)
        for cond, loc in walk_conditions(rule.when, ("rules", i, "when")):
            if cond.is_empty():
                raise ConfigError(
                    path,
                    line_of(loc),
                    f"rule {rule.id!r} has an empty condition",
                    "add a counterparty, text_words, direction or amount condition",
                )
        if accounts is not None and rule.then.account not in accounts:
            raise ConfigError(
                path,
                line_of(("rules", i, "then", "account")),
                f"account {rule.then.account!r} is not in the chart of accounts",
                "use an account code from chart_of_accounts.yml",
            )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return rules.model_copy(update={"content_hash": digest})


def fee_rules(company: Company) -> BankRuleSet:
    """The rules of a company without a bank_rules.yml: money paid out whose remittance
    information holds one of company.yml's `bank_fee_keywords` is a bank fee."""
    words = [k for k in company.bank_fee_keywords if _phrase(k)]
    if not words:
        return BankRuleSet()
    rule = BankRule(
        id=DEFAULT_FEE_RULE,
        when=BankCondition(direction="out", text_words=words),
        then=BankAction(account=company.bank_fee_account, source_type="bank_fee"),
    )
    digest = hashlib.sha256("\n".join(["company.yml", *words]).encode()).hexdigest()[:12]
    return BankRuleSet(rules=[rule], content_hash=digest)
