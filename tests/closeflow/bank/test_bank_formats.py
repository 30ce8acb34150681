"""Format detection: every real sample file is recognised by content, or refused by name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.bank import (
    FORMATS,
    StatementError,
    StatementFormat,
    detect_format,
    parse_statement,
    register,
)
from closeflow.bank.statement import Entry, SourceFile, build_statement
from tests.conftest import SHARED

BANK = SHARED / "bank"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("camt/camt.053.001.02.xml", "camt"),
        ("camt/camt053_duplicate_same_day.xml", "camt"),
        ("camt/camt053_garbled_amount.xml", "camt"),
        ("camt/camt053_multicurrency.xml", "camt"),
        ("camt/camt053_no_namespace.xml", "camt"),
        ("camt054/genkgo_camt054.v2.xml", "camt"),
        ("csv/csv_european_decimals.csv", "csv"),
        ("csv/csv_french_headers.csv", "csv"),
        ("csv/csv_garbled_amount.csv", "csv"),
        ("csv/csv_spanish_headers.csv", "csv"),
        ("mt940/ing.sta", "mt940"),
        ("bai2/citi_example.bai2", "bai2"),  # comma-separated, but not a CSV export
        ("ofx/checking.ofx", "ofx"),
        ("ofx/anzcc.ofx", "ofx"),
    ],
)
def test_format_is_detected_from_content(name: str, fmt: str) -> None:
    assert detect_format((BANK / name).read_bytes()) == fmt


def test_the_registry_order_puts_the_catch_all_csv_last() -> None:
    assert list(FORMATS) == ["camt", "mt940", "ofx", "bai2", "csv"]


def test_text_that_is_no_statement_is_refused_naming_what_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Dear customer,\nyour statement is attached.\n")
    with pytest.raises(StatementError, match="not a bank statement format closeflow can read"):
        parse_statement(path)
    with pytest.raises(StatementError, match="MT940/MT942, OFX 1.x/2.x and QFX, BAI2"):
        parse_statement(path)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"\n")
    with pytest.raises(StatementError, match="the file is empty"):
        parse_statement(path)


def test_a_new_format_plugs_in_through_the_registry(tmp_path: Path) -> None:
    def sniff(head: bytes) -> bool:
        return head.startswith(b"TOY1")

    def parse(src: SourceFile) -> list:
        amount = Decimal(src.data.decode().split()[1])
        entry = Entry(booking_date=dt.date(2026, 1, 9), amount=amount, currency="EUR")
        return [
            build_statement(
                src,
                source_format="toy",
                own_id="T",
                account_id="X",
                currency="EUR",
                entries=[entry],
            )
        ]

    path = tmp_path / "s.toy"
    path.write_text("TOY1 -12.30\n")
    saved = dict(FORMATS)
    try:
        register(StatementFormat("toy", "toy format", sniff, parse), before="csv")
        assert list(FORMATS) == ["camt", "mt940", "ofx", "bai2", "toy", "csv"]
        st = parse_statement(path)
        assert st.statement["source_format"] == "toy"
        assert st.lines[0]["amount"] == Decimal("-12.30")
    finally:
        FORMATS.clear()
        FORMATS.update(saved)
