"""Benchmark: one week of nightly runs (ingest, bank, posting, reconciliation, report).

Prints seconds per night and per inbox file, and the ratio to a baseline measured in the
same run on the same files: the bare `tesseract` command on every image file plus
reading every PDF's text layer once (the unavoidable floor of the night's work). The
ratio shows what the pipeline adds over OCR itself. dbt is timed separately.

    python bench/nightly.py [--days 7]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def baseline(files: list[Path]) -> float:
    """Bare tesseract on images (one process per core) + pypdfium2 text of each PDF."""
    import pypdfium2 as pdfium

    images = [f for f in files if f.suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff")]
    pdfs = [f for f in files if f.suffix.lower() == ".pdf"]
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        list(
            pool.map(
                lambda f: subprocess.run(
                    ["tesseract", str(f), "-", "-l", "eng"], env=env, capture_output=True
                ),
                images,
            )
        )
    for f in pdfs:
        try:
            doc = pdfium.PdfDocument(str(f))
            for page in doc:
                page.get_textpage().get_text_range()
            doc.close()
        except pdfium.PdfiumError:
            pass
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args()
    from closeflow.bank_import import import_bank
    from closeflow.dbt import build
    from closeflow.ingest import ingest_window
    from closeflow.invoice_posting import post
    from closeflow.reconciliation import reconcile_window
    from closeflow.report import nightly_report
    from closeflow.runtime import Runtime, Window
    from closeflow.sample import generate

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        generate(home, start=dt.date(2026, 1, 1), months=1, seed=7, days=args.days)
        files = sorted(p for p in (home / "inbox").iterdir() if p.is_file())
        rt = Runtime(home=home, warehouse_url=f"duckdb:///{home / 'wh.duckdb'}")
        base = baseline(files)
        t = time.perf_counter()
        for i in range(args.days):
            w = Window.day(dt.date(2026, 1, 1) + dt.timedelta(days=i), rt.tz)
            ingest_window(rt, w)
            for step in (import_bank, post, reconcile_window):
                step(rt, w)
            nightly_report(rt, w)
        pipeline = time.perf_counter() - t
        t = time.perf_counter()
        build(rt.warehouse_url)
        dbt_s = time.perf_counter() - t
    print(f"files: {len(files)} over {args.days} nights")
    print(
        f"pipeline without dbt: {pipeline:.1f} s ({pipeline / args.days:.2f} s/night, "
        f"{pipeline / max(1, len(files)):.2f} s/file)"
    )
    print(f"baseline (bare tesseract + PDF text): {base:.1f} s")
    print(f"ratio pipeline/baseline: {pipeline / base:.2f}")
    print(f"dbt build (all models and tests, once): {dbt_s:.1f} s")


if __name__ == "__main__":
    main()
