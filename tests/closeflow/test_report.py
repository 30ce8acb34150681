"""The nightly report names review items the way finance recognises them."""

import json

from closeflow.report import review_label


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


def test_chart_bars_scale_rate_to_100_percent_and_amount_to_the_largest():
    from closeflow.report_data import chart_rows

    rows = chart_rows(
        [
            {"rate_count": Decimal("100.0"), "unreconciled": Decimal("50.00")},
            {"rate_count": Decimal("25.0"), "unreconciled": Decimal("200.00")},
            {"rate_count": None, "unreconciled": Decimal("0.00")},
        ],
        width=200,
    )
    assert [(r["rate_px"], r["amount_px"]) for r in rows] == [(200, 50), (50, 200), (0, 0)]


# --- safe output: escaped, masked, no server paths ------------------------------------------

import csv  # noqa: E402
import datetime as dt  # noqa: E402
import re  # noqa: E402
from decimal import Decimal  # noqa: E402
from pathlib import Path  # noqa: E402

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
    assert "<svg" not in html  # the chart is a table of bars: mail clients show it
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

    # the workbook: escaped nowhere (it is no markup) but masked everywhere, text as text
    import zipfile

    with zipfile.ZipFile(paths["xlsx"]) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert _unmasked(xml, rt) == []
    assert str(rt.home) not in xml
    from openpyxl import load_workbook

    wb = load_workbook(paths["xlsx"])
    cells = [str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "<script>alert(1)</script> RE-2026-00012 IBAN ****6819" in cells
    assert "货款 12345678 账号 ****0123" in cells and "****" + rt.sample.eur_iban[-4:] in cells
    assert _unmasked("\n".join(cells), rt) == []

    # the CSV keeps its columns; its values are masked
    rows = list(csv.DictReader(raw_csv.splitlines()))
    assert raw_csv.splitlines()[0] == (
        "booking_date,account_id,line_id,amount,currency,counterparty_name,remittance_info,"
        "outcome,invoice_number,supplier_name"
    )
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


def test_nightly_report_sections_balance_checks_ledger_suggestions_write_offs(rt):
    """Statements that add up and one that does not, a gap between statements, the
    ledger beside the bank once the opening balance is booked, a suggestion awaiting a
    decision with its write-off: each in the HTML, the workbook and the subject, masked."""
    import json as _json

    from openpyxl import load_workbook

    from closeflow.masking import mask_account

    eur, cny = rt.sample.eur_iban, rt.sample.cny_account
    ledger = rt.company.bank_account(eur).ledger_account
    masked = mask_account(eur)
    bank = "bank:2026-01-05"
    st = {"from_date": DAY, "to_date": DAY, "source_format": "test", "file_sha256": "0" * 64}
    statements = [
        st
        | {"statement_id": "st-a", "account_id": eur, "currency": "EUR", "run_id": bank}
        | {"opening_balance": Decimal("1000.00"), "closing_balance": Decimal("880.00")},
        st
        | {"statement_id": "st-b", "account_id": eur, "currency": "EUR", "run_id": bank}
        | {"opening_balance": Decimal("880.00"), "closing_balance": Decimal("1000.00")},
    ]
    lines = [
        _line(1, "st-a", "EUR", "-100.00", remittance_info="NA-76", run_id=bank),
        _line(2, "st-a", "EUR", "-20.00", remittance_info="NA-77", run_id=bank),
        _line(1, "st-b", "EUR", "70.00", remittance_info="refund", run_id=bank),
    ]
    invoices = [
        {"invoice_id": f"inv-{n}", "supplier_id": "SUP-9", "supplier_name": "Nord AG"}
        | {"invoice_number": f"NA-{n}", "invoice_date": DAY, "currency": "EUR", "period": "2026-01"}
        for n in (76, 77)
    ]
    match = {"score": 1.0, "difference": Decimal("0.00"), "run_id": "reconcile:2026-01-05"}
    matches = [
        match
        | {"match_id": "m76", "bank_line_id": "st-a:1", "item_id": "inv-76"}
        | {"matched_amount": Decimal("100.00"), "rule": "reference+exact_amount", "status": "auto"},
        match
        | {"match_id": "m77", "bank_line_id": "st-a:2", "item_id": "inv-77"}
        | {"matched_amount": Decimal("21.50"), "rule": "reference+tolerance", "score": 0.7}
        | {"difference": Decimal("1.50"), "difference_account": "8999", "status": "suggested"},
    ]

    def jl(entry: str, n: int, account: str, amount: str, source: str, day: dt.date, run: str):
        a = Decimal(amount)
        return {"entry_id": entry, "line_no": n, "entry_date": day, "period": "2026-01"} | {
            "account": account,
            "amount": a,
            "currency": "EUR",
            "amount_txn": a,
            "fx_rate": Decimal(1),
            "source_type": source,
            "source_id": entry,
            "run_id": run,
        }

    journal = [
        jl("open", 1, ledger, "1000.00", "opening", dt.date(2026, 1, 1), "opening:2026-01-01"),
        jl("open", 2, "3000", "-1000.00", "opening", dt.date(2026, 1, 1), "opening:2026-01-01"),
        jl("pay", 1, ledger, "-100.00", "payment", DAY, "reconcile:2026-01-05"),
        jl("pay", 2, "2000", "100.00", "payment", DAY, "reconcile:2026-01-05"),
        jl("ref", 1, ledger, "100.00", "manual", DAY, "manual:2026-01-05"),
        jl("ref", 2, "4000", "-100.00", "manual", DAY, "manual:2026-01-05"),
        # a later night's entry is not in this night's report
        jl("late", 1, ledger, "5.00", "manual", DAY, "manual:2026-01-06"),
        jl("late", 2, "4000", "-5.00", "manual", DAY, "manual:2026-01-06"),
    ]
    gap = review_item(
        "statement_balance",
        "st-b",
        f"the statement of account {masked} from 2026-01-05 opens at 880.00 EUR, but the one "
        "before (to 2026-01-04) closed at 900.00",
        bank,
        statement="st-b",
    )
    with rt.warehouse.transaction() as t:
        t.insert("bank_statements", statements)
        t.insert("bank_lines", lines)
        t.insert("invoices", invoices)
        t.insert("matches", matches)
        t.insert("journal_lines", journal)
        t.insert("review_queue", [gap])

    paths = nightly_report(rt, Window.day(DAY)).counts
    html = open(paths["html"], encoding="utf-8").read()
    report_json = Path(paths["html"]).with_name("report.json")
    subject = _json.loads(report_json.read_text(encoding="utf-8"))["subject"]
    assert f"balance gap on {masked}" in subject
    assert f"statement not adding up on {masked}" in subject
    assert eur not in subject and eur[-8:] not in subject and cny not in subject

    wb = load_workbook(paths["xlsx"])

    def sheet(name: str) -> list[dict]:
        rows = list(wb[name].iter_rows(values_only=True))
        return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]

    checks = {(r["Opening"], r["Closing"]): r for r in sheet("Statements")}
    assert checks[(1000, 880)]["Check"] == "opening + movements = closing"
    assert checks[(1000, 880)]["Movements"] == -120 and checks[(1000, 880)]["Difference"] == 0
    assert checks[(880, 1000)]["Difference"] == 50 and checks[(880, 1000)]["Account"] == masked
    [g] = sheet("Balance gaps")
    assert g["What"].startswith(f"the statement of account {masked} from 2026-01-05")

    accounts = {r["Currency"]: r for r in sheet("Ledger vs bank")}
    assert accounts["EUR"]["Bank balance"] == 1000 and accounts["EUR"]["Ledger balance"] == 1000
    assert accounts["EUR"]["Difference"] == 0 and accounts["EUR"]["Note"] == "agrees"
    assert accounts["EUR"]["Account"] == masked
    assert accounts["CNY"]["Bank balance"] is None
    assert accounts["CNY"]["Note"] == "no statement with a closing balance yet"

    by_rule = {r["Rule"]: r for r in sheet("New matches by rule")}
    exact = by_rule["reference+exact_amount"]
    assert (exact["Status"], exact["Matches"], exact["Amount"]) == ("auto", 1, 100)
    by_rule = {r["Rule"]: r for r in sheet("New matches by rule")}
    assert by_rule["reference+tolerance"]["Status"] == "suggested"
    [s] = sheet("Suggestions")
    assert (s["Invoice"], s["Would settle"], s["Score"]) == ("NA-77", 21.5, 0.7)
    [w] = sheet("Write-offs")
    assert (w["Invoice"], w["Difference"], w["Account"], w["Status"]) == (
        "NA-77",
        1.5,
        "8999",
        "suggested",
    )
    unmatched = sheet("Unmatched lines")
    assert {u["Reference"] for u in unmatched} == {"NA-77", "refund"}  # a suggestion: open
    buckets = {b["Age"]: b for b in sheet("Unmatched by age")}
    assert buckets["0-7 days"]["Lines"] == 2 and buckets["0-7 days"]["Amount"] == 90
    assert buckets["total"]["Amount"] == 90

    assert "No suggestions await a decision" not in html and "awaiting a decision" in html
    assert _unmasked(html, rt) == []
