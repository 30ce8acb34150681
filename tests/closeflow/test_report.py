"""The nightly report names review items the way finance recognises them."""

import json

from closeflow.report import bar_chart_svg, review_label


def _item(**details) -> dict:
    return {"item_id": "a" * 64, "details": json.dumps(details)}


def test_bank_line_is_named_by_date_counterparty_reference_and_amount():
    label = review_label(
        _item(
            amount="300000.00",
            currency="EUR",
            booking_date="2026-01-02",
            counterparty_name="Closeflow Holding AG",
            remittance_info="Kapitaleinlage",
        )
    )
    assert label == "2026-01-02 · Closeflow Holding AG · Kapitaleinlage · 300000.00 EUR"


def test_invoice_is_named_by_supplier_number_and_file():
    label = review_label(
        _item(file="/x/inbox/scan_1.jpg", supplier="Akademie Nord", invoice_number="AN260175")
    )
    assert label == "Akademie Nord · AN260175 · scan_1.jpg"


def test_file_is_named_by_its_name_and_unknown_by_id():
    assert review_label(_item(file="/x/inbox/letter.pdf", status="quarantined")) == "letter.pdf"
    assert review_label({"item_id": "b" * 64, "details": None}) == "b" * 16


def test_chart_bars_scale_to_the_largest_count():
    svg = bar_chart_svg([("Matched", 4, "#0a0"), ("Unmatched", 2, "#a00"), ("Fees", 0, "#00a")])
    assert svg.count("<rect") == 3
    assert 'width="320"' in svg and 'width="160"' in svg and 'width="0"' in svg


# --- safe output: escaped, masked, no server paths ------------------------------------------

import csv  # noqa: E402
import datetime as dt  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402

import pytest  # noqa: E402

from closeflow.close_report import write_close_report  # noqa: E402
from closeflow.report import nightly_report  # noqa: E402
from closeflow.review import review_item  # noqa: E402
from closeflow.runtime import Runtime, Window  # noqa: E402
from closeflow.sample.company import build_company, write_company_folder  # noqa: E402
from closeflow.sample.fx import cny_rates  # noqa: E402
from closeflow.sample.suppliers import build_suppliers  # noqa: E402

# an IBAN anywhere, compact or in groups of four
IBAN = re.compile(r"(?<![A-Z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}")
COUNTERPARTY_IBAN = "DE89 3704 0044 0532 0130 00"
OTHER_IBAN = "GB29NWBK60161331926819"
DAY = dt.date(2026, 1, 5)
CSV_COLUMNS = [
    "booking_date",
    "account_id",
    "line_id",
    "amount",
    "currency",
    "counterparty_name",
    "remittance_info",
    "outcome",
    "invoice_number",
    "supplier_name",
]


@pytest.fixture
def rt(tmp_path):
    company = build_company(7)
    write_company_folder(
        tmp_path / "company",
        company,
        build_suppliers(7),
        cny_rates(7, dt.date(2026, 1, 1), dt.date(2026, 2, 1)),
        "2026-01",
    )
    rt = Runtime(home=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'w.duckdb'}")
    rt.sample = company  # the test reads the company's own account ids from it
    yield rt
    rt.warehouse.dispose()


def _line(n: int, statement: str, currency: str, amount: str, **kw) -> dict:
    return {
        "line_id": f"{statement}:{n}",
        "statement_id": statement,
        "booking_date": DAY,
        "value_date": DAY,
        "amount": Decimal(amount),
        "currency": currency,
        "bank_reference": f"REF{n}",
        "end_to_end_id": "NOTPROVIDED",
    } | kw


