"""HOME/bank_inbox and truth/bank_lines.jsonl: statements that balance, lines that match."""

from __future__ import annotations

import csv
import datetime as dt
import random
import xml.etree.ElementTree as ET
from collections import defaultdict
from decimal import Decimal

from closeflow.config import CompanyConfig
from closeflow.sample import checksums
from closeflow.sample.business_days import is_business_day
from closeflow.sample.company import BANK_RULE_OF_KIND

NS = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"}
CSV_HEADER = (
    "booking_date,value_date,amount,currency,counterparty_name,counterparty_account,"
    "remittance_info,bank_reference"
)


def _signed(element: ET.Element) -> Decimal:
    amount = Decimal(element.find("c:Amt", NS).text)
    return amount if element.find("c:CdtDbtInd", NS).text == "CRDT" else -amount


def _camt_files(sample) -> list:
    return sorted((sample.home / "bank_inbox").glob("camt053_*.xml"))


def test_camt053_statements_balance(sample) -> None:
    config = CompanyConfig(sample.home / "company")
    eur = next(a for a in config.company.bank_accounts if a.currency == "EUR")
    files = _camt_files(sample)
    days = [dt.date.fromisoformat(p.stem.rsplit("_", 1)[1]) for p in files]
    assert days and all(is_business_day(d) for d in days)
    previous_closing = None
    for path in files:
        root = ET.parse(path).getroot()
        assert root.tag == "{urn:iso:std:iso:20022:tech:xsd:camt.053.001.02}Document"
        stmt = root.find("c:BkToCstmrStmt/c:Stmt", NS)
        assert root.find("c:BkToCstmrStmt/c:GrpHdr/c:MsgId", NS).text
        assert stmt.find("c:Id", NS).text
        assert stmt.find("c:Acct/c:Id/c:IBAN", NS).text == eur.account_id
        balances = {
            b.find("c:Tp/c:CdOrPrtry/c:Cd", NS).text: _signed(b) for b in stmt.findall("c:Bal", NS)
        }
        entries = stmt.findall("c:Ntry", NS)
        assert balances["OPBD"] + sum(_signed(e) for e in entries) == balances["CLBD"]
        if previous_closing is not None:
            assert balances["OPBD"] == previous_closing
        previous_closing = balances["CLBD"]
        for entry in entries:
            assert entry.find("c:Amt", NS).get("Ccy") == "EUR"
            assert entry.find("c:BookgDt/c:Dt", NS).text == path.stem.rsplit("_", 1)[1]
            assert entry.find("c:ValDt/c:Dt", NS).text
            assert entry.find("c:AcctSvcrRef", NS).text
            tx = entry.find("c:NtryDtls/c:TxDtls", NS)
            assert tx.find("c:Refs/c:EndToEndId", NS).text
            assert tx.find("c:RmtInf/c:Ustrd", NS).text
            if entry.find("c:CdtDbtInd", NS).text == "DBIT":
                assert tx.find("c:RltdPties/c:Cdtr/c:Nm", NS).text
            iban = tx.find("c:RltdPties/*/c:Id/c:IBAN", NS)
            if iban is not None:
                assert checksums.is_valid_iban(iban.text)
            rf = tx.find("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", NS)
            if rf is not None:
                assert checksums.is_valid_rf(rf.text)


def test_bank_truth_matches_the_statement_files(sample) -> None:
    by_file = defaultdict(list)
    for line in sample.bank_lines:
        by_file[line["statement_file"]].append(line)
    for path in _camt_files(sample):
        entries = ET.parse(path).getroot().findall(".//c:Ntry", NS)
        truth = by_file.pop(f"bank_inbox/{path.name}", [])
        assert [str(_signed(e)) for e in entries] == [t["amount"] for t in truth]
        assert [e.find("c:AcctSvcrRef", NS).text for e in entries] == [
            t["bank_reference"] for t in truth
        ]
        ustrd = [e.find("c:NtryDtls/c:TxDtls/c:RmtInf/c:Ustrd", NS).text for e in entries]
        assert ustrd == [t["remittance_info"] for t in truth]
    for path in sorted((sample.home / "bank_inbox").glob("*.csv")):
        text = path.read_text(encoding="utf-8")
        assert text.splitlines()[0] == CSV_HEADER
        rows = list(csv.DictReader(text.splitlines()))
        truth = by_file.pop(f"bank_inbox/{path.name}")
        assert [r["amount"] for r in rows] == [t["amount"] for t in truth]
        assert {r["currency"] for r in rows} == {"CNY"}
    assert not by_file  # every truth line is in a file


