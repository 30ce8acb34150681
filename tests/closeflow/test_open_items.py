"""Open items follow the payable wherever the posting put it: an invoice a rule posts to
its own AP account (intercompany, say) is owed, paid and cleared on that account; and the
ledger has one AP control account, set in company.yml."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from closeflow.config import ConfigError
from closeflow.invoice_posting import post
from closeflow.open_items import open_items_as_of
from closeflow.reconciliation import reconcile_window
from closeflow.runtime import Runtime, Window
from closeflow.sample.company import build_company, write_company_folder
from closeflow.sample.fx import cny_rates
from closeflow.sample.suppliers import build_suppliers

DAY, PAID = dt.date(2026, 1, 5), dt.date(2026, 1, 12)
KONTOR, PAPERLINE = "a" * 64, "b" * 64
EUR_ACCOUNT = "DE76200400005094145761"


@pytest.fixture(params=["duckdb", "postgresql"])
def rt(tmp_path, request):
    company = tmp_path / "company"
    write_company_folder(
        company,
        build_company(7),
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        "2026-01",
    )
    chart = company / "chart_of_accounts.yml"
    chart.write_text(
        chart.read_text().replace(
            '  - {code: "2100",',
            '  - {code: "2050", name: "Intercompany payables", type: liability}\n'
            '  - {code: "2100",',
        )
    )
    # Kontor is a sister company: its invoices are intercompany payables
    rules = company / "posting_rules.yml"
    text = rules.read_text()
    at = text.index('    when: {supplier_id: "SUP-007"}')
    then = text.index("then:", at)
    rules.write_text(text[: then + len("then: {")] + 'ap_account: "2050", ' + text[then + 7 :])
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
    rt = Runtime(home=tmp_path, warehouse_url=url)
    _ingest(rt)
    post(rt, Window.day(DAY, rt.tz))
    yield rt
    rt.warehouse.dispose()


def _ingest(rt: Runtime) -> None:
    def invoice(iid, supplier, name, number, net):
        tax = (net * D("0.19")).quantize(D("0.01"))
        head = {
            "invoice_id": iid,
            "supplier_id": supplier,
            "supplier_name": name,
            "invoice_number": number,
            "invoice_date": DAY,
            "due_date": DAY + dt.timedelta(days=14),
            "currency": "EUR",
            "subtotal": net,
            "tax_amount": tax,
            "total": net + tax,
            "document_type": "invoice",
            "payment_reference": number,
            "status": "extracted",
            "period": "2026-01",
            "run_id": "ingest:2026-01-05",
        }
        line = {
            "invoice_id": iid,
            "line_no": 1,
            "description": "Toner schwarz" if supplier == "SUP-007" else "Printer paper A4",
            "quantity": D(1),
            "unit_price": net,
            "amount": net,
            "tax_rate": D("0.19"),
            "tax_amount": tax,
        }
        manifest = {
            "file_sha256": iid,
            "source_uri": f"inbox/{number}.pdf",
            "received_at": dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC),
            "size_bytes": 1000,
            "media_type": "application/pdf",
            "status": "extracted",
            "run_id": "ingest:2026-01-05",
            "kind": "invoice",
        }
        return head, line, manifest

    made = [
        invoice(KONTOR, "SUP-007", "Kontor Büromarkt GmbH", "0004711", D("100.00")),
        invoice(
            PAPERLINE, "SUP-008", "PaperLine Office Supplies GmbH", "PL-2026-00101", D("50.00")
        ),
    ]
    with rt.warehouse.transaction() as t:
        t.insert("invoices", [h for h, _, _ in made])
        t.insert("invoice_lines", [ln for _, ln, _ in made])
        t.insert("file_manifest", [m for _, _, m in made])


def _pay(rt: Runtime, reference: str, amount: D) -> None:
    with rt.warehouse.transaction() as t:
        t.insert(
            "bank_statements",
            [
                {
                    "statement_id": "S1",
                    "account_id": EUR_ACCOUNT,
                    "currency": "EUR",
                    "run_id": "bank:2026-01-12",
                }
            ],
        )
        t.insert(
            "bank_lines",
            [
                {
                    "line_id": "S1-1",
                    "statement_id": "S1",
                    "booking_date": PAID,
                    "value_date": PAID,
                    "amount": -amount,
                    "currency": "EUR",
                    "counterparty_name": "Kontor Büromarkt GmbH",
                    "remittance_info": f"Rechnung {reference}",
                    "run_id": "bank:2026-01-12",
                }
            ],
        )


def test_an_invoice_on_its_own_ap_account_is_owed_paid_and_cleared_there(rt):
    items = {r["item_id"]: r for r in open_items_as_of(rt, None).to_pylist()}
    assert {i: (r["ap_account"], r["amount_open"]) for i, r in items.items()} == {
        KONTOR: ("2050", D("119.00")),
        PAPERLINE: ("2000", D("59.50")),
    }
    _pay(rt, "0004711", D("119.00"))
    reconcile_window(rt, Window.day(PAID, rt.tz))
    payment = rt.warehouse.read_table(
        "journal_lines", "source_type = 'payment' ORDER BY line_no"
    ).to_pylist()
    assert [(j["account"], j["amount"]) for j in payment] == [
        ("2050", D("119.00")),
        ("1200", D("-119.00")),
    ]
    assert [r["item_id"] for r in open_items_as_of(rt, None).to_pylist()] == [PAPERLINE]
    balance = rt.warehouse.scalar(
        "SELECT SUM(amount) FROM raw.journal_lines WHERE account = '2050'"
    )
    assert balance == 0


def test_the_rules_file_cannot_name_another_ap_account_than_company_yml(rt):
    rules = rt.home / "company" / "posting_rules.yml"
    text = rules.read_text()
    assert 'ap_account: "2000"' in text  # the sample repeats company.yml's: allowed
    rules.write_text(text.replace('ap_account: "2000"', 'ap_account: "2100"', 1))
    line = text.splitlines().index('ap_account: "2000"') + 1
    with pytest.raises(ConfigError) as err:
        Runtime(home=rt.home, warehouse_url=rt.warehouse_url).company.posting_rules()
    assert f"posting_rules.yml:{line}: ap_account '2100' differs from company.yml's '2000'" in str(
        err.value
    )
    rules.write_text(text.replace('ap_account: "2000"\n', "", 1))  # left out: company.yml's
    assert (
        Runtime(home=rt.home, warehouse_url=rt.warehouse_url).company.posting_rules().ap_account
        == "2000"
    )


def test_a_line_left_unmatched_is_retried_every_night_until_it_matches(rt):
    """A payment booked (and imported) the night before its invoice was posted is left
    unmatched that night, with one review item, and matched the next night; re-running
    the first night gives the same answer; the close no longer counts it as open."""
    from closeflow.close import close_metrics

    sunday = DAY - dt.timedelta(days=1)
    with rt.warehouse.transaction() as t:
        t.insert(
            "bank_statements",
            [
                {
                    "statement_id": "S0",
                    "account_id": EUR_ACCOUNT,
                    "currency": "EUR",
                    "run_id": "bank:2026-01-04",
                }
            ],
        )
        t.insert(
            "bank_lines",
            [
                {
                    "line_id": "S0-1",
                    "statement_id": "S0",
                    "booking_date": sunday,
                    "amount": D("-59.50"),
                    "currency": "EUR",
                    "counterparty_name": "PaperLine Office Supplies GmbH",
                    "remittance_info": "PL-2026-00101",
                    "run_id": "bank:2026-01-04",
                }
            ],
        )
    first = reconcile_window(rt, Window.day(sunday, rt.tz)).counts
    assert (first["bank lines tried"], first["lines matched"]) == (1, 0)
    second = reconcile_window(rt, Window.day(DAY, rt.tz)).counts
    assert (second["bank lines tried"], second["lines matched"]) == (1, 1)
    [match] = rt.warehouse.read_table("matches").to_pylist()
    assert (match["bank_line_id"], match["item_id"], match["run_id"]) == (
        "S0-1",
        PAPERLINE,
        "reconcile:2026-01-05",
    )
    reviews = rt.warehouse.read_table("review_queue", "item_type = 'bank_line'").to_pylist()
    assert [(r["item_id"], r["created_run_id"]) for r in reviews] == [
        ("S0-1", "reconcile:2026-01-04")
    ]
    # a later night finds nothing left to try; an earlier night re-run is as it was
    assert reconcile_window(rt, Window.day(PAID, rt.tz)).counts["bank lines tried"] == 0
    assert reconcile_window(rt, Window.day(sunday, rt.tz)).counts["lines matched"] == 0
    assert rt.warehouse.read_table("matches").num_rows == 1
    assert close_metrics(rt, "2026-01")["review_queue_open"] == 0


def _line(rt: Runtime, n: int, day: dt.date, amount: str, text: str) -> None:
    with rt.warehouse.transaction() as t:
        t.insert(
            "bank_statements",
            [
                {
                    "statement_id": f"S{n}",
                    "account_id": EUR_ACCOUNT,
                    "currency": "EUR",
                    "run_id": f"bank:{day}",
                }
            ],
        )
        t.insert(
            "bank_lines",
            [
                {
                    "line_id": f"S{n}-1",
                    "statement_id": f"S{n}",
                    "booking_date": day,
                    "amount": D(amount),
                    "currency": "EUR",
                    "remittance_info": text,
                    "run_id": f"bank:{day}",
                }
            ],
        )


def _payment_legs(rt: Runtime, line_id: str) -> list[tuple[str, D]]:
    rows = rt.warehouse.query(
        "SELECT j.account, j.amount FROM raw.journal_lines j JOIN raw.matches m "
        "ON j.source_id = m.match_id WHERE j.source_type = 'payment' AND m.bank_line_id = :l "
        "ORDER BY j.line_no",
        {"l": line_id},
    ).to_pylist()
    return [(r["account"], r["amount"]) for r in rows]


def test_partial_payments_clear_their_share_and_a_small_difference_is_written_off(rt):
    """Two part payments settle PaperLine's invoice, each clearing its share of the
    payable; Kontor's invoice, paid 0.50 short within company.yml's tolerance, is settled
    and the 0.50 written off to the rounding account."""
    yml = rt.home / "company" / "company.yml"
    yml.write_text(
        yml.read_text() + 'reconciliation: {tolerance: "1.00", tolerance_percent: "2"}\n'
    )
    rt = Runtime(home=rt.home, warehouse_url=rt.warehouse_url)
    _line(rt, 1, PAID, "-20.00", "PL-2026-00101 Teilzahlung")
    _line(rt, 2, PAID, "-118.50", "Rechnung 0004711 abzgl. Skonto")
    reconcile_window(rt, Window.day(PAID, rt.tz))
    assert _payment_legs(rt, "S1-1") == [("2000", D("20.00")), ("1200", D("-20.00"))]
    assert _payment_legs(rt, "S2-1") == [
        ("2050", D("119.00")),
        ("1200", D("-118.50")),
        ("8999", D("-0.50")),
    ]
    items = {r["item_id"]: r["amount_open"] for r in open_items_as_of(rt, None).to_pylist()}
    assert items == {PAPERLINE: D("39.50")}
    later = PAID + dt.timedelta(days=1)
    _line(rt, 3, later, "-39.50", "PL-2026-00101 Rest")
    reconcile_window(rt, Window.day(later, rt.tz))
    assert _payment_legs(rt, "S3-1") == [("2000", D("39.50")), ("1200", D("-39.50"))]
    assert open_items_as_of(rt, None).num_rows == 0
    rules = rt.warehouse.query("SELECT rule FROM raw.matches ORDER BY run_id, rule").to_pylist()
    assert [r["rule"] for r in rules] == [
        "reference+partial",
        "reference+tolerance",
        "reference+exact_amount",  # the rest, exactly what is open
    ]
    rt.warehouse.dispose()
