"""camt.053: the real sample statements, read field by field, and the ways a file is refused."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import (
    StatementError,
    lines_table,
    parse_statement,
    parse_statements,
    statements_table,
)
from closeflow.bank.statement import statement_id
from closeflow.schemas import BANK_LINES, BANK_STATEMENTS
from tests.conftest import SHARED

CAMT = SHARED / "bank" / "camt"
D = Decimal


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_iso_example_statement_with_datetime_bookings_and_a_batch() -> None:
    path = CAMT / "camt.053.001.02.xml"
    st = parse_statement(path)
    assert st.statement == {
        "statement_id": statement_id(
            "AAAASESS-FP-STAT001", "50000000054910000003", "SEK", sha256(path)
        ),
        "account_id": "50000000054910000003",
        "currency": "SEK",
        "opening_balance": D("500000.00"),
        "closing_balance": D("435678.50"),
        "from_date": dt.date(2010, 10, 18),  # FrToDt/FrDtTm
        "to_date": dt.date(2010, 10, 18),
        "source_format": "camt.053",
        "file_sha256": sha256(path),
    }
    sid = st.statement["statement_id"]
    assert [ln["line_id"] for ln in st.lines] == [f"{sid}:1", f"{sid}:2", f"{sid}:3"]
    assert [ln["amount"] for ln in st.lines] == [D("105678.50"), D("-200000.00"), D("30000.00")]
    first, batch, fx = st.lines
    assert first["booking_date"] == dt.date(2010, 10, 18)  # from BookgDt/DtTm
    assert first["value_date"] == dt.date(2010, 10, 18)
    assert first["counterparty_name"] == "MUELLER"  # money in: the debtor
    assert first["bank_reference"] == "AAAASESS-FP-CN_98765/01"
    assert first["end_to_end_id"] == "MUELL/FINP/RA12345"
    assert first["currency"] == "SEK"
    assert batch["bank_reference"] == "AAAASESS-FP-ACCR-01"
    assert batch["counterparty_name"] is None and batch["end_to_end_id"] is None
    # the FX entry is booked in SEK; the EUR counter-value is the payment's, not the booking's
    assert fx["currency"] == "SEK" and fx["end_to_end_id"] == "AAAASS1085FINPSS"
    # the batch says it holds 20 payments but lists none: one line, and a person is told
    assert st.warnings == [
        "statement AAAASESS-FP-STAT001, entry 2 (file line 94) books a batch of 20 "
        "transactions as one line of -200,000.00 SEK; the file does not list them"
    ]


def test_two_statements_in_two_currencies() -> None:
    eur, usd = parse_statements(CAMT / "camt053_multicurrency.xml")
    assert (eur.statement["account_id"], eur.statement["currency"]) == (
        "DE89370400440532013000",
        "EUR",
    )
    assert (eur.statement["opening_balance"], eur.statement["closing_balance"]) == (
        D("10000.00"),
        D("10750.25"),
    )
    assert (eur.statement["from_date"], eur.statement["to_date"]) == (
        dt.date(2026, 4, 10),
        dt.date(2026, 4, 15),
    )
    receipt, payment = eur.lines
    assert receipt["amount"] == D("1250.50")
    assert receipt["counterparty_name"] == "ACME GMBH"
    assert receipt["remittance_info"] == "Invoice 2026-117"
    assert receipt["end_to_end_id"] == "EUR-E2E-001"
    assert payment["amount"] == D("-500.25")
    assert payment["counterparty_name"] == "OFFICE SUPPLIES SARL"  # money out: the creditor
    assert payment["remittance_info"] == "PO 4711"
    assert payment["booking_date"] == dt.date(2026, 4, 15)

    assert usd.statement["account_id"] == "US-ACCT-0099"  # Acct/Id/Othr/Id
    assert usd.statement["currency"] == "USD"
    assert (usd.statement["opening_balance"], usd.statement["closing_balance"]) == (
        D("2500.00"),
        D("2400.01"),
    )
    (line,) = usd.lines
    assert line["amount"] == D("-99.99") and line["currency"] == "USD"
    assert line["booking_date"] == dt.date(2026, 4, 20)
    assert line["value_date"] == dt.date(2026, 4, 21)
    assert line["remittance_info"] == "Subscription April"
    assert eur.statement["statement_id"] != usd.statement["statement_id"]
    assert eur.statement["file_sha256"] == usd.statement["file_sha256"]

    with pytest.raises(StatementError, match="holds 2 statements"):
        parse_statement(CAMT / "camt053_multicurrency.xml")


def test_statement_without_namespace() -> None:
    st = parse_statement(CAMT / "camt053_no_namespace.xml")
    assert st.statement["account_id"] == "GB29NWBK60161331926819"
    assert st.statement["currency"] == "GBP"
    assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
        D("100.00"),
        D("350.00"),
    )
    (line,) = st.lines
    assert line["amount"] == D("250.00")
    assert line["counterparty_name"] == "JANE CLIENT"
    assert line["remittance_info"] == "Consulting fee"
    assert line["booking_date"] == dt.date(2026, 4, 12)


def test_two_identical_payments_on_one_day_are_both_kept_and_flagged() -> None:
    st = parse_statement(CAMT / "camt053_duplicate_same_day.xml")
    sid = st.statement["statement_id"]
    assert st.statement["opening_balance"] is None and st.statement["closing_balance"] is None
    assert [ln["line_id"] for ln in st.lines] == [f"{sid}:1", f"{sid}:2"]
    for line in st.lines:
        assert line["amount"] == D("-4.50")
        assert line["booking_date"] == dt.date(2026, 4, 7)
        assert line["counterparty_name"] == "CITY COFFEE"
        assert line["remittance_info"] == "CARD PAYMENT CITY COFFEE"
    no_balances, identical = st.warnings
    assert "no opening and closing balances" in no_balances
    assert "2 identical entries on 2026-04-07" in identical
    assert f"{sid}:1 (file line 16)" in identical and f"{sid}:2 (file line 39)" in identical


def test_garbled_amount_is_rejected_naming_file_and_line() -> None:
    path = CAMT / "camt053_garbled_amount.xml"
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.path == str(path)
    assert err.value.line == 17  # <Amt Ccy="EUR">12..34</Amt>
    assert str(err.value) == (
        f"{path}:17: statement GOLDEN-GARBLED, entry 1: amount '12..34' is not a number"
    )


def test_ids_are_stable_on_reparse_and_tables_follow_the_contracts() -> None:
    files = sorted(CAMT.glob("camt053_[mn]*.xml"))
    first = [st for f in files for st in parse_statements(f)]
    again = [st for f in files for st in parse_statements(f)]
    assert [s.statement for s in first] == [s.statement for s in again]
    assert [s.lines for s in first] == [s.lines for s in again]
    statements, lines = statements_table(first), lines_table(first)
    assert statements.schema == BANK_STATEMENTS and statements.num_rows == 3
    assert lines.schema == BANK_LINES and lines.num_rows == 4
    assert lines.column("amount").to_pylist() == [
        D("1250.50"),
        D("-500.25"),
        D("-99.99"),
        D("250.00"),
    ]


def test_to_json_gives_iso_dates_and_decimal_strings() -> None:
    st = parse_statement(CAMT / "camt053_no_namespace.xml")
    data = json.loads(st.to_json())
    assert data["statement"]["opening_balance"] == "100.00"
    assert data["statement"]["from_date"] == "2026-04-12"
    assert data["lines"][0]["amount"] == "250.00"
    assert data["lines"][0]["booking_date"] == "2026-04-12"
    assert data["warnings"] == []


# --- statements written here, for what the real files do not show --------------------------

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def balance(code: str, amount: str, indicator: str = "CRDT", ccy: str = "EUR") -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>"
        f'<Amt Ccy="{ccy}">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>'
        f"<Dt><Dt>2026-01-09</Dt></Dt></Bal>"
    )


def entry(amount: str, indicator: str, details: str = "", extra: str = "") -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{indicator}</CdtDbtInd>{extra}'
        "<BookgDt><Dt>2026-01-09</Dt></BookgDt><ValDt><Dt>2026-01-10</Dt></ValDt>"
        f"<NtryDtls><TxDtls>{details}</TxDtls></NtryDtls></Ntry>"
    )


def camt(tmp_path: Path, body: str, name: str = "stmt.xml", ns: str = NS) -> Path:
    path = tmp_path / name
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{ns}">\n<BkToCstmrStmt>\n<Stmt>\n<Id>S-1</Id>\n'
        "<Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>\n"
        f"{body}\n</Stmt>\n</BkToCstmrStmt>\n</Document>\n",
        encoding="utf-8",
    )
    return path


def test_structured_reference_creditor_account_and_fallback_balances(tmp_path: Path) -> None:
    payment = entry(
        "1469.13",
        "DBIT",
        "<Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
        "<RltdPties><Cdtr><Nm>Nordwind Logistik GmbH</Nm></Cdtr>"
        "<CdtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></CdtrAcct>"
        "<Dbtr><Nm>Closeflow Demo GmbH</Nm></Dbtr></RltdPties>"
        "<RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>",
    )
    pending = entry("99.00", "DBIT", extra="<Sts>PDNG</Sts>")
    path = camt(
        tmp_path,
        balance("PRCD", "1000.00", "DBIT") + balance("CLAV", "2469.13", "DBIT") + payment + pending,
    )
    st = parse_statement(path)
    assert st.statement["opening_balance"] == D("-1000.00")  # overdrawn
    assert st.statement["closing_balance"] == D("-2469.13")
    (line,) = st.lines  # the pending entry has not moved money
    assert line["amount"] == D("-1469.13")
    assert line["counterparty_name"] == "Nordwind Logistik GmbH"
    assert line["counterparty_account"] == "DE89370400440532013000"
    assert line["remittance_info"] == "RF18539007547034"
    assert line["end_to_end_id"] is None
    assert line["value_date"] == dt.date(2026, 1, 10)
    assert any("status PDNG" in w for w in st.warnings)


def test_lines_that_do_not_add_up_are_rejected_at_the_closing_balance(tmp_path: Path) -> None:
    path = camt(
        tmp_path,
        balance("OPBD", "100.00") + "\n" + balance("CLBD", "50.00") + "\n" + entry("40.00", "DBIT"),
    )
    with pytest.raises(StatementError) as err:
        parse_statement(path)
    assert err.value.line == 8  # the CLBD balance
    assert "lines do not add up to the closing balance" in str(err.value)
    assert "opening balance 100.00 + 1 line -40.00 = 60.00 EUR" in str(err.value)
    assert "closing balance is 50.00 EUR (difference -10.00)" in str(err.value)


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('\n<Ntry><Amt Ccy="EUR">5.00</Amt><BookgDt><Dt>2026-01-09</Dt></BookgDt></Ntry>',
         8, "does not say whether it is a credit or a debit"),
        ('\n<Ntry><Amt Ccy="EUR">5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></Ntry>',
         8, "no booking date (BookgDt)"),
        ('\n<Ntry>\n<Amt>5.00</Amt><CdtDbtInd>DBIT</CdtDbtInd></Ntry>', 9, "no valid currency"),
        ("\n" + entry("5.001", "DBIT"), 8, "more than 2 decimal places"),
        ("\n" + entry("5.00", "DBIT").replace("2026-01-09", "2026-02-30"), 8,
         "booking date '2026-02-30' is not a date"),
        ("\n<Ntry>\n<Amt Ccy='EUR'>5.00</Amt>\n</Stmt>", 10, "not well-formed XML"),
    ],
)  # fmt: skip
def test_broken_entries_are_rejected_with_their_line(
    tmp_path: Path, body: str, line: int, words: str
) -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(camt(tmp_path, body))
    assert err.value.line == line
    assert words in str(err.value)


def test_missing_account_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "noacct.xml"
    path.write_text(
        f'<Document xmlns="{NS}"><BkToCstmrStmt><Stmt><Id>X</Id>'
        f"{entry('1.00', 'CRDT')}</Stmt></BkToCstmrStmt></Document>"
    )
    with pytest.raises(StatementError, match=r"no account number \(Acct/Id\)"):
        parse_statements(path)


def test_entities_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xml"
    path.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">]>\n'
        f'<Document xmlns="{NS}"><BkToCstmrStmt>&lol;</BkToCstmrStmt></Document>'
    )
    with pytest.raises(StatementError, match="refused as unsafe") as err:
        parse_statements(path)
    assert err.value.line == 2


def test_other_iso20022_messages_are_named_not_misread(tmp_path: Path) -> None:
    path = camt(tmp_path, "", ns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.01")
    path.write_text(path.read_text().replace("camt.053", "camt.056"))
    with pytest.raises(StatementError, match="a camt.056.001.01 document, not a camt.052"):
        parse_statements(path)


def test_structured_reference_is_added_unless_the_free_text_quotes_it(tmp_path: Path) -> None:
    def strd(ustrd: str) -> str:
        return (
            f"<RmtInf><Ustrd>{ustrd}</Ustrd><Strd><CdtrRefInf><Ref>RF18539007547034</Ref>"
            "</CdtrRefInf></Strd></RmtInf>"
        )

    path = camt(
        tmp_path,
        entry("1.00", "DBIT", strd("Rechnung 4711"))
        + entry("2.00", "DBIT", strd("RF18 5390 0754 7034")),
    )
    st = parse_statement(path)
    assert [ln["remittance_info"] for ln in st.lines] == [
        "Rechnung 4711 RF18539007547034",
        "RF18 5390 0754 7034",
    ]
