"""The sample company itself and its configuration folder HOME/company.

Writes company.yml, chart_of_accounts.yml, suppliers.yml, posting_rules.yml,
bank_rules.yml, opening_balances.csv and fx_rates.csv in the formats
`closeflow.config.CompanyConfig`, `closeflow.posting`, `closeflow.bank_rules` and
`closeflow.opening` load. YAML is written as text in a fixed order, so the same seed
gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from closeflow.sample import checksums
from closeflow.sample.fx import fx_rates_csv
from closeflow.sample.seeds import digits, stream
from closeflow.sample.suppliers import SupplierProfile

COMPANY_NAME = "Closeflow Demo GmbH"
CN_BRANCH_NAME = "克洛斯弗洛（上海）贸易有限公司"
AP_ACCOUNT, INPUT_VAT_ACCOUNT, ROUNDING_ACCOUNT = "2000", "1400", "8999"
DISCOUNT_ACCOUNT = "4950"  # cash discounts taken when paying: written off here
EUR_LEDGER_ACCOUNT, CNY_LEDGER_ACCOUNT = "1200", "1210"
# the professional-fees rule covers invoices from this total (document currency) up
FEES_RULE_MIN_TOTAL = Decimal("1000.00")
SHARE_CAPITAL_ACCOUNT, CAPITAL_RESERVE_ACCOUNT = "3000", "3100"
# what the bank accounts hold when the books begin (the first statement's opening
# balance), funded by the share capital
OPENING_BALANCE = {"EUR": Decimal("25000.00"), "CNY": Decimal("0.00")}
CAPITAL_HOLDING = "Closeflow Holding AG"  # pays in the capital on the first day
# company.yml's reconciliation policy: a difference of up to 2.5 % and 250.00 is written off
TOLERANCE, TOLERANCE_PERCENT = Decimal("250.00"), Decimal("2.5")
FX_TOLERANCE_PERCENT = Decimal("3")  # a bank's conversion margin on a foreign payment
CUSTOMERS = (
    "Hafenkante Handels GmbH",
    "Morgenrot Media AG",
    "Lindqvist Trading GmbH",
    "Baltic Components GmbH",
    "Alsterblick Immobilien KG",
)
# which rule of bank_rules.yml books each kind of bank line no invoice explains
BANK_RULE_OF_KIND = {
    "capital": "capital",
    "bank_fee": "bank-fees",
    "salary": "salaries",
    "customer_receipt": "customer-receipts",
}

CHART_OF_ACCOUNTS: tuple[tuple[str, str, str], ...] = (
    ("1000", "Cash on hand", "asset"),
    ("1200", "Bank EUR", "asset"),
    ("1210", "Bank CNY", "asset"),
    ("1360", "Cash in transit", "asset"),
    ("1400", "Input VAT", "asset"),
    ("1590", "Suspense account (unclear items)", "asset"),
    ("2000", "Accounts payable", "liability"),
    ("2100", "Payroll liabilities", "liability"),
    ("3000", "Share capital", "equity"),
    ("3100", "Capital reserve", "equity"),
    ("4000", "Revenue", "income"),
    ("4950", "Discounts received", "income"),
    ("6000", "Salaries", "expense"),
    ("6100", "Rent", "expense"),
    ("6110", "Cleaning and maintenance", "expense"),
    ("6200", "Software & hosting", "expense"),
    ("6300", "Office supplies", "expense"),
    ("6350", "Postage, courier and freight", "expense"),
    ("6400", "Travel", "expense"),
    ("6450", "Training", "expense"),
    ("6500", "Professional services", "expense"),
    ("6600", "Telecom", "expense"),
    ("6700", "Utilities", "expense"),
    ("6800", "Marketing", "expense"),
    ("6900", "Bank fees", "expense"),
    ("7900", "FX differences", "expense"),
    ("8999", "Rounding differences", "expense"),
)

TAX_CODES: tuple[tuple[str, str], ...] = (
    ("DE19", "0.19"),
    ("DE7", "0.07"),
    ("CN13", "0.13"),
    ("CN6", "0.06"),
    ("CN9", "0.09"),
)


@dataclass(frozen=True)
class CompanyIdentity:
    """Who the buyer is on every invoice, and its two bank accounts."""

    name: str
    vat_id: str
    address: str
    eur_iban: str
    eur_bank: str
    eur_bic: str
    cny_account: str
    cny_bank: str
    cn_name: str
    cn_uscc: str
    cn_address: str


def build_company(seed: int) -> CompanyIdentity:
    rng = stream(seed, "company")
    return CompanyIdentity(
        name=COMPANY_NAME,
        vat_id=checksums.make_de_vat_id(digits(rng, 8, first_nonzero=True)),
        address="Am Sandtorkai 12, 20457 Hamburg",
        eur_iban=checksums.make_iban("DE", "20040000" + digits(rng, 10, first_nonzero=True)),
        eur_bank="Commerzbank Hamburg",
        eur_bic="COBADEHHXXX",
        cny_account=digits(rng, 19, first_nonzero=True),
        cny_bank="中国工商银行上海自贸试验区分行",
        cn_name=CN_BRANCH_NAME,
        cn_uscc=checksums.make_uscc(
            "9", "1", "310115", "MA" + "".join(rng.choice(checksums.USCC_CHARS) for _ in range(6))
        ),
        cn_address=f"中国(上海)自由贸易试验区富特北路{rng.randint(100, 499)}号"
        f" 021-5868{digits(rng, 4)}",
    )


def _q(value: object) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted strings."""
    return json.dumps(value, ensure_ascii=False)


