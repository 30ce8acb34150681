"""Benchmark: which image preprocessing (and which orientation check) reads invoices best.

Generates office scans and phone photos of invoices whose fields are known (with
closeflow.sample.layouts, .photo and .scan), reads each through `ocr.extract.extract_file`
once per candidate pipeline of `ocr.preprocess.prepare` steps, and prints per-field
exact-match accuracy and seconds per page (wall, and CPU including the tesseract
processes) for each:

    none        the grey image as it comes
    current     deskew + upscale under 150 dpi + median filter at 250 dpi and more
    +camera-dpi current, and a stated 72/96 dpi (a camera default) is ignored
    +flatten    current, and uneven light divided out (only where the light is uneven)
    +page+down  +camera-dpi, a sheet on a darker surface cropped out, its dpi taken from
                its width, pages over 400 dpi downscaled
    +page+normN ... and a photographed sheet resampled to N dpi
    ...+paper   ... and the sheet's paper (A4, US Letter, receipt) told by its shape
    ...+keystone+paper  ... and the sheet squared up from its four corners
    ...+otsu / +sauvola  binarised

With --orientation it instead turns the scans by 0/90/180/270 degrees and compares the
ways to find the page's orientation (tesseract OSD always at full size, OSD always on a
half-size copy, or the pipeline's: OSD only when the lines run vertically or the upright
pass reads badly).

    python bench/ocr_preprocess.py [--only current,+page+down] [--orientation]

The figures, and the pipeline chosen from them (+page+norm250+flatten+keystone+paper),
are in docs/ocr_decisions.md. A run of every pipeline takes ~10 CPU minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

os.environ["OMP_THREAD_LIMIT"] = "1"

import pytesseract  # noqa: E402

from closeflow.sample.layouts import (  # noqa: E402
    TODAY,
    ChineseInvoice,
    EnglishInvoice,
    render_chinese,
    render_english,
)
from closeflow.sample.photo import phone_photo, turned  # noqa: E402
from closeflow.sample.scan import office_scan as scan  # noqa: E402
from ocr import extract, orientation, preprocess, script, tesseract  # noqa: E402

FIELDS = ("invoice_number", "invoice_date", "subtotal", "tax_amount", "total")
CURRENT = frozenset({"deskew", "upscale", "median"})
PHOTO = CURRENT | {"camera-dpi", "page", "downscale", "flatten"}
PIPELINES = {  # name: (steps, PHOTO_DPI for "normalise")
    "none": (frozenset(), 300),
    "current": (CURRENT, 300),
    "+camera-dpi": (CURRENT | {"camera-dpi"}, 300),
    "+flatten": (CURRENT | {"flatten"}, 300),
    "+page+down": (CURRENT | {"camera-dpi", "page", "downscale"}, 300),
    "+page+down+flatten": (PHOTO, 300),
    "+page+norm250+flatten": (PHOTO | {"normalise"}, 250),
    "+page+norm250+flatten+paper": (PHOTO | {"normalise", "paper"}, 250),
    "+page+norm250+flatten+keystone+paper": (PHOTO | {"normalise", "paper", "keystone"}, 250),
    "+page+norm300+flatten": (PHOTO | {"normalise"}, 300),
    "+page+norm400+flatten": (PHOTO | {"normalise"}, 400),
    "+page+norm300+flatten+otsu": (PHOTO | {"normalise", "otsu"}, 300),
    "+page+norm300+sauvola": (PHOTO - {"flatten"} | {"normalise", "sauvola"}, 300),
}

V2 = EnglishInvoice(
    number="KL-7731-2026",
    date="17 Feb 2026",
    due="19 Mar 2026",
    lines=(
        ("Desk lamp LED", "3", "24.90", "74.70"),
        ("Monitor arm, double", "1", "89.00", "89.00"),
    ),
    subtotal="163.70",
    vat="31.10",
    total="194.80",
)
V3 = EnglishInvoice(
    number="INV-58213",
    date="28 Jan 2026",
    due="27 Feb 2026",
    lines=(
        ("Office chair Ergo", "2", "149.00", "298.00"),
        ("Whiteboard markers, 12 pcs", "5", "6.80", "34.00"),
    ),
    subtotal="332.00",
    vat="63.08",
    total="395.08",
)


def _truth_en(inv: EnglishInvoice) -> dict:
    return {
        "invoice_number": inv.number,
        "invoice_date": dt.datetime.strptime(inv.date, "%d %b %Y").date(),
        "subtotal": Decimal(inv.subtotal.replace(",", "")),
        "tax_amount": Decimal(inv.vat.replace(",", "")),
        "total": Decimal(inv.total.replace(",", "")),
    }


TRUTH_CN = {
    "invoice_number": ChineseInvoice.number,
    "invoice_date": dt.date(2026, 1, 5),
    "subtotal": Decimal("1000.00"),
    "tax_amount": Decimal("130.00"),
    "total": Decimal("1130.00"),
}


def corpus(folder: Path) -> list[tuple[str, str, Path, dict]]:
    """(kind, name, file, truth): office scans and phone photos."""
    pdfs = {}
    for name, inv in (("v1", EnglishInvoice()), ("v2", V2), ("v3", V3)):
        pdfs[name] = (render_english(folder / f"{name}.pdf", inv), _truth_en(inv))
    cn = render_chinese(folder / "cn.pdf")
    docs = [
        ("scan", "en 200 dpi png", scan(pdfs["v1"][0], folder / "s1.png"), pdfs["v1"][1]),
        (
            "scan",
            "en 150 dpi jpeg",
            scan(pdfs["v2"][0], folder / "s2.jpg", dpi=150, angle=-1.2, seed=3),
            pdfs["v2"][1],
        ),
        (
            "scan",
            "en 300 dpi png",
            scan(pdfs["v3"][0], folder / "s3.png", dpi=300, angle=0.3, seed=4),
            pdfs["v3"][1],
        ),
        ("scan", "cn 200 dpi jpeg", scan(cn, folder / "s4.jpg", angle=-0.6, seed=2), TRUTH_CN),
    ]
    photos = [  # version, long side, seed, shadow, cast shadow, JPEG quality
        ("v1", 4032, 1, 0.45, 0.0, 85),
        ("v2", 2000, 2, 0.5, 0.45, 80),
        ("v3", 1600, 3, 0.55, 0.0, 75),
        ("v1", 2000, 4, 0.65, 0.5, 70),
        ("v2", 3000, 5, 0.4, 0.4, 85),
        ("v3", 2400, 6, 0.5, 0.55, 75),
    ]
    for name, side, seed, shadow, cast, quality in photos:
        pdf, truth = pdfs[name]
        path = phone_photo(
            pdf,
            folder / f"p{seed}.jpg",
            seed=seed,
            long_side=side,
            shadow=shadow,
            cast_shadow=cast,
            quality=quality,
        )
        label = f"en {side}px q{quality} shadow {shadow} cast {cast}"
        docs.append(("photo", label, path, truth))
    path = phone_photo(cn, folder / "p9.jpg", seed=9, long_side=2000, shadow=0.45, cast_shadow=0.4)
    docs.append(("photo", "cn 2000px q80 shadow 0.45 cast 0.4", path, TRUTH_CN))
    return docs


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def read(path: Path) -> tuple[dict, float, float]:
    """Fields read from `path`, wall seconds and CPU seconds (tesseract included)."""
    wall, cpu = time.perf_counter(), _cpu()
    inv = extract.extract_file(path, today=TODAY)
    found = {f: getattr(inv, f) for f in FIELDS}
    return found, time.perf_counter() - wall, _cpu() - cpu


def bench_preprocess(docs: list, names: list[str]) -> None:
    steps, photo_dpi = preprocess.PREPARE_STEPS, preprocess.PHOTO_DPI
    print(f"{'pipeline':26} {'kind':6} " + " ".join(f"{f[:8]:>8}" for f in FIELDS), end="")
    print(f" {'all':>6} {'s/page':>7} {'cpu/pg':>7}")
    for name in names:
        preprocess.PREPARE_STEPS, preprocess.PHOTO_DPI = PIPELINES[name]
        per_kind: dict[str, list] = defaultdict(list)
        for kind, label, path, truth in docs:
            found, wall, cpu = read(path)
            per_kind[kind].append((label, found, truth, wall, cpu))
        for kind in ("scan", "photo"):
            rows = per_kind[kind]
            hits = {f: sum(found[f] == truth[f] for _, found, truth, _, _ in rows) for f in FIELDS}
            every = sum(all(found[f] == truth[f] for f in FIELDS) for _, found, truth, _, _ in rows)
            wall = sum(r[3] for r in rows) / len(rows)
            cpu = sum(r[4] for r in rows) / len(rows)
            print(f"{name:26} {kind:6} ", end="")
            print(" ".join(f"{hits[f]:>4}/{len(rows):<3}" for f in FIELDS), end="")
            print(f" {every:>3}/{len(rows):<2} {wall:7.2f} {cpu:7.2f}")
            for label, found, truth, _, _ in rows:
                wrong = [f"{f}={found[f]!r}" for f in FIELDS if found[f] != truth[f]]
                if wrong:
                    print(f"    {label}: {', '.join(wrong)}")
        sys.stdout.flush()
    preprocess.PREPARE_STEPS, preprocess.PHOTO_DPI = steps, photo_dpi


def _osd_half(image, dpi: int | None, timeout: float) -> int:  # noqa: ANN001
    """OSD on a half-size copy, as it is (`orientation.orientation` would enlarge it again)."""
    small = image.convert("L").reduce(2)
    small.format = "PPM"
    half_dpi = round((dpi or min(image.size) / 8.3) / 2)
    try:
        osd = pytesseract.image_to_osd(
            small, config=f"--psm 0 --dpi {half_dpi}", timeout=timeout,
            output_type=pytesseract.Output.DICT,
        )  # fmt: skip
    except (pytesseract.TesseractError, RuntimeError, ValueError, KeyError):
        return 0
    rotate = int(osd.get("rotate", 0)) % 360
    if float(osd.get("orientation_conf", 0)) < tesseract.OSD_MIN_CONF:
        return 0
    return rotate if rotate in (90, 180, 270) else 0


def _osd_always(half: bool):  # noqa: ANN202
    def ocr(image, dpi, timeout, page, lang, min_skew=None):  # noqa: ANN001, ANN202
        if half:
            rotate = _osd_half(image, dpi, timeout)
        else:
            rotate = orientation.orientation(image, dpi, timeout)
        turned = orientation.turn(image, rotate)
        options = {"dpi": dpi, "timeout": timeout, "page": page, "min_skew": min_skew}
        return (*script.ocr_page(turned, lang=lang, **options), turned)

    return ocr


def bench_orientation(folder: Path, docs: list, only: list[str]) -> None:
    scans = [d for d in docs if d[0] == "scan"]
    strategies = {
        "no orientation": lambda image, dpi, timeout, page, lang, min_skew=None: (
            *script.ocr_page(
                image, dpi=dpi, timeout=timeout, page=page, lang=lang, min_skew=min_skew
            ),
            image,
        ),
        "OSD always full size": _osd_always(half=False),
        "OSD always half size": _osd_always(half=True),
        "OSD when needed (chosen)": extract._ocr,
    }
    chosen = extract._ocr
    print(f"{'strategy':26} {'turned':>6} {'fields':>9} {'s/page':>7} {'cpu/pg':>7}")
    for name, strategy in strategies.items():
        if only and name not in only:
            continue
        extract._ocr = strategy
        for degrees in (0, 90, 180, 270):
            hits = n = 0
            wall = cpu = 0.0
            for _, _, path, truth in scans:
                out = folder / f"t{degrees}-{path.stem}.png"
                found, w, c = read(turned(path, out, degrees) if degrees else path)
                hits += sum(found[f] == truth[f] for f in FIELDS)
                n += len(FIELDS)
                wall += w
                cpu += c
            k = len(scans)
            print(f"{name:26} {degrees:>6} {hits:>4}/{n:<4} {wall / k:7.2f} {cpu / k:7.2f}")
            sys.stdout.flush()
    extract._ocr = chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated pipeline/strategy names", default="")
    parser.add_argument("--orientation", action="store_true")
    args = parser.parse_args()
    names = [n for n in args.only.split(",") if n] or list(PIPELINES)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        docs = corpus(folder)
        print(f"{len(docs)} documents: " + "; ".join(f"{k} {label}" for k, label, _, _ in docs))
        if args.orientation:
            bench_orientation(folder, docs, [n for n in args.only.split(",") if n])
        else:
            bench_preprocess(docs, names)


if __name__ == "__main__":
    main()
