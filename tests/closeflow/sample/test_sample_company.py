"""HOME/company: loads with closeflow.config and carries valid identifiers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import yaml

from closeflow.config import CompanyConfig
from closeflow.posting import load_rules
from closeflow.sample import checksums


def test_company_config_loads(sample) -> None:
    config = CompanyConfig(sample.home / "company")
    assert config.company.name == "Closeflow Demo GmbH"
    assert config.company.functional_currency == "EUR"
    assert config.company.timezone == "Europe/Berlin"
    assert config.company.first_period == "2026-01"
    accounts = {a.currency: a for a in config.company.bank_accounts}
    assert accounts["EUR"].ledger_account == "1200"
    assert accounts["CNY"].ledger_account == "1210"
    assert checksums.is_valid_iban(accounts["EUR"].account_id)
    assert checksums.is_valid_de_vat_id(config.company.tax_id)
    codes = config.chart.codes()
    assert {"1200", "1210", "1400", "2000", "3000", "4950", "6900", "7900", "8999"} <= codes
    assert {f"6{n}00" for n in range(1, 10)} <= codes


def test_suppliers_have_valid_identifiers(sample) -> None:
    suppliers = CompanyConfig(sample.home / "company").suppliers
    assert 28 <= len(suppliers) <= 35
    chinese = [s for s in suppliers if s.currency == "CNY"]
    european = [s for s in suppliers if s.currency == "EUR"]
    assert 4 <= len(chinese) <= 5
    for s in european:
        assert checksums.is_valid_de_vat_id(s.tax_id), s
        assert checksums.is_valid_iban(s.iban), s
    for s in chinese:
        assert checksums.is_valid_uscc(s.tax_id), s
        assert s.iban is None and s.language == "zh"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in s.name)


def test_posting_rules_cover_all_suppliers_but_two(sample) -> None:
    config = CompanyConfig(sample.home / "company")
    rules = yaml.safe_load(config.rules_path.read_text(encoding="utf-8"))
    assert rules["version"] == 1 and rules["ap_account"] == "2000"
    assert rules["tax_codes"]["DE19"] == {"rate": "0.19", "account": "1400"}
    assert set(rules["tax_codes"]) == {"DE19", "DE7", "CN13", "CN6", "CN9"}
    per_supplier = [r for r in rules["rules"] if r["id"].startswith("r-sup-")]
    covered = {r["when"]["supplier_id"] for r in per_supplier}
    all_ids = {s.supplier_id for s in config.suppliers}
    assert len(all_ids - covered) == 2 and covered <= all_ids
    for rule in per_supplier:
        assert rule["then"]["debit_account"] in config.chart.codes()
        assert rule["priority"] == 100
    # the specific rules come first and use the engine's other conditions and actions
    specific = {r["id"]: r for r in rules["rules"] if not r["id"].startswith("r-sup-")}
    assert set(specific) == {
        "bi-project",
        "training",
        "freight",
        "professional-fees",
        "rent-2025",
        "rent",
        "travel-reduced-vat",
    }
    assert all(r["priority"] < 100 for r in specific.values())
    assert specific["bi-project"]["continue"] is True
    assert specific["training"]["when"]["all"][1] == {"description_regex": "(schulung|training)"}
    fees = specific["professional-fees"]
    assert fees["when"]["all"][1:] == [
        {"total": {"min": "1000.00"}},
        {"not": {"document_type": "credit_note"}},
    ]
    assert fees["then"]["approval_above"] == "7500.00"
    assert specific["rent"]["valid_from"] == dt.date(2026, 1, 1)
    assert specific["rent-2025"]["valid_to"] == dt.date(2025, 12, 31)
    assert [s.get("percent") for s in specific["rent"]["then"]["splits"]] == ["70", None]
    assert specific["travel-reduced-vat"]["then"]["tax_code"] == "DE7"
    load_rules(config.rules_path, accounts=config.chart.codes())  # validates on load


def test_fx_rates_cover_every_day_with_margin(sample) -> None:
    path = sample.home / "company" / "fx_rates.csv"
    rows = path.read_text(encoding="utf-8").splitlines()
    assert rows[0] == "date,currency,rate"
    days = [dt.date.fromisoformat(r.split(",")[0]) for r in rows[1:]]
    last = sample.start + dt.timedelta(days=sample.days - 1)
    expected = (last - sample.start).days + 1 + 20
    assert days[0] == sample.start - dt.timedelta(days=10)
    assert days[-1] == last + dt.timedelta(days=10)
    assert len(days) == expected == len(set(days))
    for row in rows[1:]:
        _, currency, rate = row.split(",")
        assert currency == "CNY" and len(rate.split(".")[1]) == 6
        assert Decimal("0.12") < Decimal(rate) < Decimal("0.136")
