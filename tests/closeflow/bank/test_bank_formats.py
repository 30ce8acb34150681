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
        ("camt/camt.053.001.02.xml", "camt.053"),
        ("camt/camt053_duplicate_same_day.xml", "camt.053"),
        ("camt/camt053_garbled_amount.xml", "camt.053"),
        ("camt/camt053_multicurrency.xml", "camt.053"),
        ("camt/camt053_no_namespace.xml", "camt.053"),
        ("csv/csv_european_decimals.csv", "csv"),
        ("csv/csv_french_headers.csv", "csv"),
        ("csv/csv_garbled_amount.csv", "csv"),
        ("csv/csv_spanish_headers.csv", "csv"),
    ],
)
def test_format_is_detected_from_content(name: str, fmt: str) -> None:
    assert detect_format((BANK / name).read_bytes()) == fmt


def test_every_real_camt_and_csv_file_is_covered_by_a_test() -> None:
    covered = {
        "camt.053.001.02.xml",
        "camt053_duplicate_same_day.xml",
        "camt053_garbled_amount.xml",
        "camt053_multicurrency.xml",
        "camt053_no_namespace.xml",
        "csv_european_decimals.csv",
        "csv_french_headers.csv",
        "csv_garbled_amount.csv",
        "csv_spanish_headers.csv",
    }
    found = {p.name for d in ("camt", "csv") for p in (BANK / d).iterdir() if p.name != "LICENSE"}
    assert found == covered


@pytest.mark.parametrize(
    "name",
    ["mt940/ing.sta", "bai2/citi_example.bai2", "ofx/checking.ofx", "ofx/bank_small.ofx"],
)
def test_formats_not_read_yet_are_refused_not_misread(name: str) -> None:
    # BAI2 is comma-separated: it must not pass for a CSV export
    with pytest.raises(StatementError, match="not a bank statement format closeflow can read"):
        parse_statement(BANK / name)


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
        assert list(FORMATS) == ["camt.053", "toy", "csv"]
        st = parse_statement(path)
        assert st.statement["source_format"] == "toy"
        assert st.lines[0]["amount"] == Decimal("-12.30")
    finally:
        FORMATS.clear()
        FORMATS.update(saved)