def _hostile_night(rt: Runtime) -> None:
    """One night whose data came from hostile PDFs, file names and remittance texts."""
    home, eur, cny = rt.home, rt.sample.eur_iban, rt.sample.cny_account
    statements = [
        {"statement_id": "st-eur", "account_id": eur, "currency": "EUR"},
        {"statement_id": "st-cny", "account_id": cny, "currency": "CNY"},
    ]
    for s in statements:
        s |= {"from_date": DAY, "to_date": DAY, "source_format": "test", "file_sha256": "0" * 64}
    lines = [
        _line(
            1,
            "st-eur",
            "EUR",
            "-100.00",
            counterparty_name="<b>Evil</b> GmbH",
            counterparty_account=COUNTERPARTY_IBAN,
            remittance_info=f"<script>alert(1)</script> RE-2026-00012 IBAN {OTHER_IBAN}",
        ),
        _line(
            2,
            "st-eur",
            "EUR",
            "-250.00",
            counterparty_name="Bold Supplies",
            counterparty_account=COUNTERPARTY_IBAN.replace(" ", ""),
            remittance_info="INV 4711",
        ),
        _line(
            1,
            "st-cny",
            "CNY",
            "-800.00",
            counterparty_name="上海测试有限公司",
            counterparty_account="6222021234567890123",
            remittance_info="货款 12345678 账号 6222021234567890123",
        ),
    ]
    invoice = {
        "invoice_id": "inv-1",
        "supplier_id": "SUP-001",
        "supplier_name": "<b>Bold</b> Supplies",
        "invoice_number": "INV 4711",
        "invoice_date": DAY,
        "currency": "EUR",
        "total": Decimal("250.00"),
        "supplier_iban": COUNTERPARTY_IBAN,
        "status": "posted",
        "period": "2026-01",
    }
    match = {
        "match_id": "m1",
        "bank_line_id": "st-eur:2",
        "item_id": "inv-1",
        "matched_amount": Decimal("250.00"),
        "rule": "reference_exact",
        "score": 1.0,
        "difference": Decimal("0.00"),
        "status": "auto",
        "run_id": "reconcile:2026-01-05",
    }
    inbox = home / "var" / "inbox" / "2026"
    review = [
        review_item(
            "file",
            "f" * 64,
            f"same file content as {inbox / 'original.pdf'}",
            "ingest:2026-01-05",
            file=str(inbox / "<img src=x onerror=alert(1)>.pdf"),
            status="duplicate",
        ),
        review_item(
            "invoice",
            "inv-2",
            "no posting rule matches this supplier",
            "post:2026-01-05",
            file=str(inbox / "scan_7.pdf"),
            supplier="<b>Bold</b> Supplies",
            invoice_number="AN260175",
        ),
        review_item(
            "bank_line",
            "st-eur:1",
            f"no open invoice for this payment from {COUNTERPARTY_IBAN}",
            "reconcile:2026-01-05",
            booking_date="2026-01-05",
            amount="-100.00",
            currency="EUR",
            counterparty_name="<b>Evil</b> GmbH",
            remittance_info=f"<script>alert(1)</script> IBAN {OTHER_IBAN}",
        ),
        review_item(
            "statement",
            "s" * 64,
            f"{home / 'bank_inbox' / f'cny_{cny}_2026-01-05.csv'}:3: amount is not a number",
            "bank:2026-01-05",
            file=str(home / "bank_inbox" / f"cny_{cny}_2026-01-05.csv"),
        ),
    ]
    with rt.warehouse.transaction() as t:
        t.insert("bank_statements", statements)
        t.insert("bank_lines", lines)
        t.insert("invoices", [invoice])
        t.insert("matches", [match])
        t.insert("review_queue", review)


def _unmasked(text: str, rt: Runtime) -> list[str]:
    """Account identifiers in `text` in clear: IBAN-shaped tokens and the known numbers."""
    found = IBAN.findall(text)
    for number in (rt.sample.cny_account, "6222021234567890123", "0532013000"):
        if number in text:
            found.append(number)
    return found


