"""Bank CSV exports: the real German, French and Spanish files, and the locale decisions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import StatementError, parse_statement, parse_statements
from closeflow.bank.statement import statement_id
from tests.conftest import SHARED

CSV = SHARED / "bank" / "csv"
D = Decimal


def amounts(st) -> list[Decimal]:
    return [ln["amount"] for ln in st.lines]


def test_german_export_with_decimal_commas_and_account_column() -> None:
    st = parse_statement(CSV / "csv_european_decimals.csv")
    assert st.statement["account_id"] == "DE89370400440532013000"  # IBAN column
    assert st.statement["currency"] == "EUR"  # CCY column
    assert st.statement["source_format"] == "csv"
    assert (st.statement["from_date"], st.statement["to_date"]) == (
        dt.date(2026, 4, 2),
        dt.date(2026, 4, 9),
    )
    assert st.statement["opening_balance"] is None and st.statement["closing_balance"] is None
    assert amounts(st) == [D("-1234.56"), D("3500.00"), D("-4.50")]
    assert [ln["remittance_info"] for ln in st.lines] == ["Miete April", "Gehalt", "Kaffee"]
    assert [ln["bank_reference"] for ln in st.lines] == ["EU-001", "EU-002", "EU-003"]
    assert st.lines[0]["booking_date"] == dt.date(2026, 4, 2)
    assert st.lines[0]["value_date"] is None  # the file has no value date
    sid = statement_id(None, "DE89370400440532013000", "EUR", st.statement["file_sha256"])
    assert st.statement["statement_id"] == sid
    assert st.lines[2]["line_id"] == f"{sid}:3"
    assert st.warnings == [
        "statement for account DE89370400440532013000 (EUR) has no opening and closing "
        "balances: closeflow cannot check that no line is missing"
    ]


def test_french_export_with_debit_and_credit_columns() -> None:
    st = parse_statement(CSV / "csv_french_headers.csv")
    assert st.statement["account_id"] == "csv_french_headers"  # no account column: file stem
    assert amounts(st) == [D("-1234.56"), D("3500.00"), D("-4.50")]
    assert [ln["remittance_info"] for ln in st.lines] == ["Loyer Avril", "Salaire", "Café"]
    assert [ln["bank_reference"] for ln in st.lines] == ["FR-001", "FR-002", "FR-003"]
    assert [ln["booking_date"] for ln in st.lines] == [
        dt.date(2026, 4, 2),
        dt.date(2026, 4, 5),
        dt.date(2026, 4, 9),
    ]
    named = parse_statement(
        CSV / "csv_french_headers.csv", account_id="FR7630006000011234567890189"
    )
    assert named.statement["account_id"] == "FR7630006000011234567890189"
    assert named.statement["statement_id"] != st.statement["statement_id"]


def test_spanish_export_with_account_column() -> None:
    st = parse_statement(CSV / "csv_spanish_headers.csv")
    assert st.statement["account_id"] == "ES9121000418450200051332"  # Cuenta
    assert st.statement["currency"] == "EUR"  # Moneda
    assert amounts(st) == [D("-1234.56"), D("3500.00"), D("-4.50")]
    assert [ln["remittance_info"] for ln in st.lines] == ["Alquiler Abril", "Nómina", "Café"]
    assert [ln["bank_reference"] for ln in st.lines] == ["ES-001", "ES-002", "ES-003"]


def test_garbled_amount_is_rejected_naming_file_and_line() -> None:
    path = CSV / "csv_garbled_amount.csv"
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.line == 3
    assert str(err.value) == f"{path}:3: amount '12..34' is not a number"


# --- exports written here, for what the real files do not show ------------------------------


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_sample_company_cny_export(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "CN_2026-01-09.csv",
        "booking_date,value_date,amount,currency,counterparty_name,counterparty_account,"
        "remittance_info,bank_reference\n"
        "2026-01-09,2026-01-09,-1130.00,CNY,上海某某科技有限公司,6222020200112233445,"
        "发票号码 01234567,CN-0001\n"
        '2026-01-09,2026-01-10,"-2,260.00",CNY,上海某某贸易有限公司,,01234568,CN-0002\n',
    )
    st = parse_statement(path, account_id="CN-ACCT-1")
    assert st.statement["account_id"] == "CN-ACCT-1"
    assert st.statement["currency"] == "CNY"
    assert amounts(st) == [D("-1130.00"), D("-2260.00")]
    first, second = st.lines
    assert first["counterparty_name"] == "上海某某科技有限公司"
    assert first["counterparty_account"] == "6222020200112233445"
    assert first["remittance_info"] == "发票号码 01234567"
    assert second["value_date"] == dt.date(2026, 1, 10)
    assert second["counterparty_account"] is None


def test_german_bank_with_preamble_indicator_column_and_running_balance(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "umsaetze.csv",
        '"Kontonummer:";"DE02 1203 0000 0000 2020 51"\n'
        "\n"
        "Buchungsdatum;Wertstellung;Auftraggeber / Begünstigter;Verwendungszweck;"
        "Betrag (EUR);Soll/Haben;Saldo\n"
        "09.01.2026;10.01.2026;Nordwind Logistik GmbH;RF18 5390 0754 7034;1.469,13;S;8.530,87\n"
        "12.01.2026;12.01.2026;Kunde AG;Rechnung 2026-117;250,00;H;8.780,87\n",
        encoding="cp1252",
    )
    st = parse_statement(path)
    assert st.statement["currency"] == "EUR"  # from "Betrag (EUR)"
    assert st.statement["account_id"] == "umsaetze"
    assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
        D("10000.00"),
        D("8780.87"),
    )
    assert amounts(st) == [D("-1469.13"), D("250.00")]
    assert st.lines[0]["counterparty_name"] == "Nordwind Logistik GmbH"
    assert st.lines[0]["booking_date"] == dt.date(2026, 1, 9)
    assert st.lines[0]["value_date"] == dt.date(2026, 1, 10)
    assert st.warnings == []


def test_running_balance_newest_first_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "acct.csv",
        "Date,Description,Amount,Balance,Currency\n"
        "2026-01-12,Receipt,250.00,1250.00,USD\n"
        "2026-01-09,Payment,-50.00,1000.00,USD\n",
    )
    st = parse_statement(path)
    assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
        D("1050.00"),
        D("1250.00"),
    )


def test_running_balance_that_breaks_is_rejected_at_the_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "acct.csv",
        "Date,Description,Amount,Balance,Currency\n"
        "2026-01-09,Payment,-50.00,950.00,USD\n"
        "2026-01-10,Payment,-25.00,900.00,USD\n"
        "2026-01-11,Payment,-10.00,890.00,USD\n",
    )
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.line == 3
    assert "running balance 900.00 does not follow" in str(err.value)
    assert "950.00 + -25.00 = 925.00" in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("Date;Amount\n2026-01-09;12,50\n", 1, "no currency"),
        ("Date;Debit;Credit;Currency\n2026-01-09;1,00;2,00;EUR\n", 2,
         "both a debit (1.00) and a credit (2.00)"),
        ("Date;Debit;Credit;Currency\n2026-01-09;;;EUR\n", 2, "the row has no amount"),
        ("Date,Amount,Currency\n2026-01-09,1,234.50,EUR\n", 2,
         "the row has 4 fields but the header has 3"),
        ("Date,Amount,Currency\n2026-01-09,1.234,EUR\n", 2, "more than 2 decimal places"),
        ("Date,Amount,Currency\n2026-01-09,1.00,EUR\n2026-13-09,1.00,EUR\n", 3,
         "booking date '2026-13-09' is not a date"),
        ("Date,Amount,Currency\n2026-01-09,1.00,EURO\n", 2, "'EURO' is not a currency code"),
        ("Date,Amount,Currency\n", 1, "a header but no bank lines"),
    ],
)  # fmt: skip
def test_broken_exports_are_rejected_with_their_line(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "bank.csv", text))
    assert err.value.line == line
    assert words in str(err.value)


def test_currency_may_be_given_when_the_file_has_none(tmp_path: Path) -> None:
    st = parse_statement(
        write(tmp_path, "b.csv", "Date;Amount\n2026-01-09;12,50\n"), currency="EUR"
    )
    assert st.statement["currency"] == "EUR" and amounts(st) == [D("12.50")]


def test_day_month_dates_and_ambiguous_thousands(tmp_path: Path) -> None:
    st = parse_statement(
        write(
            tmp_path,
            "b.csv",
            "Fecha;Concepto;Importe;Moneda\n03/02/2026;A;1.234;EUR\n28/02/2026;B;(5);EUR\n",
        )
    )
    # 03/02 is read as 3 February because 28/02 can only be day/month; `;` files use
    # decimal commas, so 1.234 is one thousand two hundred thirty-four
    assert [ln["booking_date"] for ln in st.lines] == [dt.date(2026, 2, 3), dt.date(2026, 2, 28)]
    assert amounts(st) == [D("1234.00"), D("-5.00")]


def test_rows_of_two_accounts_become_two_statements(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "multi.csv",
        "Account,Date,Amount,Currency\n"
        "A-1,2026-01-09,10.00,EUR\nB-2,2026-01-09,20.00,USD\nA-1,2026-01-10,-5.00,EUR\n",
    )
    a, b = parse_statements(path)
    assert (a.statement["account_id"], a.statement["currency"], amounts(a)) == (
        "A-1",
        "EUR",
        [D("10.00"), D("-5.00")],
    )
    assert (b.statement["account_id"], amounts(b)) == ("B-2", [D("20.00")])
    assert a.lines[1]["line_id"] == f"{a.statement['statement_id']}:2"
