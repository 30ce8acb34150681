"""Bank CSV reading in little memory (bench/statement_memory.py): the paths taken to save it
give what the plain ones give."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from closeflow.bank import lines_table, parse_statements
from closeflow.bank.csv_export import parse
from closeflow.bank.csv_export import reader as csv_reader
from closeflow.bank.csv_export.amounts import MoneyColumn, signed_amounts
from closeflow.bank.statement import SourceFile, _take_rows


def _read(path: Path) -> tuple[list, pa.Table]:
    parsed = parse_statements(path)
    return [(p.statement, p.warnings) for p in parsed], lines_table(parsed)


def test_statements_found_a_slice_of_rows_at_a_time_equal_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        ("A-1", "2026-01-09", "10.00", "EUR"),
        ("B-2", "2026-01-09", "20.00", "USD"),
        ("A-1", "2026-01-10", "-5.00", "EUR"),
        ("A-1", "2026-01-10", "-5.00", "USD"),
        ("Total", "", "20.00", "EUR"),
        ("B-2", "2026-01-11", "1.00", "USD"),
        ("A-1", "2026-01-12", "2.00", "EUR"),
    ]
    path = tmp_path / "multi.csv"
    path.write_text("Account,Date,Amount,Currency\n" + "".join(",".join(r) + "\n" for r in rows))
    whole = _read(path)
    assert [s["account_id"] + s["currency"] for s, _ in whole[0]] == ["A-1EUR", "B-2USD", "A-1USD"]
    for size in (1, 2, 3):
        monkeypatch.setattr(csv_reader, "_KEY_ROWS", size)
        statements, table = _read(path)
        assert statements == whole[0]
        assert table.equals(whole[1])


def test_rows_taken_chunk_by_chunk_equal_arrows_take() -> None:
    table = pa.table(
        {
            "a": pa.chunked_array([["x", "y"], ["x"], [], ["z", "x", "y"]]),
            "b": pa.chunked_array([[1], [2, 1, 3], [1, 2]]),
        }
    )
    positions = np.array([0, 2, 3, 5], np.int64)
    assert _take_rows(table, positions).equals(table.take(pa.array(positions)))


def test_identical_lines_in_a_large_file_are_still_warned_about(tmp_path: Path) -> None:
    rows = [f"2026-01-{1 + i % 28:02d},Coffee {i},-{1 + i % 97}.50,EUR\n" for i in range(70_000)]
    rows[3] = rows[69_999] = "2026-01-05,Coffee,-3.50,EUR\n"  # far apart: other chunks
    path = tmp_path / "big.csv"
    path.write_text("Date,Description,Amount,Currency\n" + "".join(rows))
    (st,) = parse_statements(path)
    identical = [w for w in st.warnings if "identical entries" in w]
    assert len(identical) == 1
    assert "2 identical entries on 2026-01-05" in identical[0]
    assert "(file line 5)" in identical[0] and "(file line 70001)" in identical[0]


def _signed_amounts_reference(amount, debit, credit, marked):
    """signed_amounts as it was written, one temporary column per step."""
    a, d, c = amount.cents, debit.cents, credit.cents
    out = np.where(credit.given, np.abs(c), -np.abs(d))
    negz = ~credit.given & debit.given & (d == 0)
    bad = ~amount.given & (
        (debit.given & credit.given & (d != 0) & (c != 0)) | ~(debit.given | credit.given)
    )
    if marked is None:
        return (
            np.where(amount.given, a, out),
            np.where(amount.given, amount.negative_zero, negz),
            bad,
        )
    is_debit, is_credit, unmarked = marked
    turned = np.where(is_debit, -np.abs(a), np.where(is_credit, np.abs(a), a))
    refused = ~is_debit & ~is_credit & ~(unmarked & (a < 0))
    return (
        np.where(amount.given, turned, out),
        np.where(amount.given, is_debit & (a == 0), negz),
        np.where(amount.given, refused, bad),
    )


@pytest.mark.parametrize("with_marks", [False, True])
@pytest.mark.parametrize("columns", ["amount", "debit credit", "amount debit credit"])
def test_signed_amounts_in_place_equal_the_column_formula(with_marks: bool, columns: str) -> None:
    rng = np.random.default_rng(7)
    n = 500

    def column(name: str) -> MoneyColumn:
        if name not in columns.split():
            return MoneyColumn.empty(n)
        cents = rng.integers(-3, 4, n) * rng.choice([1, 100, 12345], n)
        given = rng.random(n) < 0.7
        return MoneyColumn(cents, given, given & (cents == 0) & (rng.random(n) < 0.5), ~given)

    amount, debit, credit = column("amount"), column("debit"), column("credit")
    marked = None
    if with_marks:
        is_debit = rng.random(n) < 0.4
        marked = (is_debit, ~is_debit & (rng.random(n) < 0.6), rng.random(n) < 0.2)
    got = signed_amounts(amount, debit, credit, marked)
    want = _signed_amounts_reference(amount, debit, credit, marked)
    for g, w in zip(got, want, strict=True):
        assert np.array_equal(g, w)


def test_the_callers_file_keeps_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text("Date,Amount,Currency\n2026-01-09,1.00,EUR\n")
    src = SourceFile.read(path)
    parse(src)  # lets go of the bytes it reads only when handed the only reference
    assert src.data == path.read_bytes()
