"""The posting rules file: which invoice lines go to which accounts, and how.

YAML, validated on load. A rule names its conditions (`when`) and its actions (`then`).
Rules are tried in priority order (lowest number first, then id) and the first match wins
per invoice line, unless the rule says `continue: true`: then its actions apply and later
rules are still tried (each action field is set by the first matching rule that sets it;
the first matching rule without `continue` ends the search). The file's content hash is
the rule version recorded on every journal line, so any posting can be explained later.
A bad file raises ConfigError with file, line and fix; nothing posts with a half-loaded
rule set.

Conditions (all the fields given must hold; `all`, `any` and `not` combine conditions):
supplier_id, supplier_name_regex, supplier_tax_id, description_keywords (any of them,
case-insensitive), description_regex, amount (the line's net amount, as printed) and
total (the invoice total) as {min, max} (both inclusive), currency, tax_rate,
document_type, buyer_tax_id, buyer_name_regex, has_cost_center. A rule may be limited to
invoice dates with valid_from / valid_to (inclusive).

Actions: debit_account or splits (by percent or fixed amount; the last split takes the
rest, so the parts always add up to the line), cost_center, project, tax_code (the input
tax account for tax at that code's rate), ap_account, auto_post / approval_above (invoices
whose total in the functional currency is above it wait for approval in the review queue),
description (a template: {supplier_name}, {invoice_number}, {description}, ...).

Regular expressions are RE2 (the engine evaluates them with Arrow over whole batches) and
match case-insensitively anywhere in the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import string
from decimal import Decimal
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator, model_validator

from closeflow.config import ConfigError, Strict, load_model, read_yaml

TEMPLATE_FIELDS = (
    "supplier_name",
    "supplier_id",
    "invoice_number",
    "invoice_date",
    "period",
    "currency",
    "description",
    "account",
    "cost_center",
    "project",
    "rule_id",
)


def description_template(v: str | None, fields: tuple[str, ...]) -> str | None:
    """A rule's description template, checked: `{field}` names only from `fields`, no
    format specs (a rule file is data, and a template must not run anything)."""
    if v is None:
        return v
    try:
        parts = list(string.Formatter().parse(v))
    except ValueError as exc:
        raise ValueError(f"bad description template: {exc}") from exc
    for _, name, spec, conv in parts:
        if name is None:
            continue
        if name not in fields:
            raise ValueError(
                f"unknown template field {{{name}}}; use one of "
                + ", ".join("{" + f + "}" for f in fields)
            )
        if spec or conv:
            raise ValueError(f"template field {{{name}}} takes no format")
    return v


def check_regex(v: str | None) -> str | None:
    """The pattern, if RE2 (the engine's regex library) accepts it."""
    if v is not None:
        try:
            pc.match_substring_regex(pa.array([""]), pattern=v, ignore_case=True)
        except pa.ArrowInvalid as exc:
            msg = str(exc).removeprefix("Invalid regular expression: ")
            raise ValueError(f"not a valid regular expression: {msg}") from exc
    return v


def _listify(v: object) -> object:
    return [v] if isinstance(v, str | int | float | Decimal) else v


class TaxCode(Strict):
    rate: Decimal
    account: str

    @field_validator("account", mode="before")
    @classmethod
    def _account_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class Range(Strict):
    """An amount range, both ends inclusive."""

    min: Decimal | None = None
    max: Decimal | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Condition(Strict):
    supplier_id: list[str] | None = None
    supplier_name_regex: str | None = None
    supplier_tax_id: list[str] | None = None
    description_keywords: list[str] | None = None
    description_regex: str | None = None
    amount: Range | None = None
    total: Range | None = None
    currency: list[str] | None = None
    tax_rate: list[Decimal] | None = None
    # a receipt posts as an invoice does (to accounts payable); a rule may single it out
    document_type: Literal["invoice", "credit_note", "receipt"] | None = None
    buyer_tax_id: list[str] | None = None
    buyer_name_regex: str | None = None
    has_cost_center: bool | None = None
    all: list[Condition] | None = None
    any: list[Condition] | None = None
    not_: Condition | None = Field(default=None, alias="not")

    model_config = Strict.model_config | {"populate_by_name": True}

    @field_validator(
        "supplier_id", "supplier_tax_id", "currency", "tax_rate", "buyer_tax_id", mode="before"
    )
    @classmethod
    def _as_list(cls, v: object) -> object:
        return _listify(v)

    @field_validator("supplier_name_regex", "description_regex", "buyer_name_regex")
    @classmethod
    def _regex_compiles(cls, v: str | None) -> str | None:
        return check_regex(v)

    @field_validator("description_keywords", mode="before")
    @classmethod
    def _keywords(cls, v: object) -> object:
        v = _listify(v)
        if isinstance(v, list) and not all(isinstance(k, str) and k.strip() for k in v):
            raise ValueError("keywords must be non-empty texts")
        return v

    def is_empty(self) -> bool:
        return self.model_dump(exclude_none=True) == {}


class Split(Strict):
    account: str
    percent: Decimal | None = Field(default=None, gt=0, le=100)
    amount: Decimal | None = Field(default=None, gt=0)
    cost_center: str | None = None
    project: str | None = None

    @field_validator("account", mode="before")
    @classmethod
    def _account_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class Then(Strict):
    debit_account: str | None = None
    splits: list[Split] | None = None
    cost_center: str | None = None
    project: str | None = None
    tax_code: str | None = None
    ap_account: str | None = None
    auto_post: bool = True
    approval_above: Decimal | None = Field(default=None, ge=0)
    description: str | None = None

    @field_validator("debit_account", "ap_account", mode="before")
    @classmethod
    def _account_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v

    @field_validator("description")
    @classmethod
    def _template(cls, v: str | None) -> str | None:
        return description_template(v, TEMPLATE_FIELDS)

    @model_validator(mode="after")
    def _one_account_action(self) -> Then:
        if self.debit_account is not None and self.splits is not None:
            raise ValueError("give debit_account or splits, not both")
        if self.splits is not None:
            if not self.splits:
                raise ValueError("splits is empty: give at least one split")
            *head, last = self.splits
            for n, s in enumerate(head, start=1):
                if (s.percent is None) == (s.amount is None):
                    raise ValueError(f"split {n} needs exactly one of percent or amount")
            if last.amount is not None:
                raise ValueError("the last split takes the rest of the line: remove its amount")
            if last.percent is not None and all(s.percent is not None for s in head):
                total = sum((s.percent for s in self.splits), Decimal(0))
                if total != 100:
                    raise ValueError(f"split percentages add up to {total}, not 100")
        return self

    def sets_account(self) -> bool:
        return self.debit_account is not None or self.splits is not None

    def account_splits(self) -> list[Split]:
        """The account action as splits (a plain debit account is one split: the rest)."""
        if self.splits is not None:
            return self.splits
        return [Split(account=self.debit_account)] if self.debit_account else []


class Rule(Strict):
    id: str
    priority: int = 100
    continue_: bool = Field(default=False, alias="continue")
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    when: Condition
    then: Then

    model_config = Strict.model_config | {"populate_by_name": True}

    @model_validator(mode="after")
    def _complete(self) -> Rule:
        if not self.continue_ and not self.then.sets_account():
            raise ValueError(
                "a rule that ends the search needs debit_account or splits "
                "(or set continue: true to only add dimensions)"
            )
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            raise ValueError(f"valid_from {self.valid_from} is after valid_to {self.valid_to}")
        return self


class Suggestions(Strict):
    """Learned suggestions for lines no rule covers (see closeflow.posting.suggest)."""

    enabled: bool = False
    auto_post_above: float = Field(default=0.9, ge=0, le=1)  # a confidence, not money
    history: str | None = None  # Parquet of approved journal lines (default: the ledger)


# The ledger's AP control and rounding accounts belong to company.yml; a rules file may
# leave them out (they come from company.yml) or repeat them, but not differ.
DEFAULT_ACCOUNTS = {"ap_account": "2000", "rounding_account": "8999"}


class RuleSet(Strict):
    version: int = 1
    ap_account: str | None = None  # default: company.yml's (else 2000)
    rounding_account: str | None = None  # default: company.yml's (else 8999)
    # how far (transaction currency) a document's total may be from net + tax and still
    # post, the difference going to rounding_account; beyond it, review
    rounding_tolerance: Decimal = Field(default=Decimal("0.05"), ge=0)
    tax_codes: dict[str, TaxCode] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    suggestions: Suggestions = Field(default_factory=Suggestions)
    content_hash: str = ""

    @field_validator("ap_account", "rounding_account", mode="before")
    @classmethod
    def _account_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v

    def ordered(self) -> list[Rule]:
        return sorted(self.rules, key=lambda r: (r.priority, r.id))

    def payables_accounts(self) -> set[str]:
        """Every account an invoice's payable may be credited to: the AP control account
        and any a rule sets for its invoices (an intercompany AP account, say)."""
        own = {r.then.ap_account for r in self.rules if r.then.ap_account is not None}
        return {self.ap_account or DEFAULT_ACCOUNTS["ap_account"], *own}

    def tax_account(self, rate: Decimal) -> str | None:
        for code in self.tax_codes.values():
            if code.rate == rate:
                return code.account
        return None


def walk_conditions(cond, loc: tuple):  # noqa: ANN001, ANN201
    """Each condition of a tree of all/any/not conditions (a posting rule's or a bank
    rule's), with where it sits in the file (for an error's line)."""
    yield cond, loc
    for key in ("all", "any"):
        for n, sub in enumerate(getattr(cond, key) or []):
            yield from walk_conditions(sub, loc + (key, n))
    if cond.not_ is not None:
        yield from walk_conditions(cond.not_, loc + ("not",))


def load_rules(
    path: Path | str,
    accounts: set[str] | None = None,
    company_accounts: dict[str, str] | None = None,
) -> RuleSet:
    """Load and validate a rules file; `accounts` (chart codes) checks every account named.

    `company_accounts` (company.yml's `ap_account` and `rounding_account`) fill the rules
    file's when it leaves them out; a rules file that names another is refused: the
    ledger has one AP control account and one rounding account."""
    path = Path(path)
    data, lines = read_yaml(path)
    rules = load_model(path, RuleSet, data=data)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    settled = {}
    for key, fallback in DEFAULT_ACCOUNTS.items():
        given, company = getattr(rules, key), (company_accounts or {}).get(key)
        if given is not None and company is not None and given != company:
            raise ConfigError(
                path,
                lines.get((key,)),
                f"{key} {given!r} differs from company.yml's {company!r}: the ledger has one",
                f"remove {key} here (company.yml's is used) or make them the same",
            )
        settled[key] = given or company or fallback
    rules = rules.model_copy(update=settled)

    def line_of(loc: tuple) -> int | None:
        for n in range(len(loc), -1, -1):
            if loc[:n] in lines:
                return lines[loc[:n]]
        return None

    seen: set[str] = set()
    for i, rule in enumerate(rules.rules):
        line = lines.get(("rules", i))
        if rule.id in seen:
            raise ConfigError(path, line, f"rule id {rule.id!r} is used twice", "make ids unique")
        seen.add(rule.id)
        for cond, loc in walk_conditions(rule.when, ("rules", i, "when")):
            if cond.is_empty():
                raise ConfigError(
                    path,
                    line_of(loc),
                    f"rule {rule.id!r} has an empty condition",
                    "add a supplier_id, a regex or another condition",
                )
        code = rule.then.tax_code
        if code is not None and code not in rules.tax_codes:
            raise ConfigError(
                path,
                line_of(("rules", i, "then", "tax_code")),
                f"rule {rule.id!r} names tax code {code!r}, which tax_codes does not define",
                "use one of " + ", ".join(rules.tax_codes) if rules.tax_codes else "add it",
            )
    if accounts is not None:
        named = [
            (("ap_account",), rules.ap_account),
            (("rounding_account",), rules.rounding_account),
        ]
        named += [(("tax_codes", k, "account"), t.account) for k, t in rules.tax_codes.items()]
        for i, r in enumerate(rules.rules):
            if r.then.debit_account is not None:
                named.append((("rules", i, "then", "debit_account"), r.then.debit_account))
            if r.then.ap_account is not None:
                named.append((("rules", i, "then", "ap_account"), r.then.ap_account))
            for j, s in enumerate(r.then.splits or []):
                named.append((("rules", i, "then", "splits", j, "account"), s.account))
        for loc, account in named:
            if account not in accounts:
                raise ConfigError(
                    path,
                    line_of(loc),
                    f"account {account!r} is not in the chart of accounts",
                    "use an account code from chart_of_accounts.yml",
                )
    return rules.model_copy(update={"content_hash": digest})
