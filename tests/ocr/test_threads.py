"""Extraction from many threads at once (the ingest batch does this) gives the same results
as one file at a time. pdfium is not thread-safe (its documentation: concurrent calls
crash or corrupt the process); ocr.pdf keeps every pdfium call under one lock."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from closeflow.sample import generate
from ocr.extract import extract_file
from tests.conftest import SHARED
from tests.ocr.documents import scan


def test_concurrent_extraction_matches_sequential(tmp_path):
    generate(tmp_path, start=dt.date(2026, 1, 1), days=2, seed=7)
    pdfs = sorted((tmp_path / "inbox").glob("*.pdf")) + sorted((SHARED / "invoices").glob("*.pdf"))
    assert len(pdfs) >= 8
    sequential = [extract_file(f).to_json() for f in pdfs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = [d.to_json() for d in pool.map(extract_file, pdfs * 4)]
    assert concurrent == sequential * 4


def test_concurrent_scans_with_and_without_skew_match_sequential(english_pdf, tmp_path):
    # each page keeps its prepared image per deskew threshold (ocr.preprocess.PageCache):
    # pages skewed under, between and over the thresholds, read at once, must each come
    # out as read alone.
    scans = [
        scan(english_pdf, tmp_path / f"scan{k}.png", angle=angle, seed=k)
        for k, angle in enumerate((0.2, 0.7, -0.8, 1.3))
    ]
    sequential = [extract_file(f).to_json() for f in scans]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = [d.to_json() for d in pool.map(extract_file, scans * 2)]
    assert concurrent == sequential * 2
    assert [d["invoice_number"] for d in sequential] == ["NW-2026-0042"] * 4
