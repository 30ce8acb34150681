"""CSV exports the issue names, written here: US month-first dates, a D/C marker column,
Chinese headers in GBK, preambles, 0- and 3-decimal currencies, payment text and partner
columns, bank mapping files (shipped, the user's own, named with --mapping), and the
line identity two overlapping downloads share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import StatementError, parse_statement, parse_statements
from closeflow.bank.mappings import BUILTIN, available, load
from closeflow.cli import main
from closeflow.config import ConfigError

D = Decimal


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(st) -> list[tuple]:
    return [(ln["booking_date"], ln["amount"]) for ln in st.lines]


# --- date order -------------------------------------------------------------------------


def test_us_month_first_dates_decided_by_a_day_above_12(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "us.csv",
        "Date,Description,Amount,Currency\n"
        "01/05/2026,Coffee,-4.50,USD\n"
        "01/09/2026,Rent,-1200.00,USD\n"
        "01/13/2026,Salary,3000.00,USD\n",  # 13 can only be the day: month first
    )
    st = parse_statement(path)
    assert [d for d, _ in rows(st)] == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 9),
        dt.date(2026, 1, 13),
    ]


def test_day_first_dates_decided_by_a_day_above_12_in_the_value_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "eu.csv",
        "Booking date,Value date,Amount,Currency\n"
        "05/01/2026,05/01/2026,-4.50,EUR\n"
        "09/01/2026,25/01/2026,-1200.00,EUR\n",
    )
    assert [d for d, _ in rows(parse_statement(path))] == [dt.date(2026, 1, 5), dt.date(2026, 1, 9)]


def test_order_decided_by_booking_dates_that_run_in_order(tmp_path: Path) -> None:
    # month first: 2 Jan, 3 Jan, 1 Feb, 4 Feb run in order; day first they jump about
    path = write(
        tmp_path,
        "us.csv",
        "Date,Amount,Currency\n"
        "01/02/2026,1.00,USD\n01/03/2026,2.00,USD\n02/01/2026,3.00,USD\n02/04/2026,4.00,USD\n",
    )
    assert [d for d, _ in rows(parse_statement(path))] == [
        dt.date(2026, 1, 2),
        dt.date(2026, 1, 3),
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 4),
    ]


def test_order_decided_by_the_statement_period_in_the_preamble(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "p.csv",
        "Statement period: 01/03/2026 - 31/03/2026\n\n"
        "Date,Amount,Currency\n04/03/2026,1.00,EUR\n02/03/2026,2.00,EUR\n",
    )
    assert [d for d, _ in rows(parse_statement(path))] == [dt.date(2026, 3, 4), dt.date(2026, 3, 2)]


def test_undecidable_date_order_is_refused_with_the_reason(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "x.csv",
        "Date,Amount,Currency\n03/04/2026,1.00,USD\n03/04/2026,2.00,USD\n",
    )
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.line == 2
    message = str(err.value)
    assert "the dates (Date) can be read day first or month first" in message
    assert "'03/04/2026': 03 April 2026 or 04 March 2026" in message
    assert "date_order: DMY or MDY" in message


def test_a_mapping_can_settle_the_date_order(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "us.yml",
        "name: us-bank\ncolumns:\n  booking_date: Date\n  amount: Amount\n"
        "date_order: MDY\ncurrency: USD\n",
    )
    path = write(tmp_path, "x.csv", "Date,Amount\n03/04/2026,1.00\n")
    st = parse_statement(path, mapping=mapping)
    assert rows(st) == [(dt.date(2026, 3, 4), D("1.00"))]


# --- amounts: marker columns, decimals ---------------------------------------------------


def test_dc_marker_column_gives_the_direction(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dc.csv",
        "Date,Payee,Payment text,Amount,D/C,Currency\n"
        "2026-01-09,Nordwind GmbH,Invoice 17,250.00,D,EUR\n"
        "2026-01-10,Kunde AG,RE 2026-117,99.00,C,EUR\n",
    )
    st = parse_statement(path)
    assert [ln["amount"] for ln in st.lines] == [D("-250.00"), D("99.00")]
    assert [ln["counterparty_name"] for ln in st.lines] == ["Nordwind GmbH", "Kunde AG"]
    assert [ln["remittance_info"] for ln in st.lines] == ["Invoice 17", "RE 2026-117"]


def test_unknown_marker_and_missing_marker_are_refused(tmp_path: Path) -> None:
    bad = write(tmp_path, "a.csv", "Date,Amount,D/C,Currency\n2026-01-09,5.00,X,EUR\n")
    with pytest.raises(StatementError, match="indicator 'X' is neither debit nor credit"):
        parse_statements(bad)
    none = write(tmp_path, "b.csv", "Date,Amount,D/C,Currency\n2026-01-09,5.00,,EUR\n")
    with pytest.raises(StatementError, match="no debit/credit marker"):
        parse_statements(none)


def test_partner_name_and_two_text_columns_are_kept(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "de.csv",
        "Buchungstag;Buchungstext;Verwendungszweck;Name Zahlungsbeteiligter;"
        "IBAN Zahlungsbeteiligter;Betrag;Waehrung\n"
        "09.01.2026;Lastschrift;Miete Januar;Hausverwaltung Meier;DE11222;-850,00;EUR\n",
    )
    (line,) = parse_statement(path).lines
    assert line["remittance_info"] == "Lastschrift Miete Januar"
    assert line["counterparty_name"] == "Hausverwaltung Meier"
    assert line["counterparty_account"] == "DE11222"


def test_yen_has_no_decimals_and_its_separators_group_digits(tmp_path: Path) -> None:
    path = write(
        tmp_path, "jp.csv", 'Date,Amount,Currency\n2026-01-09,"-1,000",JPY\n2026-01-10,250,JPY\n'
    )
    assert [ln["amount"] for ln in parse_statement(path).lines] == [D("-1000.00"), D("250.00")]


def test_three_decimal_currency_read_when_whole_cents_refused_otherwise(tmp_path: Path) -> None:
    ok = write(tmp_path, "kw.csv", "Date,Amount,Currency\n2026-01-09,-12.250,KWD\n")
    assert [ln["amount"] for ln in parse_statement(ok).lines] == [D("-12.25")]
    bad = write(tmp_path, "kw2.csv", "Date,Amount,Currency\n2026-01-09,-12.255,KWD\n")
    with pytest.raises(StatementError) as err:
        parse_statements(bad)
    assert err.value.line == 2
    assert "-12.255 KWD is not a whole number of cents" in str(err.value)


# --- Chinese exports ---------------------------------------------------------------------


def test_chinese_headers_with_income_and_expense_columns_in_gbk(tmp_path: Path) -> None:
    text = (
        "账号：6222 0000 1111 2222\n"
        "起止日期：2026-01-01 至 2026-01-31\n"
        "\n"
        "交易日期,摘要,收入,支出,余额,对方户名,对方账号,币种\n"
        "2026-01-05,工资,8500.00,,18500.00,上海某某有限公司,31001234,人民币\n"
        "2026-01-07,转账,,200.00,18300.00,张三,6222111,人民币\n"
    )
    st = parse_statement(write(tmp_path, "bank.csv", text, "gbk"))
    assert st.statement["currency"] == "CNY"
    assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
        D("10000.00"),
        D("18300.00"),
    )
    assert rows(st) == [(dt.date(2026, 1, 5), D("8500.00")), (dt.date(2026, 1, 7), D("-200.00"))]
    assert [ln["counterparty_name"] for ln in st.lines] == ["上海某某有限公司", "张三"]
    assert [ln["remittance_info"] for ln in st.lines] == ["工资", "转账"]
    assert st.lines[0]["counterparty_account"] == "31001234"


def test_chinese_debit_credit_flag_column_in_gbk(tmp_path: Path) -> None:
    text = (
        "交易日期,交易金额,借贷标志,对方户名,摘要\n"
        "20260105,8500.00,贷,上海某某有限公司,货款\n"
        "20260107,200.00,借,张三,报销\n"
    )
    st = parse_statement(write(tmp_path, "b.csv", text, "gbk"), currency="CNY")
    assert rows(st) == [(dt.date(2026, 1, 5), D("8500.00")), (dt.date(2026, 1, 7), D("-200.00"))]
    assert [ln["remittance_info"] for ln in st.lines] == ["货款", "报销"]


# --- mapping files -------------------------------------------------------------------------


def test_shipped_mappings_are_valid() -> None:
    names = {m.name for m in available([BUILTIN])}
    assert {"alipay", "wechat", "cmb", "icbc", "boc", "bocom", "abc", "ccb"} <= names


BANK_X = (
    "Kontoauszug Bank X\nKonto 4711\n\n"
    "Valuta|Soll/Haben|Betrag|Gegenseite|Text\n"
    "09.01.2026|S|12,50|Cafe Rot|Kaffee\n"
    "10.01.2026|H|100,00|Kunde|Zahlung\n"
)
MAPPING_X = (
    "name: bank-x\n"
    "match:\n  header: [Valuta, Soll/Haben, Gegenseite]\n  text: [Bank X]\n"
    "columns:\n"
    "  booking_date: Valuta\n  amount: 3\n  sign: Soll/Haben\n"
    "  counterparty_name: Gegenseite\n  remittance_info: Text\n"
    "currency: EUR\n"
)


def test_a_users_mapping_in_the_company_folder_is_used_without_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "home" / "company" / "bank_mappings"
    folder.mkdir(parents=True)
    (folder / "bank_x.yml").write_text(MAPPING_X)
    monkeypatch.setenv("CLOSEFLOW_HOME", str(tmp_path / "home"))
    st = parse_statement(write(tmp_path, "x.csv", BANK_X))
    assert rows(st) == [(dt.date(2026, 1, 9), D("-12.50")), (dt.date(2026, 1, 10), D("100.00"))]
    assert [ln["counterparty_name"] for ln in st.lines] == ["Cafe Rot", "Kunde"]


def test_a_mapping_named_for_the_file(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yml", MAPPING_X)
    st = parse_statement(write(tmp_path, "x.csv", BANK_X), mapping=mapping, account_id="X-1")
    assert st.statement["account_id"] == "X-1"
    assert [ln["remittance_info"] for ln in st.lines] == ["Kaffee", "Zahlung"]


def test_a_column_the_mapping_names_but_the_file_lacks_is_named(tmp_path: Path) -> None:
    mapping = write(tmp_path, "m.yml", MAPPING_X.replace("Text\n", "Verwendungszweck\n"))
    with pytest.raises(StatementError) as err:
        parse_statements(write(tmp_path, "x.csv", BANK_X), mapping=mapping)
    assert err.value.line == 4
    assert "column 'Verwendungszweck' (remittance_info) is not in the header row" in str(err.value)
    assert "the header has: Valuta, Soll/Haben, Betrag, Gegenseite, Text" in str(err.value)


def test_a_mapping_without_header_reads_columns_by_position(tmp_path: Path) -> None:
    mapping = write(
        tmp_path,
        "m.yml",
        "name: raw\nheader: false\ncolumns:\n  booking_date: 1\n  amount: 2\n"
        "  remittance_info: [3, 4]\ncurrency: EUR\n",
    )
    path = write(tmp_path, "x.csv", "2026-01-09;-1,50;Kaffee;Bar\n2026-01-10;2,00;Rest;\n")
    st = parse_statement(path, mapping=mapping)
    assert rows(st) == [(dt.date(2026, 1, 9), D("-1.50")), (dt.date(2026, 1, 10), D("2.00"))]
    assert st.lines[0]["remittance_info"] == "Kaffee Bar"


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("name: x\ncolumns:\n  booking_date: Date\n", 2, "name the amount column"),
        (
            "name: x\ncolums:\n  booking_date: Date\n",
            2,
            "unknown field 'colums' (fix: did you mean 'columns'?)",
        ),
        (
            "name: x\ncolumns:\n  booking_date: Date\n  amount: 0\n",
            4,
            "a column position counts from 1",
        ),
        (
            "name: x\ncolumns:\n  booking_date: Date\n  amount: Amount\ncurrency: euro\n",
            5,
            "'euro' is not an ISO currency code",
        ),
    ],
)
def test_a_broken_mapping_names_file_line_and_fix(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = write(tmp_path, "m.yml", text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.line == line
    assert words in str(err.value)
    assert str(path) in str(err.value)
    with pytest.raises(StatementError, match="a bank mapping cannot be used"):
        parse_statements(write(tmp_path, "x.csv", "Date,Amount\n2026-01-09,1.00\n"), mapping=path)


# --- line identity -------------------------------------------------------------------------


def test_overlapping_downloads_share_the_identity_of_their_common_lines(tmp_path: Path) -> None:
    head = "Date,Counterparty,Description,Amount,Currency\n"
    jan_1_to_3 = (
        "2026-01-01,Cafe,Coffee,-4.50,EUR\n"
        "2026-01-02,Cafe,Coffee,-4.50,EUR\n"
        "2026-01-02,Cafe,Coffee,-4.50,EUR\n"  # two identical coffees on one day
        "2026-01-03,Kunde,RE-1,100.00,EUR\n"
    )
    jan_2_to_4 = (
        "2026-01-02,Cafe,Coffee,-4.50,EUR\n"
        "2026-01-02,Cafe,Coffee,-4.50,EUR\n"
        "2026-01-03,Kunde,RE-1,100.00,EUR\n"
        "2026-01-04,Cafe,Coffee,-4.50,EUR\n"
    )
    a = parse_statement(write(tmp_path, "a.csv", head + jan_1_to_3), account_id="ACC")
    b = parse_statement(write(tmp_path, "b.csv", head + jan_2_to_4), account_id="ACC")
    ka = [ln["line_key"] for ln in a.lines]
    kb = [ln["line_key"] for ln in b.lines]
    assert len(set(ka)) == 4 and len(set(kb)) == 4
    assert ka[1:] == kb[:3]  # the two coffees of the 2nd and the receipt: the same lines
    assert kb[3] not in ka
    assert a.statement["statement_id"] != b.statement["statement_id"]
    other = parse_statement(write(tmp_path, "c.csv", head + jan_1_to_3), account_id="OTHER")
    assert not set(ka) & {ln["line_key"] for ln in other.lines}


def test_the_banks_reference_is_the_identity_when_there_is_one(tmp_path: Path) -> None:
    a = write(
        tmp_path,
        "a.csv",
        "Date,Description,Amount,Reference,Currency\n2026-01-02,Coffee,-4.50,R-9,EUR\n",
    )
    b = write(
        tmp_path,
        "b.csv",
        "Date,Description,Amount,Reference,Currency\n2026-01-02,COFFEE BAR 12,-4.50,R-9,EUR\n",
    )
    ka = parse_statement(a, account_id="ACC").lines[0]["line_key"]
    assert ka == parse_statement(b, account_id="ACC").lines[0]["line_key"]


# --- the command line -----------------------------------------------------------------------


def test_cli_bank_parse_with_account_currency_and_mapping(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    import json

    path = write(tmp_path, "b.csv", "Date;Amount\n09.01.2026;-12,50\n")
    assert (
        main(["bank", "parse", str(path), "--account", "DE1", "--currency", "eur", "--json"]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert (out["statement"]["account_id"], out["statement"]["currency"]) == ("DE1", "EUR")
    assert out["lines"][0]["line_key"]
    mapping = write(tmp_path, "m.yml", MAPPING_X)
    assert (
        main(["bank", "parse", str(write(tmp_path, "x.csv", BANK_X)), "--mapping", str(mapping)])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["lines"][0]["amount"] == "-12.50"
    undecided = write(tmp_path, "u.csv", "Date,Amount,Currency\n03/04/2026,1.00,USD\n")
    assert main(["bank", "parse", str(undecided)]) == 2
    assert "can be read day first or month first" in capsys.readouterr().err
