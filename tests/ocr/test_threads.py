"""Extraction from many threads at once (the ingest batch does this) gives the same results
as one file at a time. pdfium is not thread-safe (its documentation: concurrent calls
crash or corrupt the process); ocr.pdf keeps every pdfium call under one lock."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from closeflow.sample import generate
from ocr.extract import extract_file
from tests.conftest import SHARED


def test_concurrent_extraction_matches_sequential(tmp_path):
    generate(tmp_path, start=dt.date(2026, 1, 1), days=2, seed=7)
    pdfs = sorted((tmp_path / "inbox").glob("*.pdf")) + sorted((SHARED / "invoices").glob("*.pdf"))
    assert len(pdfs) >= 8
    sequential = [extract_file(f).to_json() for f in pdfs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = [d.to_json() for d in pool.map(extract_file, pdfs * 4)]
    assert concurrent == sequential * 4
