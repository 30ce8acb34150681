"""Company configuration a finance user edits: company, chart of accounts, suppliers.

Every file is YAML validated on load with pydantic. A bad file raises `ConfigError`
naming the file, the line and what to fix; nothing downstream sees a half-read file.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from decimal import Decimal
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ocr.suppliers import SupplierTemplate
from ocr.validate import DEFAULT_MIN_CONFIDENCE

M = TypeVar("M", bound=BaseModel)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available


class ConfigError(ValueError):
    """A configuration file that cannot be used. The message names file and line."""

    def __init__(self, path: Path | str, line: int | None, message: str, fix: str = "") -> None:
        self.path, self.line, self.fix = str(path), line, fix
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}" + (f" (fix: {fix})" if fix else ""))


def _node_lines(node: yaml.Node, path: tuple = ()) -> dict[tuple, int]:
    """Map each key path in a YAML document to its 1-based line number."""
    lines = {path: node.start_mark.line + 1}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = path + (key.value,)
            lines[sub] = key.start_mark.line + 1
            lines.update({k: v for k, v in _node_lines(value, sub).items() if k != sub})
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines.update(_node_lines(item, path + (i,)))
    return lines


def read_yaml(path: Path | str) -> tuple[object, dict[tuple, int]]:
    """Parse a YAML file; return the data and a key-path -> line map."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path, None, f"cannot read file: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=_LOADER)
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ConfigError(
            path, line, f"not valid YAML: {exc.problem}", "check indentation and quoting"
        ) from exc
    return data, (_node_lines(node) if node is not None else {})


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The field names (aliases) of the model found at `loc[:-1]` inside `model`."""
    import typing

    tp: object = model
    for part in loc[:-1]:
        for _ in range(4):  # unwrap Optional / Union / list / dict down to the next model
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                break
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            origin = typing.get_origin(tp)
            if origin is dict and isinstance(part, str):
                tp = args[-1]
                break
            if origin is list and isinstance(part, int):
                tp = args[0]
                break
            if not args:
                return []
            tp = next((a for a in args if typing.get_origin(a) in (list, dict)), args[0])
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            fields = {(f.alias or n): f for n, f in tp.model_fields.items()}
            if part not in fields:
                return []
            tp = fields[part].annotation
    while not (isinstance(tp, type) and issubclass(tp, BaseModel)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if not args:
            return []
        tp = args[0]
    return [f.alias or n for n, f in tp.model_fields.items()]


def load_model(path: Path | str, model: type[M], data: object = None) -> M:
    """Load `path` (or already-read `data`) into `model`, errors pointing at the line."""
    if data is None:
        data, lines = read_yaml(path)
    else:
        lines = read_yaml(path)[1]
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        errors = exc.errors()
        # An unknown key explains a "missing" one beside it (a typo): report that first.
        err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        loc = tuple(err["loc"])
        line = None
        for n in range(len(loc), -1, -1):  # nearest enclosing key that has a line
            if loc[:n] in lines:
                line = lines[loc[:n]]
                break
        field = ".".join(str(p) for p in loc) or "(top level)"
        fix = "add the missing field" if err["type"] == "missing" else "correct the value"
        if err["type"] == "extra_forbidden":
            siblings = [
                str(e["loc"][-1])
                for e in errors
                if e["type"] == "missing" and tuple(e["loc"][:-1]) == loc[:-1]
            ]
            close = difflib.get_close_matches(str(loc[-1]), siblings, n=1)
            if not close:  # an optional field mistyped: compare with the model's own fields
                close = difflib.get_close_matches(str(loc[-1]), _fields_at(model, loc), n=1)
            fix = f"did you mean {close[0]!r}?" if close else "remove or rename the unknown field"
            raise ConfigError(path, line, f"unknown field {field!r}", fix) from exc
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(path, line, f"{field}: {msg}", fix) from exc


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


AccountType = Literal["asset", "liability", "equity", "income", "expense"]


class Account(Strict):
    code: str
    name: str
    type: AccountType

    @field_validator("code", mode="before")
    @classmethod
    def _code_str(cls, v: object) -> object:
        return str(v) if isinstance(v, int) else v


class ChartOfAccounts(Strict):
    accounts: list[Account]

    def codes(self) -> set[str]:
        return {a.code for a in self.accounts}

    def by_code(self) -> dict[str, Account]:
        return {a.code: a for a in self.accounts}


class Supplier(Strict):
    supplier_id: str
    name: str
    tax_id: str | None = None
    iban: str | None = None
    currency: str = "EUR"
    language: str = "en"
    country: str | None = None
    aliases: list[str] = Field(default_factory=list)
    template: SupplierTemplate | None = None  # optional: anchors, own labels, fixed values


class Suppliers(Strict):
    suppliers: list[Supplier]


class BankAccount(Strict):
    account_id: str  # IBAN or bank account number as the statement names it
    currency: str
    ledger_account: str
    name: str = ""


class Reconciliation(Strict):
    """How bank lines are matched (closeflow.reconcile.MatchPolicy): a payment that differs
    from what is open by at most `tolerance` (and `tolerance_percent` of it) settles the
    invoice, the difference written off to `underpaid_account` (a cash discount taken;
    default: the rounding account) or `overpaid_account` (default: the bank-fee account).
    The default takes no difference: a payment short of what is open is a partial one.

    A match scoring at least `auto_confirm_score` is booked at once; below it, it is
    suggested and waits for a person (`closeflow match confirm|reject`). A payment found
    by the counterparty's name needs a name at least `name_similarity` % like the
    supplier's (or an alias) and a booking date within `due_window_days` of the due date.
    An invoice paid from an account in another currency (the bank converts) is settled
    when the line pays its amount converted at the booking date's rates within
    `fx_tolerance_percent` (the bank's conversion margin; 0: such lines go to review); the
    difference is booked as an FX difference."""

    tolerance: Decimal = Field(default=Decimal("0.00"), ge=0)
    tolerance_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    underpaid_account: str | None = None
    overpaid_account: str | None = None
    auto_confirm_score: float = Field(default=0.9, ge=0, le=1)
    name_similarity: float = Field(default=90.0, ge=50, le=100)
    due_window_days: int = Field(default=30, ge=0)
    fx_tolerance_percent: Decimal = Field(default=Decimal("0"), ge=0, le=20)


class Company(Strict):
    name: str
    tax_id: str | None = None
    functional_currency: str = "EUR"
    timezone: str = "Europe/Berlin"
    first_period: str | None = None  # YYYY-MM
    # the first night closeflow keeps the books for: a month's close waits for its nights
    # from then on (default: the first night closeflow ran)
    go_live: dt.date | None = None
    closed_through: str | None = None  # last closed period, YYYY-MM
    bank_accounts: list[BankAccount] = Field(default_factory=list)
    ap_account: str = "2000"
    bank_fee_account: str = "6900"
    fx_difference_account: str = "7900"
    rounding_account: str = "8999"
    # bank charges by words of the remittance text, for a company without bank rules
    bank_fee_keywords: list[str] = Field(
        default_factory=lambda: ["bank charges", "bank fee", "kontoführungsgebühr", "entgelt"]
    )
    report_recipients: list[str] = Field(default_factory=list)
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)
    # an OCR'd field read with less confidence than this sends the invoice to review
    ocr_min_confidence: float = Field(default=DEFAULT_MIN_CONFIDENCE, ge=0, le=1)
    chart_of_accounts: str = "chart_of_accounts.yml"
    suppliers: str = "suppliers.yml"
    posting_rules: str = "posting_rules.yml"
    bank_rules: str = "bank_rules.yml"  # how bank lines no invoice explains are booked
    opening_balances: str = "opening_balances.csv"  # the opening balance sheet, if any
    fx_rates: str = "fx_rates.csv"


class FxRates:
    """Daily rates: functional-currency units per one unit of a foreign currency."""

    def __init__(self, rates: dict[tuple[str, dt.date], Decimal]) -> None:
        self._rates = rates

    @classmethod
    def load(cls, path: Path | str) -> FxRates:
        path = Path(path)
        rates: dict[tuple[str, dt.date], Decimal] = {}
        if not path.exists():
            return cls(rates)
        with path.open(encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
            if header != ["date", "currency", "rate"]:
                raise ConfigError(path, 1, f"header is {header}", "use: date,currency,rate")
            for n, row in enumerate(fh, start=2):
                if not row.strip():
                    continue
                try:
                    d, ccy, rate = row.strip().split(",")
                    rates[(ccy, dt.date.fromisoformat(d))] = Decimal(rate)
                except Exception as exc:
                    raise ConfigError(
                        path, n, f"cannot read rate row {row.strip()!r}", "YYYY-MM-DD,CCY,0.123"
                    ) from exc
        return cls(rates)

    def items(self) -> list[tuple[str, dt.date, Decimal]]:
        """Every (currency, date, rate), sorted: the table the posting engine joins."""
        return sorted((c, d, r) for (c, d), r in self._rates.items())

    def rate(self, currency: str, on: dt.date, functional: str) -> Decimal | None:
        """The rate on `on`, or the latest before it within 7 days; None if unknown."""
        if currency == functional:
            return Decimal(1)
        for back in range(8):
            r = self._rates.get((currency, on - dt.timedelta(days=back)))
            if r is not None:
                return r
        return None


class CompanyConfig:
    """Everything a run needs to know about the company, loaded from one folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.company: Company = load_model(self.root / "company.yml", Company)
        self.chart: ChartOfAccounts = load_model(
            self.root / self.company.chart_of_accounts, ChartOfAccounts
        )
        self.suppliers: list[Supplier] = load_model(
            self.root / self.company.suppliers, Suppliers
        ).suppliers
        self.fx = FxRates.load(self.root / self.company.fx_rates)

    @property
    def rules_path(self) -> Path:
        return self.root / self.company.posting_rules

    def posting_rules(self):  # noqa: ANN201 - closeflow.posting.rules.RuleSet
        """The posting rules, checked against the chart of accounts, with company.yml's
        AP control and rounding accounts (a ConfigError names the file and line)."""
        from closeflow.posting import load_rules

        return load_rules(
            self.rules_path,
            accounts=self.chart.codes(),
            company_accounts={
                "ap_account": self.company.ap_account,
                "rounding_account": self.company.rounding_account,
            },
        )

    def bank_rules(self):  # noqa: ANN201 - closeflow.bank_rules.BankRuleSet
        """The bank-line posting rules (bank_rules.yml), checked against the chart of
        accounts; without the file, bank charges by company.yml's bank_fee_keywords."""
        from closeflow.bank_rules import fee_rules, load_bank_rules

        path = self.root / self.company.bank_rules
        if not path.exists():
            return fee_rules(self.company)
        return load_bank_rules(path, accounts=self.chart.codes())

    def opening_balances(self):  # noqa: ANN201 - closeflow.opening.OpeningBalanceSheet | None
        """The opening balance sheet (opening_balances.csv), checked; None without one."""
        from closeflow.opening import load_opening_balances

        path = self.root / self.company.opening_balances
        if not path.exists():
            return None
        return load_opening_balances(
            path, self.chart.codes(), self.company.functional_currency, self.fx
        )

    def bank_account(self, account_id: str) -> BankAccount | None:
        norm = account_id.replace(" ", "").upper()
        for acct in self.company.bank_accounts:
            if acct.account_id.replace(" ", "").upper() == norm:
                return acct
        return None


def default_home() -> Path:
    """Where closeflow keeps its inbox, archive, warehouse and reports."""
    return Path(os.environ.get("CLOSEFLOW_HOME", Path.cwd() / "var")).resolve()
