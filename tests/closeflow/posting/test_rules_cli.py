"""`closeflow rules test`: a dry run a reviewer reads before a rule change goes live."""

import datetime as dt
from decimal import Decimal as D

import pyarrow as pa
import pyarrow.parquet as pq

from closeflow.cli import main
from closeflow.schemas import INVOICE_LINES, INVOICES

CURRENT = """\
version: 1
tax_codes:
  DE19: {rate: "0.19", account: "1400"}
rules:
  - id: hosting
    when: {supplier_id: "SUP-001"}
    then: {debit_account: "6200", cost_center: "IT"}
"""
PROPOSED = (
    CURRENT
    + """\
  - id: training
    priority: 10
    when: {supplier_id: "SUP-001", description_keywords: ["workshop"]}
    then: {debit_account: "6450", cost_center: "HR"}
  - id: office
    when: {supplier_id: "SUP-002"}
    then: {debit_account: "6300"}
"""
)


def _write(tmp_path):
    invoices = [
        {
            "invoice_id": "a" * 64,
            "supplier_id": "SUP-001",
            "supplier_name": "Hoster GmbH",
            "invoice_number": "H-17",
            "invoice_date": dt.date(2026, 1, 5),
            "currency": "EUR",
            "subtotal": D("300.00"),
            "tax_amount": D("57.00"),
            "total": D("357.00"),
            "document_type": "invoice",
            "status": "extracted",
        },
        {
            "invoice_id": "b" * 64,
            "supplier_id": "SUP-002",
            "supplier_name": "Papier AG",
            "invoice_number": "P-9",
            "invoice_date": dt.date(2026, 1, 6),
            "currency": "EUR",
            "subtotal": D("10.00"),
            "tax_amount": D("1.90"),
            "total": D("11.90"),
            "document_type": "invoice",
            "status": "extracted",
        },
    ]
    lines = [
        {
            "invoice_id": "a" * 64,
            "line_no": 1,
            "description": "Cloud server January",
            "amount": D("200.00"),
            "tax_rate": D("0.19"),
            "tax_amount": D("38.00"),
        },
        {
            "invoice_id": "a" * 64,
            "line_no": 2,
            "description": "Security workshop",
            "amount": D("100.00"),
            "tax_rate": D("0.19"),
            "tax_amount": D("19.00"),
        },
    ]
    pq.write_table(pa.Table.from_pylist(invoices, schema=INVOICES), tmp_path / "i.parquet")
    pq.write_table(pa.Table.from_pylist(lines, schema=INVOICE_LINES), tmp_path / "l.parquet")
    (tmp_path / "current.yml").write_text(CURRENT)
    (tmp_path / "proposed.yml").write_text(PROPOSED)


def test_dry_run_shows_the_rule_and_the_entry_per_invoice(tmp_path, capsys):
    _write(tmp_path)
    args = [
        "rules",
        "test",
        "--rules",
        str(tmp_path / "current.yml"),
        "--invoices",
        str(tmp_path / "i.parquet"),
        "--lines",
        str(tmp_path / "l.parquet"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Hoster GmbH · H-17 · 2026-01-05 · EUR 357.00" in out
    assert (
        "  line 1        'Cloud server January'                             200.00  "
        "rule hosting -> 6200\n" in out
    )
    assert "     1  6200   IT                   300.00   hosting" in out
    assert "     2  1400                         57.00   hosting" in out
    assert "     3  2000                       -357.00   hosting" in out
    assert "Papier AG · P-9 · 2026-01-06 · EUR 11.90" in out
    assert "  -> review: no posting rule matches this supplier" in out
    assert out.endswith("2 invoices: 1 would post, 1 would go to review\n")


def test_dry_run_against_the_current_rules_shows_what_changes(tmp_path, capsys):
    _write(tmp_path)
    args = [
        "rules",
        "test",
        "--rules",
        str(tmp_path / "proposed.yml"),
        "--invoices",
        str(tmp_path / "i.parquet"),
        "--lines",
        str(tmp_path / "l.parquet"),
        "--against",
        str(tmp_path / "current.yml"),
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "    line 2: rule hosting -> training, account 6200 -> 6450" in out
    assert "    - 6200   IT                   300.00" in out
    assert "    + 6200   IT                   200.00" in out
    assert "    + 6450   HR                   100.00" in out
    assert "    whole invoice: rule (none) -> office, account (none) -> 6300" in out
    assert ("    was: review: no posting rule matches this supplier; now: posted") in out
    assert out.endswith(
        "2 invoices: 2 would post, 0 would go to review; 2 change against the current rules\n"
    )


def test_dry_run_of_a_broken_file_names_the_line(tmp_path, capsys):
    _write(tmp_path)
    (tmp_path / "bad.yml").write_text(PROPOSED.replace("description_keywords", "descr_keywords"))
    args = [
        "rules",
        "test",
        "--rules",
        str(tmp_path / "bad.yml"),
        "--invoices",
        str(tmp_path / "i.parquet"),
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'bad.yml'}:10: unknown field 'rules.1.when.descr_keywords'" in err
    assert "did you mean 'description_keywords'?" in err
