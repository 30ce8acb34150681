"""Ingest of one window on DuckDB: every received file in the manifest exactly once, the
count check failing loudly when a file was not read, and a re-run replacing its rows."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.ingest import extract_batch, load_window, make_batches, scan_inbox
from closeflow.intake import INVOICE, recorded
from closeflow.runtime import Runtime, Window
from closeflow.sample import generate

DAY = dt.date(2026, 1, 5)  # a Monday: the weekend's invoices arrive


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    home = tmp_path_factory.mktemp("ingest") / "home"
    generate(home, start=dt.date(2026, 1, 1), months=1, seed=7, days=6)
    rt = Runtime(home=home, warehouse_url=f"duckdb:///{home / 'warehouse.duckdb'}")
    yield rt
    rt.warehouse.dispose()


def _batches(rt: Runtime, window: Window, paths: list[str]) -> list[str]:
    return [extract_batch(rt, window, i, b) for i, b in enumerate(make_batches(paths, 2))]


def test_a_file_not_read_fails_the_count_check_and_writes_nothing(runtime: Runtime) -> None:
    window = Window.day(DAY, runtime.tz)
    paths = scan_inbox(runtime, window)
    assert len(paths) >= 3
    files = _batches(runtime, window, paths[1:])
    with pytest.raises(RuntimeError) as err:
        load_window(runtime, window, files)
    assert f"{len(paths)} files received, {len(paths) - 1} results" in str(err.value)
    first = recorded(runtime, INVOICE, window)[0]
    assert f"not read: ['{first.source_uri}']" in str(err.value)
    assert first.source_uri.startswith("inbox/")  # named as received, never a server path
    assert runtime.warehouse.scalar("SELECT count(*) FROM raw.file_manifest") == 0


def test_every_file_ends_in_one_state_and_a_rerun_replaces(runtime: Runtime) -> None:
    window = Window.day(DAY, runtime.tz)
    paths = scan_inbox(runtime, window)
    summary = load_window(runtime, window, _batches(runtime, window, paths))
    manifest = runtime.warehouse.read_table("file_manifest").to_pylist()
    received = sorted(a.source_uri for a in recorded(runtime, INVOICE, window))
    assert sorted(m["source_uri"] for m in manifest) == received and len(received) == len(paths)
    assert Counter(m["status"] for m in manifest) == Counter(summary.counts)
    assert sum(summary.counts.values()) == len(paths)
    assert all(m["reason"] for m in manifest if m["status"] != "extracted")
    before = sorted(runtime.warehouse.read_table("invoices").to_pylist(), key=repr)
    taxes = sorted(runtime.warehouse.read_table("invoice_taxes").to_pylist(), key=repr)
    load_window(runtime, window, _batches(runtime, window, paths))
    assert runtime.warehouse.scalar("SELECT count(*) FROM raw.file_manifest") == len(paths)
    assert sorted(runtime.warehouse.read_table("invoices").to_pylist(), key=repr) == before
    assert sorted(runtime.warehouse.read_table("invoice_taxes").to_pylist(), key=repr) == taxes


def test_the_tax_per_rate_is_stored_and_adds_up_to_the_invoice(runtime: Runtime) -> None:
    """Each extracted invoice's tax summary lands in raw.invoice_taxes: one row per rate,
    with the net per rate the generator printed, and the taxes (where every rate has one)
    adding up to the invoice's tax amount."""
    import json

    window = Window.day(DAY, runtime.tz)
    load_window(runtime, window, _batches(runtime, window, scan_inbox(runtime, window)))
    truth = {
        d["sha256"]: d for d in map(json.loads, (runtime.home / "truth" / "documents.jsonl").open())
    }
    stored: dict[str, dict] = {}
    for r in runtime.warehouse.read_table("invoice_taxes").to_pylist():
        assert r["tax_rate"] not in stored.setdefault(r["invoice_id"], {})
        stored[r["invoice_id"]][r["tax_rate"]] = (r["net_amount"], r["tax_amount"])
    extracted = runtime.warehouse.read_table("invoices", "status = 'extracted'").to_pylist()
    assert len(extracted) >= 2 and {i["invoice_id"] for i in extracted} <= set(stored)
    for inv in extracted:
        nets: dict[Decimal, Decimal] = {}
        for line in truth[inv["invoice_id"]]["lines"]:
            rate = Decimal(line["tax_rate"])
            nets[rate] = nets.get(rate, Decimal(0)) + abs(Decimal(line["amount"]))
        assert {r: n for r, (n, _) in stored[inv["invoice_id"]].items()} == nets
        taxes = [t for _, t in stored[inv["invoice_id"]].values()]
        if None not in taxes:
            assert sum(taxes) == inv["tax_amount"]
    rates = {r for parts in stored.values() for r in parts}
    assert rates == {Decimal("0.19"), Decimal("0.13")}  # a EUR and a CNY supplier this week