def company_yml(company: CompanyIdentity, first_period: str) -> str:
    return "\n".join(
        [
            "# The sample company (written by closeflow.sample; edit freely).",
            f"name: {_q(company.name)}",
            f"tax_id: {_q(company.vat_id)}",
            'functional_currency: "EUR"',
            'timezone: "Europe/Berlin"',
            f"first_period: {_q(first_period)}",
            "bank_accounts:",
            f"  - account_id: {_q(company.eur_iban)}",
            '    currency: "EUR"',
            f"    ledger_account: {_q(EUR_LEDGER_ACCOUNT)}",
            f"    name: {_q(company.eur_bank + ' EUR')}",
            f"  - account_id: {_q(company.cny_account)}",
            '    currency: "CNY"',
            f"    ledger_account: {_q(CNY_LEDGER_ACCOUNT)}",
            f"    name: {_q(company.cny_bank + ' CNY')}",
            f"ap_account: {_q(AP_ACCOUNT)}",
            'bank_fee_account: "6900"',
            'fx_difference_account: "7900"',
            f"rounding_account: {_q(ROUNDING_ACCOUNT)}",
            "# an OCR'd field read with less confidence than this sends the invoice to review",
            "ocr_min_confidence: 0.6",
            "# a payment within 2.5 % (at most 250.00) of what is open settles the invoice, the",
            "# difference written off (paid less: a cash discount taken, to discounts received;",
            "# a charge: bank fees); a match scoring below auto_confirm_score waits for a",
            "# person's confirmation; an invoice paid from an account in another currency",
            "# settles when the line is within 3 % of its amount at the day's rates",
            "reconciliation:",
            f"  tolerance: {_q(str(TOLERANCE))}",
            f"  tolerance_percent: {_q(str(TOLERANCE_PERCENT))}",
            f"  underpaid_account: {_q(DISCOUNT_ACCOUNT)}",
            "  auto_confirm_score: 0.9",
            f"  fx_tolerance_percent: {_q(str(FX_TOLERANCE_PERCENT))}",
            "",
        ]
    )


def chart_of_accounts_yml() -> str:
    lines = ["# Chart of accounts of the sample company.", "accounts:"]
    for code, name, kind in CHART_OF_ACCOUNTS:
        lines.append(f"  - {{code: {_q(code)}, name: {_q(name)}, type: {kind}}}")
    return "\n".join(lines) + "\n"


def suppliers_yml(suppliers: list[SupplierProfile]) -> str:
    lines = ["# Supplier master data of the sample company.", "suppliers:"]
    for s in suppliers:
        tpl = s.template
        lines.append(f"  - supplier_id: {_q(s.supplier_id)}")
        lines.append(f"    name: {_q(s.name)}")
        lines.append(f"    tax_id: {_q(s.tax_id)}")
        if s.iban:
            lines.append(f"    iban: {_q(s.iban)}")
        lines.append(f"    currency: {_q(s.currency)}")
        lines.append(f"    language: {_q(tpl.language)}")
        lines.append(f"    country: {_q(tpl.country)}")
        if tpl.alias:
            lines.append(f"    aliases: [{_q(tpl.alias)}]")
    return "\n".join(lines) + "\n"