def test_payments_quote_their_invoice(sample) -> None:
    invoices = {
        d["sha256"]: d["invoice"]
        for d in sample.documents
        if d["expected_status"] == "extracted" and d["invoice"]
    }
    rates = {  # EUR per CNY, as the company folder gives them
        day: rate
        for day, _, rate in (
            row.split(",")
            for row in (sample.home / "company" / "fx_rates.csv").read_text().splitlines()[1:]
        )
    }
    kinds = defaultdict(int)
    for line in sample.bank_lines:
        kinds[line["kind"]] += 1
        amount = Decimal(line["amount"])
        if line["kind"] in ("bank_fee", "capital", "salary", "customer_receipt"):
            # no invoice: the sample's bank rule for the kind books it
            assert line["invoice_sha256"] is None and line["expected_match"] == "none"
            assert line["expected_rule"] == BANK_RULE_OF_KIND[line["kind"]]
            continue
        assert line["expected_rule"] is None and line["expected_match_rule"]
        assert line["invoice_sha256s"][0] == line["invoice_sha256"]
        invoice = invoices[line["invoice_sha256"]]
        total = Decimal(invoice["total"])
        if line["kind"] == "fx_paid":  # a yuan invoice paid from the euro account
            assert (invoice["currency"], line["currency"]) == ("CNY", "EUR")
            rate = Decimal(rates[line["booking_date"]])
            converted = (total * rate * Decimal("1.008")).quantize(Decimal("0.01"))
            assert amount == -converted and line["expected_match_rule"] == "reference+fx_amount"
            assert invoice["payment_reference"] in line["remittance_info"]
            continue
        assert invoice["currency"] == line["currency"]
        text = line["remittance_info"]
        if line["kind"] in ("no_reference", "name_only", "typo_reference"):
            # no reference (or a mistyped one): the exact total, found another way
            assert invoice["payment_reference"] not in text and amount == -total
            continue
        assert invoice["payment_reference"] in text
        if line["kind"] == "payment":
            assert amount == -total and line["expected_match"] == "exact"
        elif line["kind"] == "partial_payment":
            assert -total < amount < 0 and line["expected_match"] == "partial"
        elif line["kind"] == "cash_discount":
            assert amount == -(total - (total * Decimal("0.02")).quantize(Decimal("0.01")))
            assert line["expected_match_rule"] == "reference+tolerance"
        elif line["kind"] == "several_invoices":
            both = [invoices[sha] for sha in line["invoice_sha256s"]]
            assert len(both) == 2 and all(i["payment_reference"] in text for i in both)
            assert amount == -sum(Decimal(i["total"]) for i in both)
        elif line["kind"] == "refund_fee_deducted":
            assert invoice["document_type"] == "credit_note" and 0 < total - amount <= 5
        else:
            assert line["kind"] == "refund" and invoice["document_type"] == "credit_note"
            assert amount == total and line["expected_match"] == "exact"
    assert kinds["payment"] > 0 and kinds["bank_fee"] > 0 and kinds["capital"] == 2
    assert kinds["salary"] > 0 and kinds["customer_receipt"] > 0


def test_statement_mtime_is_22_00_on_the_statement_day(sample) -> None:
    berlin = dt.timezone(dt.timedelta(hours=1))  # January
    for path in (sample.home / "bank_inbox").iterdir():
        day = dt.date.fromisoformat(path.stem.rsplit("_", 1)[1])
        expected = dt.datetime.combine(day, dt.time(22), tzinfo=berlin)
        assert path.stat().st_mtime == expected.timestamp()


def test_a_yuan_payment_made_from_the_euro_account() -> None:
    """The harder case `fx_paid`: a yuan invoice's payment moved to the euro account, the
    amount converted at the day's rate plus the bank's margin, matched by reference+fx."""
    from types import SimpleNamespace

    from closeflow.sample.payments import BankLine, _harder

    day = dt.date(2026, 1, 20)
    line = BankLine(
        currency="CNY",
        booking_date=day,
        sort_key="000001-00001",
        amount=Decimal("-11300.00"),
        counterparty_name="深圳市华强电子有限公司",
        counterparty_account="6222021234567890123",
        remittance_info="货款 CN-20260042",
        end_to_end_id="CF-PAY-00001",
        kind="payment",
        expected_match="exact",
        expected_match_rule="reference+exact_amount",
    )
    invoice = SimpleNamespace(supplier=SimpleNamespace(iban=None), payment_reference="CN-20260042")
    doc = SimpleNamespace(invoice=invoice)
    made = _harder(random.Random(1), "fx_paid", line, doc, {day: Decimal("0.128000")})
    assert (made.currency, made.amount, made.kind) == ("EUR", Decimal("-1457.97"), "fx_paid")
    assert (made.expected_match, made.expected_match_rule) == ("fx", "reference+fx_amount")
    assert _harder(random.Random(1), "fx_paid", line, doc, {}) is None  # no rate that day
