"""Every real statement file of tests/fixtures/shared_data/bank: read to exactly its expected
values, or refused with the reason it must be refused for.

The files come from other open-source parsers' test suites (see the folder's README.md);
their expected values come with them: `*.expected.yml` (mt-940's own parse, pickled objects
read here as plain data), `*.expect.json` (lines as [booking date, signed amount]), and for
the OFX and BAI2 files the values the files themselves state, written out below.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from closeflow.bank import StatementError, detect_format, parse_statements
from closeflow.bank import mt940 as mt940_reader
from closeflow.bank.statement import SourceFile
from tests.conftest import SHARED

BANK = SHARED / "bank"
D = Decimal


# --- mt-940's expected.yml: python objects, read as plain data (no code runs) ----------


class _PlainLoader(yaml.SafeLoader):
    pass


def _object(loader: yaml.Loader, suffix: str, node: yaml.Node):
    if isinstance(node, yaml.MappingNode):  # an object: its attributes (it may recur)
        data: dict = {}
        yield data
        data.update(loader.construct_mapping(node, deep=True))
        return
    args = loader.construct_sequence(node, deep=True)
    if suffix == "decimal.Decimal":
        yield Decimal(args[0])
    elif suffix in ("mt940.models.Date", "mt940.models.DateTime"):
        raw = args[0]  # a pickled date: year (2 bytes), month, day
        yield dt.date(raw[0] * 256 + raw[1], raw[2], raw[3])
    else:
        yield None  # compiled regexes of the library's tags: not data


_PlainLoader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _object)
_PlainLoader.add_multi_constructor("tag:yaml.org,2002:python/object:", _object)


def mt940_expected(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_PlainLoader)  # noqa: S506 - a safe loader


# --- which outcome each file must have -----------------------------------------------

MT940_REFUSED = {
    # the samples' balances do not follow from their lines (test data of the parser's
    # suite): refused at the closing balance, with the sum spelled out
    "abnamro.sta": (27, "opening balance 3,236.28 + 8 lines -321.44 = 2,914.84 EUR"),
    "ing.sta": (26, "opening balance 0.00 + 7 lines -45.59 = -45.59 EUR"),
    "rabobank.sta": (11, "opening balance 473.17 + 1 line -1,213.28 = -740.11 EUR"),
    "triodos.sta": (12, "opening balance 4,975.09 + 2 lines -715.70 = 4,259.39 EUR"),
}


def all_files() -> list[str]:
    skip = {"LICENSE", "README.md"}
    return sorted(
        str(p.relative_to(BANK))
        for p in BANK.rglob("*")
        if p.is_file()
        and p.name not in skip
        and not p.name.endswith((".expected.yml", ".expect.json", ".source-expected.json"))
    )


COVERED = {
    "camt/camt.053.001.02.xml": "test_bank_camt053.py",
    "camt/camt053_duplicate_same_day.xml": "test_bank_camt053.py",
    "camt/camt053_garbled_amount.xml": "test_bank_camt053.py",
    "camt/camt053_multicurrency.xml": "test_bank_camt053.py",
    "camt/camt053_no_namespace.xml": "test_bank_camt053.py",
    "csv/csv_european_decimals.csv": "test_bank_csv.py",
    "csv/csv_french_headers.csv": "test_bank_csv.py",
    "csv/csv_garbled_amount.csv": "test_bank_csv.py",
    "csv/csv_spanish_headers.csv": "test_bank_csv.py",
    **{f"mt940/{name}": "here" for name in MT940_REFUSED},
    "bai2/citi_example.bai2": "here",
    "bai2/svb_us_example.bai2": "here",
    "camt054/genkgo_camt054.v2.xml": "here",
    "csv_cn/deg_alipay_example-alipay-records.csv": "here",
    "csv_cn/deg_cmb_example-cmb-records.csv": "here",
    "csv_cn/deg_icbc_example-icbc-debit-v2-records.csv": "here",
    "ofx/anzcc.ofx": "here",
    "ofx/bank_medium.ofx": "here",
    "ofx/bank_small.ofx": "here",
    "ofx/checking.ofx": "here",
    "ofx/suncorp.ofx": "here",
    "ofx/malformed/date_missing.ofx": "here",
    "ofx/malformed/decimal_error.ofx": "here",
    "ofx/malformed/empty_balance.ofx": "here",
}


def test_every_real_bank_file_has_a_test() -> None:
    assert all_files() == sorted(COVERED)


@pytest.mark.parametrize("name", all_files())
def test_every_real_file_is_recognised_by_its_content(name: str) -> None:
    folder = name.split("/")[0]
    expected = {"camt": "camt", "camt054": "camt", "csv": "csv", "csv_cn": "csv"}.get(
        folder, folder
    )
    assert detect_format((BANK / name).read_bytes()) == expected


# --- MT940 -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MT940_REFUSED))
def test_mt940_lines_read_as_mt940s_own_parse(name: str) -> None:
    """The lines, dates, amounts and texts are read exactly as the mt-940 project's own
    expected parse; the statements are then refused because their balances do not add up."""
    path = BANK / "mt940" / name
    expected = mt940_expected(path.with_suffix(".expected.yml"))
    drafts = mt940_reader.read(SourceFile.read(path))
    entries = [e for d in drafts for e in d.entries]
    want = [t["data"] for t in expected["transactions"]]
    assert len(entries) == len(want)
    for e, t in zip(entries, want, strict=True):
        assert e.amount == t["amount"]["amount"]
        assert e.currency == t["amount"]["currency"]
        assert e.value_date == t["date"]
        assert e.booking_date == (t.get("guessed_entry_date") or t["date"])
        ref = t.get("bank_reference") or (t["customer_reference"] or "").strip()
        assert e.bank_reference == (None if ref in ("", "NONREF") else ref)
        text = " ".join((t.get("transaction_details") or "").split())
        mine = e.remittance_info or ""
        # ING's last line: the library appends the statement's own :86: (after :62F:)
        text = text.split(" D000004C000002D25,24C28,71")[0]
        if name == "triodos.sta":  # the '>20' sub-fields are read as the purpose
            assert mine and mine.split()[0] in text
        else:
            assert mine.startswith(text)
    # the library keeps one set of balances per file (the last statement's, by kind): each
    # is the balance of one of the statements read here
    data = expected["data"]
    openings = {(d.opening.amount, d.opening.date) for d in drafts}
    closings = {(d.closing.amount, d.closing.date) for d in drafts}
    for key, found in (
        ("final_opening_balance", openings),
        ("intermediate_opening_balance", openings),
        ("final_closing_balance", closings),
        ("intermediate_closing_balance", closings),
    ):
        if data.get(key):
            assert (data[key]["amount"]["amount"], data[key]["date"]) in found
    assert {d.account_id for d in drafts} >= {data["account_identification"]}

    line, words = MT940_REFUSED[name]
    with pytest.raises(StatementError) as err:
        parse_statements(path)
    assert err.value.line == line
    assert "lines do not add up to the closing balance" in str(err.value)
    assert words in str(err.value)


def test_rabobank_file_holds_four_statements_two_of_them_consistent() -> None:
    drafts = mt940_reader.read(SourceFile.read(BANK / "mt940" / "rabobank.sta"))
    src = SourceFile.read(BANK / "mt940" / "rabobank.sta")
    assert [d.account_id for d in drafts] == ["1291.99.348EUR"] * 3 + ["1526.89.184EUR"]
    balance_only = drafts[1].build(src)
    assert balance_only.lines == []
    assert (
        balance_only.statement["opening_balance"]
        == balance_only.statement["closing_balance"]
        == D("1000.89")
    )
    last = drafts[3].build(src)
    assert [ln["amount"] for ln in last.lines] == [D("-88.10"), D("-6.20")]
    assert last.lines[0]["bank_reference"] == "P000029225"
    assert last.statement["source_format"] == "mt940"


# --- BAI2 -------------------------------------------------------------------------------


def test_bai2_svb_two_days_read_exactly() -> None:
    first, second = parse_statements(BANK / "bai2" / "svb_us_example.bai2")
    for st, day, opening, closing, amount, ref in (
        (first, dt.date(2022, 2, 1), "347269.79", "352171.75", "4901.96", "172629"),
        (second, dt.date(2022, 2, 2), "352171.75", "361229.75", "9058.00", "150675"),
    ):
        assert st.statement["account_id"] == "1234567890"
        assert st.statement["currency"] == "USD"
        assert st.statement["source_format"] == "bai2"
        assert (st.statement["opening_balance"], st.statement["closing_balance"]) == (
            D(opening),
            D(closing),
        )
        assert (st.statement["from_date"], st.statement["to_date"]) == (day, day)
        (line,) = st.lines
        assert (line["booking_date"], line["amount"], line["bank_reference"]) == (
            day,
            D(amount),
            ref,
        )
        assert line["remittance_info"] == "SOME PAYMENT ACH OFFSET"
    assert first.statement["statement_id"] != second.statement["statement_id"]


def test_bai2_citi_example_is_refused_its_balances_do_not_add_up() -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(BANK / "bai2" / "citi_example.bai2")
    assert err.value.line == 3
    assert "opening balance 100.00 + 1 line 0.01 = 100.01 GBP" in str(err.value)
    assert "closing balance is 100.00 GBP" in str(err.value)


# --- camt.054 and the Chinese CSV exports: *.expect.json -------------------------------


def expect(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".expect.json").read_text())


def as_expected(parsed) -> list[dict]:
    return [
        {
            "currency": p.statement["currency"],
            "opening": _s(p.statement["opening_balance"]),
            "closing": _s(p.statement["closing_balance"]),
            "lines": [[ln["booking_date"].isoformat(), _s(ln["amount"])] for ln in p.lines],
        }
        for p in parsed
    ]


def _s(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:.2f}"


@pytest.mark.parametrize(
    "name",
    [
        "camt054/genkgo_camt054.v2.xml",
        "csv_cn/deg_alipay_example-alipay-records.csv",
        "csv_cn/deg_cmb_example-cmb-records.csv",
        "csv_cn/deg_icbc_example-icbc-debit-v2-records.csv",
    ],
)
def test_expect_json_files(name: str) -> None:
    path = BANK / name
    want = expect(path)
    assert want["expect"] == "parse"
    try:
        parsed = parse_statements(path)
    except StatementError as exc:
        allowed = want.get("ok_if_rejected_matching")
        assert allowed, f"refused, but must parse: {exc}"
        import re

        assert re.search(allowed, str(exc)), str(exc)
        return
    if "statements" not in want:  # values unchecked (Alipay): read, with its warnings
        assert parsed and all(p.lines for p in parsed)
        return
    got = as_expected(parsed)
    assert got == [
        {k: st[k] for k in ("currency", "opening", "closing", "lines")} for st in want["statements"]
    ]
    for st, p in zip(want["statements"], parsed, strict=True):
        if st.get("account"):
            assert p.statement["account_id"] == st["account"]
    texts = " ".join(ln["remittance_info"] or "" for p in parsed for ln in p.lines)
    for t in want.get("texts", []):
        assert t in texts


def test_cmb_export_is_refused_for_its_running_balance_naming_the_row() -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(BANK / "csv_cn" / "deg_cmb_example-cmb-records.csv")
    assert err.value.line == 4
    assert "the running balance 81.22 does not follow from the one before" in str(err.value)


def test_camt054_notification_with_three_transaction_details_without_amounts() -> None:
    (st,) = parse_statements(BANK / "camt054" / "genkgo_camt054.v2.xml")
    assert st.statement["source_format"] == "camt.054"
    (line,) = st.lines  # the details give no amounts: the entry stays one line
    assert line["bank_reference"] == "AAAASESS-FP-ACCR001"
    assert line["end_to_end_id"] == "MUELL/FINP/RA12345"
    assert line["remittance_info"].startswith("Unstructured Remittance Information V1")
    assert line["booking_date"] == dt.date(2007, 10, 18)  # DtTm 13:15+01:00, as written


def test_alipay_export_read_through_its_mapping() -> None:
    (st,) = parse_statements(BANK / "csv_cn" / "deg_alipay_example-alipay-records.csv")
    assert st.statement["currency"] == "CNY"
    assert [(ln["booking_date"].isoformat(), str(ln["amount"])) for ln in st.lines] == [
        ("2023-02-12", "-49.74"),
        ("2023-02-08", "-20.00"),
        ("2023-01-18", "222228.50"),
        ("2023-07-10", "-9.90"),
        ("2023-07-10", "-82.00"),
    ]
    assert st.lines[2]["counterparty_account"] == "xxx***@163.com"
    assert st.lines[0]["bank_reference"] == "202302xxxxxx0011000103xxxxxx"
    assert st.warnings[:5] == [
        "file line 28 was left out: it is marked 不计收支, which moves no money",
        "file line 29 was left out: it is marked 不计收支, which moves no money",
        "file line 31 was left out: 交易状态 is 交易关闭",
        "file line 32 was left out: it is marked 不计收支, which moves no money",
        "file line 33 was left out: 交易状态 is 交易关闭",
    ]


def test_icbc_export_with_masked_balance_and_total_row() -> None:
    (st,) = parse_statements(BANK / "csv_cn" / "deg_icbc_example-icbc-debit-v2-records.csv")
    first = st.lines[0]
    assert first["counterparty_name"] == "深圳市财付通支付科技有限公司"
    assert first["remittance_info"] == "消费 广东三元麦当劳食品有"
    assert st.warnings[:2] == [
        "the balance column (余额) holds no numbers (masked?) and was not used",
        "file line 20 is a total row and was left out",
    ]


# --- OFX: the values the files state -----------------------------------------------------

OFX = {
    "anzcc.ofx": ("1234123412341234", "AUD", "-123.45", [("2017-05-08", "-5.50", "201705080001")]),
    "bank_medium.ofx": (
        "12300 000012345678",
        "CAD",
        "382.34",
        [
            ("2009-04-01", "-6.60", "0000123456782009040100001"),
            ("2009-04-02", "-316.67", "0000123456782009040200004"),
            ("2009-04-03", "-22.00", "0000123456782009040300005"),
        ],
    ),
    "checking.ofx": (
        "1452687~7",
        "USD",
        "100.99",
        [
            ("2011-03-31", "0.01", "0000486"),
            ("2011-04-05", "-34.51", "0000487"),
            ("2011-04-07", "-25.00", "0000488"),
        ],
    ),
    "suncorp.ofx": ("123456789", "AUD", "1234.12", [("2013-12-15", "-16.85", "1")]),
}


@pytest.mark.parametrize("name", sorted(OFX))
def test_ofx_files_read_exactly(name: str) -> None:
    account, currency, closing, lines = OFX[name]
    (st,) = parse_statements(BANK / "ofx" / name)
    assert st.statement["account_id"] == account
    assert st.statement["currency"] == currency
    assert st.statement["source_format"] == "ofx"
    assert st.statement["opening_balance"] is None  # OFX gives none
    assert st.statement["closing_balance"] == D(closing)
    got = [
        (ln["booking_date"].isoformat(), str(ln["amount"]), ln["bank_reference"]) for ln in st.lines
    ]
    assert got == lines


def test_ofx_names_and_memos_are_kept() -> None:
    (st,) = parse_statements(BANK / "ofx" / "suncorp.ofx")  # CDATA values
    assert st.lines[0]["counterparty_name"] == "EFTPOS WDL HANDYWAY ALDI STORE"
    assert st.lines[0]["remittance_info"] == "EFTPOS WDL HANDYWAY ALDI STORE GEELONG WEST VICAU"
    (checking,) = parse_statements(BANK / "ofx" / "checking.ofx")
    assert checking.lines[2]["remittance_info"].endswith("(check 319)")


@pytest.mark.parametrize(
    ("name", "line", "words"),
    [
        ("bank_small.ofx", 11, "holds no bank or credit card statement"),
        ("malformed/date_missing.ofx", 33, "transaction 184997056: no booking date (DTPOSTED)"),
        ("malformed/decimal_error.ofx", 37, "amount '$120' is not a number"),
        ("malformed/empty_balance.ofx", 38, "ledger balance (BALAMT) is empty"),
    ],
)
def test_damaged_ofx_files_are_refused_with_their_line(name: str, line: int, words: str) -> None:
    with pytest.raises(StatementError) as err:
        parse_statements(BANK / "ofx" / name)
    assert err.value.line == line
    assert words in str(err.value)