def _by_slug(suppliers: list[SupplierProfile]) -> dict[str, str]:
    return {s.template.slug: s.supplier_id for s in suppliers}


def posting_rules_yml(suppliers: list[SupplierProfile]) -> str:
    """The rules a controller would write: a few specific rules first (description
    keywords and patterns, a total range with an approval limit, a rent split that
    starts with the year, a project tag, an explicit tax code), then one rule per
    supplier. The generator's ground truth (`closeflow.sample.truth`) follows the same
    decisions: an item's `account`, a supplier's `approval_above`."""
    ids = _by_slug(suppliers)
    fees = [s.supplier_id for s in suppliers if s.template.approval_above is not None]
    limits = {s.template.approval_above for s in suppliers if s.template.approval_above}
    (limit,) = limits
    lines = [
        "# Auto-posting rules of the sample company. Specific rules first (lowest priority",
        "# number wins per invoice line), then one rule per supplier: supplier -> expense",
        "# account. Suppliers without a rule go to the review queue.",
        "version: 1",
        f"ap_account: {_q(AP_ACCOUNT)}",
        f"rounding_account: {_q(ROUNDING_ACCOUNT)}",
        "tax_codes:",
    ]
    for code, rate in TAX_CODES:
        lines.append(f"  {code}: {{rate: {_q(rate)}, account: {_q(INPUT_VAT_ACCOUNT)}}}")
    lines += [
        "rules:",
        "  - id: bi-project  # Datenfluss consulting hours belong to the data warehouse project",
        "    priority: 1",
        "    continue: true",
        "    when:",
        "      all:",
        f"        - {{supplier_id: {_q(ids['datenfluss'])}}}",
        "        - {description_keywords: [consulting]}",
        '    then: {project: "DWH-2026"}',
        "  - id: training  # user training and awareness sessions are training, not IT",
        "    priority: 10",
        "    when:",
        "      all:",
        f"        - {{supplier_id: [{_q(ids['bitwerk'])}, {_q(ids['secureit'])}]}}",
        '        - {description_regex: "(schulung|training)"}',
        '    then: {debit_account: "6450", cost_center: "HR"}',
        "  - id: freight  # shipping charged on office supplies is freight",
        "    priority: 10",
        f"    when: {{all: [{{supplier_id: {_q(ids['paperline'])}}}, "
        "{description_keywords: [shipping, versand]}]}",
        '    then: {debit_account: "6350", cost_center: "ADMIN"}',
        "  - id: professional-fees  # larger fee notes: the CFO approves above the limit",
        "    priority: 20",
        "    when:",
        "      all:",
        f"        - {{supplier_id: [{', '.join(_q(i) for i in fees)}]}}",
        f"        - {{total: {{min: {_q(str(FEES_RULE_MIN_TOTAL))}}}}}",
        "        - not: {document_type: credit_note}",
        "    then:",
        '      debit_account: "6500"',
        '      cost_center: "FIN"',
        f"      approval_above: {_q(str(limit))}",
        '      description: "{supplier_name} {invoice_number}: {description}"',
        "  - id: rent-2025  # until the new lease: all rent to administration",
        "    priority: 30",
        "    valid_to: 2025-12-31",
        f"    when: {{supplier_id: {_q(ids['hanse-office-park'])}}}",
        '    then: {debit_account: "6100", cost_center: "ADMIN"}',
        "  - id: rent  # from 2026 the office is shared: 70 % administration, 30 % IT",
        "    priority: 30",
        "    valid_from: 2026-01-01",
        f"    when: {{supplier_id: {_q(ids['hanse-office-park'])}}}",
        "    then:",
        "      splits:",
        '        - {account: "6100", percent: "70", cost_center: "ADMIN"}',
        '        - {account: "6100", cost_center: "IT"}',
        "  - id: travel-reduced-vat  # rail tickets and hotel nights carry 7 % input VAT",
        "    priority: 40",
        "    when:",
        "      all:",
        f"        - {{supplier_id: [{_q(ids['elbe-travel'])}, {_q(ids['stadthotel-am-markt'])}]}}",
        '        - {tax_rate: "0.07"}',
        '    then: {debit_account: "6400", cost_center: "SALES", tax_code: "DE7"}',
    ]
    for s in suppliers:
        if s.template.account is None:
            continue
        number = s.supplier_id.split("-")[1]
        lines += [
            f"  - id: r-sup-{number}  # {s.name}",
            "    priority: 100",
            f"    when: {{supplier_id: {_q(s.supplier_id)}}}",
            f"    then: {{debit_account: {_q(s.template.account)}, "
            f"cost_center: {_q(s.template.cost_center)}}}",
        ]
    return "\n".join(lines) + "\n"