def test_a_rescan_of_a_posted_invoice_and_a_second_copy_are_duplicates(
    runtime: Runtime,
) -> None:
    """The supplier re-sends an invoice as a scan a day later, and the mail gateway drops
    the same file twice: both are marked duplicate with the reason, nothing posts twice."""
    import json
    import os
    import shutil

    from closeflow.sample.scan import ScanSettings, scan_pdf

    first = Window.day(DAY, runtime.tz)
    load_window(runtime, first, _batches(runtime, first, scan_inbox(runtime, first)))
    truth = [
        json.loads(line)
        for line in (runtime.home / "truth" / "documents.jsonl").read_text().splitlines()
    ]
    manifest = {
        m["source_uri"]: m for m in runtime.warehouse.read_table("file_manifest").to_pylist()
    }
    original = next(
        d
        for d in truth
        if d["kind"] == "digital_pdf" and manifest.get(d["file"], {}).get("status") == "extracted"
    )
    source = runtime.home / original["file"]
    settings = ScanSettings("png", 300, 0.3, 0.4, 2.0, 245, 20, 90)
    rescan = runtime.inbox / "rescan_of_original.png"
    rescan.write_bytes(scan_pdf(source.read_bytes(), settings, noise_seed=3))
    copy = runtime.inbox / "copy_of_original.pdf"
    shutil.copyfile(source, copy)
    later = dt.datetime(2026, 1, 6, 9, 30, tzinfo=dt.UTC).timestamp()
    for path in (rescan, copy):
        os.utime(path, (later, later))

    second = Window.day(DAY + dt.timedelta(days=1), runtime.tz)
    load_window(runtime, second, _batches(runtime, second, scan_inbox(runtime, second)))
    rows = {m["source_uri"]: m for m in runtime.warehouse.read_table("file_manifest").to_pylist()}
    number = original["invoice"]["invoice_number"]
    copy_uri, rescan_uri = "inbox/copy_of_original.pdf", "inbox/rescan_of_original.png"
    first_seen = f"{original['file']} (received {original['received_at'][:10]})"
    assert rows[copy_uri]["status"] == "duplicate"
    assert rows[copy_uri]["reason"] == f"same file content as {first_seen}"
    assert rows[rescan_uri]["status"] == "duplicate"
    assert rows[rescan_uri]["reason"] == (
        f"invoice {number} of this supplier already arrived as {first_seen}"
    )
    invoice_ids = runtime.warehouse.read_table("invoices").column("invoice_id").to_pylist()
    assert invoice_ids.count(original["sha256"]) == 1
    assert rows[copy_uri]["file_sha256"] == original["sha256"]  # so counted once above
    assert rows[rescan_uri]["file_sha256"] not in invoice_ids


def _bare_runtime(home: Path) -> Runtime:
    """An installation with a company and nothing else (no suppliers, no accounts)."""
    company = home / "company"
    company.mkdir(parents=True)
    (company / "company.yml").write_text('name: "Test GmbH"\n')
    (company / "chart_of_accounts.yml").write_text("accounts: []\n")
    (company / "suppliers.yml").write_text("suppliers: []\n")
    return Runtime(home=home, warehouse_url=f"duckdb:///{home / 'wh.duckdb'}")


def _fake_extraction(rt: Runtime, window: Window, fields: dict) -> list[str]:
    """The window's files received, "read" as `fields` (a stand-in for OCR, to test what
    load does with what extraction returns)."""
    import json

    docs = [
        {
            "file": path,
            "file_sha256": "",
            "media_type": "image/jpeg",
            "size_bytes": 6,
            "status": "extracted",
            "review_reasons": [],
            "document_type": "invoice",
            "line_items": [],
            **fields,
        }
        for path in scan_inbox(rt, window)
    ]
    batch = rt.staging / window.key / "batch-0000.jsonl"
    batch.parent.mkdir(parents=True, exist_ok=True)
    batch.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs))
    return [str(batch)]


