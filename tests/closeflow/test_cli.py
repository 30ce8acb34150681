"""The command line, as a user runs it: clean JSON on stdout, errors with file and line."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from closeflow.cli import main
from closeflow.schemas import BANK_LINES, INVOICES, OPEN_ITEMS
from tests.conftest import SHARED


def test_ocr_extract_prints_one_json_object_per_file(capsys):
    files = [SHARED / "invoices" / "oyo.pdf", SHARED / "invoices" / "AzureInterior.pdf"]
    assert main(["ocr", "extract", *map(str, files), "--json"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for doc, f in zip(out, files, strict=True):
        expected = json.loads(f.with_suffix(".expected.json").read_text())[0]
        assert doc["file"] == str(f) and doc["status"] == "extracted"
        assert doc["invoice_number"] == expected["invoice_number"]
        assert doc["invoice_date"] == expected["date"]
        assert Decimal(doc["total"]) == Decimal(str(expected["amount"]))


def test_ocr_extract_review_threshold_from_the_command_line(capsys):
    oyo = str(SHARED / "invoices" / "oyo.pdf")
    # a text layer is read with confidence 0.99: a stricter threshold sends it to review
    assert main(["ocr", "extract", oyo, "--min-confidence", "0.995", "--workers", "1"]) == 0
    (doc,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert doc["status"] == "needs_review"
    assert (
        "total read with low confidence (0.99): check it against the document"
        in (doc["review_reasons"])
    )


def test_bank_parse_json_and_error_with_file_and_line(capsys):
    camt = SHARED / "bank" / "camt"
    assert main(["bank", "parse", str(camt / "camt053_no_namespace.xml"), "--json"]) == 0
    [statement] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert statement["statement"]["closing_balance"] == "350.00"
    assert [line["amount"] for line in statement["lines"]] == ["250.00"]
    assert main(["bank", "parse", str(camt / "camt053_garbled_amount.xml")]) == 2
    assert "camt053_garbled_amount.xml:17" in capsys.readouterr().err


def _invoice() -> dict:
    row = dict.fromkeys(INVOICES.names)
    return row | {
        "invoice_id": "a" * 64,
        "supplier_id": "SUP-1",
        "supplier_name": "Hoster GmbH",
        "invoice_number": "INV-9",
        "invoice_date": dt.date(2026, 1, 5),
        "currency": "EUR",
        "subtotal": Decimal("100.00"),
        "tax_amount": Decimal("19.00"),
        "total": Decimal("119.00"),
        "document_type": "invoice",
        "payment_reference": "INV-9",
    }


def test_post_then_reconcile_through_parquet(tmp_path, capsys):
    pq.write_table(pa.Table.from_pylist([_invoice()], schema=INVOICES), tmp_path / "inv.parquet")
    (tmp_path / "rules.yml").write_text(
        'tax_codes: {DE19: {rate: "0.19", account: "1400"}}\n'
        "rules:\n  - id: hosting\n    when: {supplier_id: SUP-1}\n"
        '    then: {debit_account: "6200"}\n'
    )
    assert (
        main(
            [
                "post",
                "--invoices",
                str(tmp_path / "inv.parquet"),
                "--rules",
                str(tmp_path / "rules.yml"),
                "--out",
                str(tmp_path / "post"),
            ]
        )
        == 0
    )
    lines = pq.read_table(tmp_path / "post" / "journal_lines.parquet").to_pylist()
    assert [(j["account"], j["amount"]) for j in lines] == [
        ("6200", Decimal("100.00")),
        ("1400", Decimal("19.00")),
        ("2000", Decimal("-119.00")),
    ]
    assert "1 invoices read, 1 posted (3 journal lines), 0 to review" in capsys.readouterr().out

    item = dict.fromkeys(OPEN_ITEMS.names) | {
        "item_id": "a" * 64,
        "invoice_number": "INV-9",
        "payment_reference": "INV-9",
        "amount_open": Decimal("119.00"),
        "currency": "EUR",
    }
    bank = dict.fromkeys(BANK_LINES.names) | {
        "line_id": "s:1",
        "statement_id": "s",
        "booking_date": dt.date(2026, 1, 20),
        "amount": Decimal("-119.00"),
        "currency": "EUR",
        "remittance_info": "Invoice INV-9",
    }
    pq.write_table(pa.Table.from_pylist([item], schema=OPEN_ITEMS), tmp_path / "items.parquet")
    pq.write_table(pa.Table.from_pylist([bank], schema=BANK_LINES), tmp_path / "bank.parquet")
    assert (
        main(
            [
                "reconcile",
                "--bank-lines",
                str(tmp_path / "bank.parquet"),
                "--open-items",
                str(tmp_path / "items.parquet"),
                "--out",
                str(tmp_path / "rec"),
            ]
        )
        == 0
    )
    [match] = pq.read_table(tmp_path / "rec" / "matches.parquet").to_pylist()
    assert (match["bank_line_id"], match["item_id"]) == ("s:1", "a" * 64)
    assert match["matched_amount"] == Decimal("119.00") and match["status"] == "auto"
