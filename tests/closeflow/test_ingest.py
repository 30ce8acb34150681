"""Ingest of one window on DuckDB: every received file in the manifest exactly once, the
count check failing loudly when a file was not read, and a re-run replacing its rows."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from closeflow.ingest import extract_batch, load_window, make_batches, scan_inbox
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
    assert Path(paths[0]).as_posix() in str(err.value)
    assert runtime.warehouse.scalar("SELECT count(*) FROM raw.file_manifest") == 0


def test_every_file_ends_in_one_state_and_a_rerun_replaces(runtime: Runtime) -> None:
    window = Window.day(DAY, runtime.tz)
    paths = scan_inbox(runtime, window)
    summary = load_window(runtime, window, _batches(runtime, window, paths))
    manifest = runtime.warehouse.read_table("file_manifest").to_pylist()
    assert sorted(m["source_uri"] for m in manifest) == sorted(paths)
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
        if d["kind"] == "digital_pdf"
        and manifest.get(str(runtime.home / d["file"]), {}).get("status") == "extracted"
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
    assert rows[str(copy)]["status"] == "duplicate"
    assert rows[str(copy)]["reason"] == f"same file content as {source}"
    assert rows[str(rescan)]["status"] == "duplicate"
    assert rows[str(rescan)]["reason"] == (
        f"invoice {number} of this supplier already arrived as {source}"
    )
    invoice_ids = runtime.warehouse.read_table("invoices").column("invoice_id").to_pylist()
    assert invoice_ids.count(original["sha256"]) == 1
    assert rows[str(copy)]["file_sha256"] == original["sha256"]  # so counted once above
    assert rows[str(rescan)]["file_sha256"] not in invoice_ids


def test_a_chinese_vat_invoice_is_known_by_its_code_and_number(tmp_path: Path) -> None:
    """发票代码 + 发票号码 identify a fapiao nationally: a second copy is a duplicate even
    when neither copy could be matched to a known supplier."""
    import json
    import os

    rt = Runtime(home=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}")
    rt.inbox.mkdir(parents=True)
    days = [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    for n, day in enumerate(days):
        path = rt.inbox / f"fapiao_{n}.jpg"
        path.write_bytes(f"scan {n}".encode())
        noon = dt.datetime(day.year, day.month, day.day, 11, tzinfo=dt.UTC).timestamp()
        os.utime(path, (noon, noon))
        doc = {
            "file": str(path),
            "file_sha256": f"{n}" * 64,
            "media_type": "image/jpeg",
            "size_bytes": 6,
            "status": "extracted",
            "review_reasons": [],
            "received_at": dt.datetime.fromtimestamp(noon, dt.UTC).isoformat(),
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
            "document_type": "invoice",
            "line_items": [],
        }
        batch = rt.staging / f"batch-{n}.jsonl"
        batch.parent.mkdir(parents=True, exist_ok=True)
        batch.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
        load_window(rt, Window.day(day, "Europe/Berlin"), [str(batch)])
    rows = sorted(rt.warehouse.read_table("file_manifest").to_pylist(), key=lambda r: r["run_id"])
    assert [r["status"] for r in rows] == ["extracted", "duplicate"]
    assert rows[1]["reason"] == (
        f"VAT invoice 发票代码 3100201130 发票号码 01234567 already arrived as "
        f"{rt.inbox / 'fapiao_0.jpg'}"
    )
    (invoice,) = rt.warehouse.read_table("invoices").to_pylist()
    assert (invoice["invoice_code"], invoice["invoice_kind"]) == ("3100201130", "vat_special")
    rt.warehouse.dispose()