def bank_rules_yml() -> str:
    """The rules a controller would write for the bank lines no invoice explains: the
    holding's capital, bank charges, salaries and the customers' receipts (the company
    keeps no receivables ledger: a receipt is revenue when it arrives)."""
    customers = [f"        - {_q(c)}" for c in CUSTOMERS]
    return "\n".join(
        [
            "# Bank-line posting rules of the sample company (closeflow.bank_rules): how the",
            "# bank lines no invoice explains are booked. The first rule (lowest priority",
            "# number, then id) whose conditions all hold books the line against `account`;",
            "# the other leg is the bank account's ledger account. Texts match as whole words.",
            "version: 1",
            "rules:",
            "  - id: capital  # the holding pays capital into the reserve (Kapitalruecklage)",
            "    priority: 10",
            f"    when: {{counterparty_name: {_q(CAPITAL_HOLDING)}, direction: in}}",
            "    then:",
            f"      account: {_q(CAPITAL_RESERVE_ACCOUNT)}",
            '      description: "Capital contribution {counterparty_name}: {remittance_info}"',
            "  - id: bank-fees  # account fees and transfer charges",
            "    priority: 20",
            "    when:",
            "      direction: out",
            '      text_words: ["bank charges", "bank fee", "Kontoführungsgebühr", "Entgelt",'
            ' "手续费"]',
            '    then: {account: "6900", source_type: bank_fee}',
            "  - id: salaries  # the monthly salary run, one line per employee",
            "    priority: 30",
            "    when: {direction: out, text_words: [Gehalt, salary]}",
            '    then: {account: "6000", cost_center: "HR"}',
            "  - id: customer-receipts  # what customers pay",
            "    priority: 40",
            "    when:",
            "      direction: in",
            "      counterparty_name:",
            *customers,
            "    then:",
            '      account: "4000"',
            '      description: "Receipt {counterparty_name}: {remittance_info}"',
            "",
        ]
    )


def opening_balances_csv(first_period: str) -> str:
    """The opening balance sheet on the first day of `first_period`: the bank accounts as
    the first statements open, funded by share capital."""
    day = f"{first_period}-01"
    ledger = {"EUR": EUR_LEDGER_ACCOUNT, "CNY": CNY_LEDGER_ACCOUNT}
    rows = [f"{ledger[c]},{amount:.2f},{c},{day}" for c, amount in OPENING_BALANCE.items()]
    capital = -sum((a for c, a in OPENING_BALANCE.items() if c == "EUR"), Decimal("0.00"))
    rows.append(f"{SHARE_CAPITAL_ACCOUNT},{capital:.2f},EUR,{day}")
    head = [
        "# Opening balance sheet of the sample company (closeflow.opening): what each",
        "# account holds when the books begin, debit positive, in the row's currency.",
        "account,amount,currency,date",
    ]
    return "\n".join(head + rows) + "\n"


def write_company_folder(
    folder: Path,
    company: CompanyIdentity,
    suppliers: list[SupplierProfile],
    rates: dict[dt.date, Decimal],
    first_period: str,
) -> list[Path]:
    """Write the seven configuration files; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "company.yml": company_yml(company, first_period),
        "chart_of_accounts.yml": chart_of_accounts_yml(),
        "suppliers.yml": suppliers_yml(suppliers),
        "posting_rules.yml": posting_rules_yml(suppliers),
        "bank_rules.yml": bank_rules_yml(),
        "opening_balances.csv": opening_balances_csv(first_period),
        "fx_rates.csv": fx_rates_csv(rates),
    }
    out = []
    for name, text in files.items():
        if name.endswith(".yml"):
            yaml.safe_load(text)  # the text writers above must produce valid YAML
        path = folder / name
        path.write_text(text, encoding="utf-8", newline="\n")
        out.append(path)
    return out
