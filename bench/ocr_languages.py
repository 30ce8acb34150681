"""Benchmark: which tesseract language data to read a German, French, Dutch or Spanish
scan with, by field accuracy and CPU (the measurement in docs/ocr_decisions.md).

The four invoices of closeflow.sample.local_invoices (LOCAL_INVOICES) are rendered, scanned at
200 dpi with noise (closeflow.sample.scan.office_scan, --seeds different skews and noise) and read
by `extract_file` with the page language forced to each configuration: `eng`, the
document's own language alone (`X`: deu, fra, nld, spa), `eng+X`, and `auto` (what
ocr.script.ocr_page chooses: the `eng` pass, then `X` for a European page). Per scan
14 fields are compared with what the invoice prints; CPU is tesseract's (child processes).
The benchmark prints; it never fails.

    python bench/ocr_languages.py [--seeds 1,2,3,4] [--configs eng,X,eng+X,auto]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from closeflow.sample.local_invoices import (  # noqa: E402
    LOCAL_INVOICES,
    LocalInvoice,
    render_local,
)
from closeflow.sample.scan import office_scan as scan  # noqa: E402
from ocr import extract, script  # noqa: E402
from ocr.normalize import compact, parse_amount, parse_date  # noqa: E402

TODAY = dt.date(2026, 3, 1)  # "now" for the future-date check of the 2026 invoices

TESSERACT = {"de": "deu", "fr": "fra", "nl": "nld", "es": "spa"}
ANGLES = [0.8, -0.6, 0.4, -1.0, 1.2]
TERMS_DUE = {"de": dt.date(2026, 1, 19), "nl": dt.date(2026, 2, 4)}  # from the printed terms


def truth(inv: LocalInvoice) -> dict:
    return {
        "invoice_number": inv.number,
        "invoice_date": parse_date(inv.date),
        "due_date": parse_date(inv.due) if inv.due else TERMS_DUE[inv.language],
        "subtotal": parse_amount(inv.subtotal),
        "tax_amount": parse_amount(inv.vat),
        "total": parse_amount(inv.total),
        "currency": "EUR",
        "supplier_tax_id": inv.supplier_vat,
        "supplier_iban": compact(inv.iban),
        "payment_reference": compact(inv.reference)
        if inv.reference.startswith("RF")
        else inv.reference,
        "buyer_tax_id": inv.buyer_vat,
        "supplier_name": inv.supplier,
        "language": inv.language,
        "items": [(d, parse_amount(q), parse_amount(a)) for d, q, _, a in inv.lines],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1,2,3,4")
    ap.add_argument("--configs", default="eng,X,eng+X,auto")
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    configs = args.configs.split(",")

    forced: dict[str, str | None] = {"lang": None}
    ocr_page = script.ocr_page

    def forced_ocr_page(image, **kw):  # noqa: ANN001, ANN202
        if forced["lang"]:
            kw["lang"] = forced["lang"]
        return ocr_page(image, **kw)

    extract.tesseract.ocr_page = forced_ocr_page
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for inv in LOCAL_INVOICES:
            pdf = render_local(folder / f"{inv.language}.pdf", inv)
            want = truth(inv)
            for seed in seeds:
                image = scan(
                    pdf, folder / f"{inv.language}-{seed}.png", angle=ANGLES[seed % 5], seed=seed
                )
                for cfg in configs:
                    forced["lang"] = (
                        None if cfg == "auto" else cfg.replace("X", TESSERACT[inv.language])
                    )
                    before = resource.getrusage(resource.RUSAGE_CHILDREN)
                    got = extract.extract_file(image, today=TODAY)
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                    read = got.model_dump()
                    read["items"] = [(i.description, i.quantity, i.amount) for i in got.line_items]
                    wrong = {k: read.get(k) for k in want if read.get(k) != want[k]}
                    for key in ((inv.language, cfg), ("all", cfg)):
                        t = totals[key]
                        t[0] += len(want) - len(wrong)
                        t[1] += len(want)
                        t[2] += got.status == "extracted"
                        t[3] += 1
                        t[4] += cpu
                    print(
                        f"{inv.language} seed={seed} {cfg:8s} cpu {cpu:4.2f} s  "
                        f"{len(want) - len(wrong)}/{len(want)}  {got.status}  wrong={wrong}",
                        flush=True,
                    )
    print(
        f"\n{'language':8s} {'config':8s} {'fields right':>16s} {'extracted':>10s} {'CPU/page':>9s}"
    )
    for (lang, cfg), (ok, n, done, pages, cpu) in sorted(totals.items()):
        print(
            f"{lang:8s} {cfg:8s} {ok:5.0f}/{n:<4.0f} {ok / n:6.1%} {done:4.0f}/{pages:<4.0f} "
            f"{cpu / pages:7.2f} s"
        )


if __name__ == "__main__":
    main()