def _drop(rt: Runtime, name: str, content: bytes, day: dt.date, hour: int = 11) -> None:
    import os

    path = rt.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    noon = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp()
    os.utime(path, (noon, noon))


FAPIAO = {
    "supplier_id": None,
    "supplier_name": "上海明远科技有限公司",
    "invoice_number": "01234567",
    "invoice_code": "3100201130",
    "invoice_kind": "vat_special",
    "invoice_date": "2026-01-05",
    "currency": "CNY",
    "subtotal": "1000.00",
    "tax_amount": "130.00",
    "total": "1130.00",
}


def test_a_chinese_vat_invoice_is_known_by_its_code_and_number(tmp_path: Path) -> None:
    """发票代码 + 发票号码 identify a fapiao nationally: a second copy is a duplicate even
    when neither copy could be matched to a known supplier."""
    rt = _bare_runtime(tmp_path)
    days = [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    for n, day in enumerate(days):
        _drop(rt, f"fapiao_{n}.jpg", f"scan {n}".encode(), day)
        window = Window.day(day, "Europe/Berlin")
        load_window(rt, window, _fake_extraction(rt, window, FAPIAO))
    rows = sorted(rt.warehouse.read_table("file_manifest").to_pylist(), key=lambda r: r["run_id"])
    assert [r["status"] for r in rows] == ["extracted", "duplicate"]
    assert rows[1]["reason"] == (
        "VAT invoice 发票代码 3100201130 发票号码 01234567 already arrived as "
        "inbox/fapiao_0.jpg (received 2026-01-05)"
    )
    (invoice,) = rt.warehouse.read_table("invoices").to_pylist()
    assert (invoice["invoice_code"], invoice["invoice_kind"]) == ("3100201130", "vat_special")
    rt.warehouse.dispose()


def test_an_unknown_suppliers_invoice_sent_twice_is_a_duplicate(tmp_path: Path) -> None:
    """A supplier not in the master data re-sends its invoice (other bytes: a new scan):
    the same issuer (tax id, else IBAN, else name), number and total make a duplicate;
    the same number over another total does not."""
    rt = _bare_runtime(tmp_path)
    unknown = {
        "supplier_id": None,
        "supplier_name": "Neuer Lieferant GmbH",
        "supplier_tax_id": "DE 123 456 789",
        "invoice_number": "R-17",
        "invoice_date": "2026-01-05",
        "currency": "EUR",
        "subtotal": "100.00",
        "tax_amount": "19.00",
        "total": "119.00",
    }
    reads = [
        (dt.date(2026, 1, 5), unknown),
        (dt.date(2026, 1, 6), unknown | {"supplier_tax_id": "DE123456789"}),  # same, spaced
        (dt.date(2026, 1, 7), unknown | {"total": "238.00", "subtotal": "200.00"}),
    ]
    for n, (day, fields) in enumerate(reads):
        _drop(rt, f"rechnung_{n}.pdf", f"scan {n}".encode(), day)
        window = Window.day(day, "Europe/Berlin")
        load_window(rt, window, _fake_extraction(rt, window, fields))
    rows = sorted(rt.warehouse.read_table("file_manifest").to_pylist(), key=lambda r: r["run_id"])
    assert [r["status"] for r in rows] == ["extracted", "duplicate", "extracted"]
    assert rows[1]["reason"] == (
        "invoice R-17 of Neuer Lieferant GmbH over 119.00 already arrived as "
        "inbox/rechnung_0.pdf (received 2026-01-05)"
    )
    assert rt.warehouse.scalar("SELECT count(*) FROM raw.invoices") == 2
    rt.warehouse.dispose()


def test_a_receipt_scanned_twice_is_a_duplicate(tmp_path: Path) -> None:
    """A till receipt has no number: the same merchant, date and total make a duplicate
    (an employee scans the same receipt again), another total does not."""
    rt = _bare_runtime(tmp_path)
    receipt = {
        "document_type": "receipt",
        "supplier_name": "UNIHAKKA INTERNATIONAL SDN BHD",
        "invoice_number": None,
        "invoice_date": "2018-06-22",
        "currency": "MYR",
        "total": "8.50",
    }
    reads = [receipt, receipt, receipt | {"total": "9.50"}]
    for n, fields in enumerate(reads):
        day = dt.date(2026, 1, 5 + n)
        _drop(rt, f"receipt_{n}.jpg", f"scan {n}".encode(), day)
        window = Window.day(day, "Europe/Berlin")
        load_window(rt, window, _fake_extraction(rt, window, fields))
    rows = sorted(rt.warehouse.read_table("file_manifest").to_pylist(), key=lambda r: r["run_id"])
    assert [r["status"] for r in rows] == ["extracted", "duplicate", "extracted"]
    assert rows[1]["reason"] == (
        "receipt of UNIHAKKA INTERNATIONAL SDN BHD of 2018-06-22 over 8.50 already arrived "
        "as inbox/receipt_0.jpg (received 2026-01-05)"
    )
    rt.warehouse.dispose()


def test_a_total_too_large_for_the_ledger_quarantines_only_that_file(tmp_path: Path) -> None:
    """A poison document (a total beyond DECIMAL(18,2), an amount with fractions of a
    cent) is quarantined with the reason; the window's other files load."""
    rt = _bare_runtime(tmp_path)
    day = dt.date(2026, 1, 5)
    good = {"supplier_name": "Good GmbH", "invoice_number": "1", "currency": "EUR"}
    _drop(rt, "good.pdf", b"good", day, hour=9)
    _drop(rt, "huge.pdf", b"huge", day, hour=10)
    window = Window.day(day, "Europe/Berlin")
    files = _fake_extraction(rt, window, good | {"total": "119.00", "subtotal": "100.00"})
    import json

    batch = Path(files[0])
    docs = [json.loads(line) for line in batch.read_text().splitlines()]
    docs[1] |= {"invoice_number": "2", "total": "123456789012345678901.00", "tax_amount": "0.001"}
    batch.write_text("".join(json.dumps(d) + "\n" for d in docs))
    summary = load_window(rt, window, files)
    assert summary.counts == {"extracted": 1, "quarantined": 1}
    huge = rt.warehouse.read_table("file_manifest", "source_uri = 'inbox/huge.pdf'").to_pylist()
    assert huge[0]["status"] == "quarantined"
    assert huge[0]["reason"] == (
        "the document's values do not fit the ledger: tax amount 0.001 has more than 2 "
        "decimals; total 123456789012345678901.00 is too large for the ledger (its amounts "
        "go up to 9999999999999999.99)"
    )
    alert = json.loads((tmp_path / "alerts" / "quarantined.jsonl").read_text().splitlines()[-1])
    assert alert["files"] == ["inbox/huge.pdf"] and "huge.pdf: the document" in alert["lines"][0]
    rt.warehouse.dispose()


def test_an_e_invoice_and_its_bare_xml_are_read_from_the_xml_and_the_second_is_a_duplicate(
    tmp_path: Path,
) -> None:
    """A Factur-X PDF goes through the night as an e-invoice (no OCR), and the same
    invoice sent again as its bare XML is recognised as the same invoice of the same
    issuer, number and total."""
    from pypdf import PdfReader

    from tests.conftest import SHARED

    pdf = SHARED / "einvoices" / "v2-correct-intarsys__zugferd_2p0_EN16931_Einfach.pdf"
    rt = _bare_runtime(tmp_path)
    day = dt.date(2026, 1, 5)
    _drop(rt, "rechnung.pdf", pdf.read_bytes(), day, hour=9)
    xml = next(iter(PdfReader(str(pdf)).attachments.values()))[0]
    _drop(rt, "rechnung.xml", xml, day, hour=10)
    window = Window.day(day, "Europe/Berlin")
    load_window(rt, window, _batches(rt, window, scan_inbox(rt, window)))
    rows = {r["source_uri"]: r for r in rt.warehouse.read_table("file_manifest").to_pylist()}
    assert rows["inbox/rechnung.pdf"]["status"] in ("extracted", "needs_review")
    assert rows["inbox/rechnung.xml"]["status"] == "duplicate"
    assert rows["inbox/rechnung.xml"]["reason"].endswith(
        "already arrived as inbox/rechnung.pdf (received 2026-01-05)"
    )
    (invoice,) = rt.warehouse.read_table("invoices").to_pylist()
    assert invoice["extraction_method"] == "einvoice" and invoice["total"] > 0
    rt.warehouse.dispose()
