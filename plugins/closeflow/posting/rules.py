"""The posting rules file: which supplier's invoices go to which accounts.

YAML, validated on load. Every rule names its conditions (`when`) and its accounts
(`then`); rules are tried in priority order (lowest number first) and the first match
wins. The file's content hash is the rule version recorded on every journal line, so
any posting can be explained later. A bad file raises ConfigError with file, line and
fix; nothing posts with a half-loaded rule set.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from pathlib import Path

from pydantic import Field, field_validator

from closeflow.config import ConfigError, Strict, load_model, read_yaml


class TaxCode(Strict):
    rate: Decimal
    account: str


class When(Strict):
    supplier_id: str | None = None
    supplier_name_regex: str | None = None
    currency: str | None = None

    @field_validator("supplier_name_regex")
    @classmethod
    def _regex_compiles(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from exc
        return v


class Then(Strict):
    debit_account: str
    cost_center: str | None = None
    description: str | None = None


class Rule(Strict):
    id: str
    priority: int = 100
    when: When
    then: Then

    def matches(self, invoice: dict) -> bool:
        w = self.when
        if w.supplier_id is not None and invoice.get("supplier_id") != w.supplier_id:
            return False
        if w.currency is not None and invoice.get("currency") != w.currency:
            return False
        if w.supplier_name_regex is not None and not re.search(
            w.supplier_name_regex, invoice.get("supplier_name") or "", re.IGNORECASE
        ):
            return False
        return True


class RuleSet(Strict):
    version: int = 1
    ap_account: str = "2000"
    rounding_account: str = "8999"
    tax_codes: dict[str, TaxCode] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    content_hash: str = ""

    def ordered(self) -> list[Rule]:
        return sorted(self.rules, key=lambda r: (r.priority, r.id))

    def rule_for(self, invoice: dict) -> Rule | None:
        return next((r for r in self.ordered() if r.matches(invoice)), None)

    def tax_account(self, rate: Decimal) -> str | None:
        for code in self.tax_codes.values():
            if code.rate == rate:
                return code.account
        return None


def load_rules(path: Path | str, accounts: set[str] | None = None) -> RuleSet:
    """Load and validate a rules file; `accounts` (chart codes) checks every account named."""
    path = Path(path)
    data, lines = read_yaml(path)
    rules = load_model(path, RuleSet, data=data)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    seen: set[str] = set()
    for i, rule in enumerate(rules.rules):
        line = lines.get(("rules", i))
        if rule.id in seen:
            raise ConfigError(path, line, f"rule id {rule.id!r} is used twice", "make ids unique")
        seen.add(rule.id)
        if rule.when.model_dump(exclude_none=True) == {}:
            raise ConfigError(
                path, line, f"rule {rule.id!r} has no condition", "add a supplier_id or regex"
            )
    if accounts is not None:
        named = [
            (("ap_account",), rules.ap_account),
            (("rounding_account",), rules.rounding_account),
        ]
        named += [(("tax_codes", k, "account"), t.account) for k, t in rules.tax_codes.items()]
        named += [
            (("rules", i, "then", "debit_account"), r.then.debit_account)
            for i, r in enumerate(rules.rules)
        ]
        for loc, account in named:
            if account not in accounts:
                raise ConfigError(
                    path,
                    lines.get(loc),
                    f"account {account!r} is not in the chart of accounts",
                    "use an account code from chart_of_accounts.yml",
                )
    return rules.model_copy(update={"content_hash": digest})
