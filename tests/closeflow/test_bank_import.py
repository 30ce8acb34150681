"""The nightly statement import: overlapping downloads keep each booking once, and a
statement that does not open where the one before closed is flagged for review."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal as D

import pytest

from closeflow.bank_import import import_bank
from closeflow.runtime import Runtime, Window

ACCOUNT = "DE89370400440532013000"


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request) -> Runtime:
    company = tmp_path / "company"
    company.mkdir()
    (company / "company.yml").write_text(
        'name: "Test GmbH"\nbank_accounts:\n'
        f'  - {{account_id: "{ACCOUNT}", currency: "EUR", ledger_account: "1200"}}\n'
    )
    (company / "chart_of_accounts.yml").write_text("accounts: []\n")
    (company / "suppliers.yml").write_text("suppliers: []\n")
    url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    rt = Runtime(home=tmp_path, warehouse_url=url)
    yield rt
    rt.warehouse.dispose()


def _drop(rt: Runtime, name: str, text: str, day: dt.date) -> None:
    path = rt.bank_inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    at = dt.datetime(day.year, day.month, day.day, 18, tzinfo=dt.UTC).timestamp()
    os.utime(path, (at, at))


def _csv(*rows: str) -> str:
    return "Date,Amount,Currency,Counterparty,Reference\n" + "\n".join(rows) + "\n"


def test_two_overlapping_downloads_keep_each_booking_once(rt):
    monday, tuesday = dt.date(2026, 1, 5), dt.date(2026, 1, 6)
    _drop(
        rt,
        f"export_{ACCOUNT}_1.csv",
        _csv(
            "2026-01-02,-4.20,EUR,Cafe Nord,coffee",
            "2026-01-02,-4.20,EUR,Cafe Nord,coffee",
            "2026-01-05,-100.00,EUR,Kontor GmbH,RE-7",
        ),
        monday,
    )
    got = import_bank(rt, Window.day(monday, "Europe/Berlin")).counts
    assert (got["lines"], got["lines already held"]) == (3, 0)
    # Tuesday's download covers Friday to Tuesday: two coffees and RE-7 again, one new line
    _drop(
        rt,
        f"export_{ACCOUNT}_2.csv",
        _csv(
            "2026-01-02,-4.20,EUR,Cafe Nord,coffee",
            "2026-01-02,-4.20,EUR,Cafe Nord,coffee",
            "2026-01-05,-100.00,EUR,Kontor GmbH,RE-7",
            "2026-01-06,250.00,EUR,Kunde AG,RE-C-1",
        ),
        tuesday,
    )
    got = import_bank(rt, Window.day(tuesday, "Europe/Berlin")).counts
    assert (got["lines"], got["lines already held"]) == (1, 3)
    amounts = rt.warehouse.query(
        "SELECT booking_date, amount FROM raw.bank_lines ORDER BY booking_date, amount"
    ).to_pylist()
    assert [(r["booking_date"].day, r["amount"]) for r in amounts] == [
        (2, D("-4.20")),
        (2, D("-4.20")),
        (5, D("-100.00")),
        (6, D("250.00")),
    ]
    # a third download with nothing new is a duplicate, saying why
    _drop(rt, f"export_{ACCOUNT}_3.csv", _csv("2026-01-06,250.00,EUR,Kunde AG,RE-C-1"), tuesday)
    import_bank(rt, Window.day(tuesday, "Europe/Berlin"))
    [row] = rt.warehouse.read_table(
        "file_manifest", "source_uri = :u", {"u": f"bank_inbox/export_{ACCOUNT}_3.csv"}
    ).to_pylist()
    assert (row["status"], row["reason"]) == (
        "duplicate",
        "every line of it was already imported (an overlapping download)",
    )


CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>M{n}</MsgId><CreDtTm>{day}T20:00:00</CreDtTm></GrpHdr>
<Stmt><Id>S{n}</Id><CreDtTm>{day}T20:00:00</CreDtTm>
<Acct><Id><IBAN>{account}</IBAN></Id><Ccy>EUR</Ccy></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{opening}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{closing}</Amt>
<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>
<NtryDtls><TxDtls><RmtInf><Ustrd>RE-{n}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>
</Stmt></BkToCstmrStmt></Document>
"""


def test_a_statement_that_does_not_open_where_the_last_closed_goes_to_review(rt):
    days = [dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)]
    balances = [("1000.00", "900.00"), ("900.00", "850.00"), ("800.00", "700.00")]
    for n, (day, (opening, closing)) in enumerate(zip(days, balances, strict=True), 1):
        amount = D(opening) - D(closing)
        _drop(
            rt,
            f"camt053_{n}.xml",
            CAMT.format(n=n, day=day, account=ACCOUNT, opening=opening, closing=closing,
                        amount=amount),
            day,
        )  # fmt: skip
        got = import_bank(rt, Window.day(day, "Europe/Berlin")).counts
        assert got["balance gaps"] == (1 if n == 3 else 0)
    [item] = rt.warehouse.read_table("review_queue", "item_type = 'statement_balance'").to_pylist()
    assert item["reason"] == (
        "the statement of account ****3000 from 2026-01-07 opens at 800.00 EUR, but the one "
        "before (to 2026-01-06) closed at 850.00: a statement may be missing, or one of "
        "them is wrong"
    )
    assert item["created_run_id"] == "bank:2026-01-07"