def test_nightly_report_escapes_hostile_text_masks_accounts_and_hides_paths(rt):
    _hostile_night(rt)
    paths = nightly_report(rt, Window.day(DAY)).counts
    html = open(paths["html"], encoding="utf-8").read()
    raw_csv = open(paths["csv"], encoding="utf-8").read()

    # escaped, never markup: the remittance text, the file name, the supplier and party
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html
    assert "&lt;b&gt;Evil&lt;/b&gt; GmbH" in html and "&lt;b&gt;Bold&lt;/b&gt; Supplies" in html
    for tag in ("<script", "<img", "<b>Evil", "<b>Bold", "Evil</b>", "Bold</b>"):
        assert tag not in html, tag
    assert html.count("<svg") == 1  # the chart is the one piece of markup not escaped
    assert (  # the bank line's review label, whole
        "2026-01-05 · &lt;b&gt;Evil&lt;/b&gt; GmbH · &lt;script&gt;alert(1)&lt;/script&gt; "
        "IBAN ****6819 · -100.00 EUR"
    ) in html

    # masked: no IBAN, no account number in clear; the last four characters stay
    assert _unmasked(html, rt) == [] and _unmasked(raw_csv, rt) == []
    assert "****3000" in html  # the counterparty IBAN in the bank line's review reason
    assert "****6819" in html and "账号 ****0123" in html
    assert rt.sample.cny_account[-4:] in html  # the CNY statement's file, by its name

    # references, invoice numbers and amounts stay readable
    for kept in ("RE-2026-00012", "货款 12345678", "AN260175", "100.00"):
        assert kept in html and kept in raw_csv or kept == "AN260175", kept
    assert "AN260175" in html and "INV 4711" in raw_csv

    # no server path: files by their names only
    for text in (html, raw_csv):
        assert str(rt.home) not in text
        assert "/var/inbox" not in text and "/bank_inbox" not in text
    assert "same file content as original.pdf" in html
    assert "scan_7.pdf" in html and f"cny_****{rt.sample.cny_account[-4:]}_2026-01-05.csv" in html

    # the CSV keeps its columns; its values are masked
    rows = list(csv.DictReader(raw_csv.splitlines()))
    assert list(rows[0]) == CSV_COLUMNS
    by_id = {r["line_id"]: r for r in rows}
    assert by_id["st-eur:1"]["account_id"] == "****" + rt.sample.eur_iban[-4:]
    assert by_id["st-cny:1"]["account_id"] == "****" + rt.sample.cny_account[-4:]
    assert by_id["st-eur:1"]["remittance_info"] == (
        "<script>alert(1)</script> RE-2026-00012 IBAN ****6819"
    )
    assert by_id["st-cny:1"]["remittance_info"] == "货款 12345678 账号 ****0123"
    assert by_id["st-eur:2"]["outcome"] == "matched"
    assert by_id["st-eur:2"]["supplier_name"] == "<b>Bold</b> Supplies"


def test_review_label_shows_no_directory_and_no_account():
    label = review_label(
        _item(
            amount="-100.00",
            currency="EUR",
            booking_date="2026-01-05",
            counterparty_name="Miete",
            remittance_info="Konto 0532013000 see /srv/closeflow/var/inbox/a.pdf",
        )
    )
    assert label == "2026-01-05 · Miete · Konto ****3000 see a.pdf · -100.00 EUR"
    assert review_label(_item(file="C:\\Users\\x\\inbox\\letter.pdf")) == "letter.pdf"


def test_chart_escapes_its_labels():
    svg = bar_chart_svg([("<script>x</script>", 1, '"red" onload="x"')])
    assert "<script" not in svg and "&lt;script&gt;x&lt;/script&gt;" in svg
    assert 'fill="&#34;red&#34; onload=&#34;x&#34;"' in svg
    assert str(svg).startswith("<svg") and hasattr(svg, "__html__")


def test_close_report_escapes_a_hostile_company_name(tmp_path):
    row = {
        "period": "2026-01",
        "invoices_received": 6,
        "touchless_rate": Decimal("0.333333"),
        "suggestion_holdout_accuracy": None,
        "computed_at": dt.datetime(2026, 2, 3, tzinfo=dt.UTC),
        "run_id": "close:2026-01",
    }
    paths = write_close_report(
        tmp_path / "close" / "2026-01", "<script>alert('x')</script> & Co", "2026-01", row
    )
    html = open(paths["html"], encoding="utf-8").read()
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co" in html
    assert "<title>Close 2026-01</title>" in html and "Month-end close 2026-01" in html
    assert "<td>touchless rate</td>" in html and "0.333333" in html
    assert "run_id" not in html and "computed" not in html
    with open(paths["csv"], newline="", encoding="utf-8") as fh:
        assert list(csv.reader(fh)) == [
            ["metric", "value"],
            ["period", "2026-01"],
            ["invoices_received", "6"],
            ["touchless_rate", "0.333333"],
            ["suggestion_holdout_accuracy", ""],
        ]
