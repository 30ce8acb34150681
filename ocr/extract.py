"""One document file in, one `ExtractedInvoice` out: the entry point of the ocr package.

    extract_file(path, suppliers=None) -> ExtractedInvoice
    extract_files(paths, suppliers=None) -> list[ExtractedInvoice]

Digital PDF pages are read from their text layer; scanned pages and images go through
tesseract. Bad input never raises: it comes back `quarantined` with the reason, and an
invoice that fails a check comes back `needs_review` with the reasons.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import pytesseract

from ocr import load, pdf, tesseract
from ocr.fields import Fields, document_type, extract_fields, language
from ocr.items import line_items
from ocr.layout import Line, Word, build_lines
from ocr.model import ExtractedInvoice, ExtractionMethod
from ocr.normalize import parse_rate
from ocr.suppliers import SupplierLike, match_supplier
from ocr.validate import DEFAULT_MIN_CONFIDENCE, not_an_invoice, review_reasons

log = logging.getLogger(__name__)

DEFAULT_DPI = 300
MONEY_FIELDS = ("subtotal", "tax_amount", "total")
HEADER_FIELDS = (
    "supplier_name",
    "supplier_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "invoice_number",
    "invoice_date",
    "due_date",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "payment_reference",
    "supplier_iban",
)


def _read_words(
    file: load.InputFile, dpi: int, timeout: float
) -> tuple[list[Word], ExtractionMethod]:
    """All words of the document and how they were read. Raises Unreadable / OcrTimeout."""
    words: list[Word] = []
    methods: set[str] = set()
    lang: str | None = None
    if file.media_type == load.PDF:
        # pdfium is not thread-safe: all its work happens in one locked pass, tesseract
        # (a child process per page) runs outside the lock.
        for n, page_words, image, used_dpi in pdf.read_pages(file.data, dpi):
            if image is None:
                words += page_words
                methods.add("text")
                continue
            page_words, lang = tesseract.ocr_page(
                image, dpi=used_dpi, timeout=timeout, page=n, lang=lang
            )
            words += page_words
            methods.add("ocr")
    else:
        for n, (image, image_dpi) in enumerate(load.open_images(file.data)):
            page_words, lang = tesseract.ocr_page(
                image, dpi=image_dpi, timeout=timeout, page=n, lang=lang
            )
            words += page_words
            methods.add("ocr")
    if len(methods) > 1:
        return words, "mixed"
    return words, "text" if "text" in methods else "ocr"


def _attach_items(inv: ExtractedInvoice, lines: list[Line], fields: Fields) -> None:
    """Keep the table's items only if they add up to the net amount (or to a tax-free total)."""
    items = line_items(lines)
    if not items:
        return
    target = inv.subtotal
    if target is None and inv.tax_amount in (None, Decimal(0)):
        target = inv.total
    if target is None or sum((abs(i.amount) for i in items), Decimal(0)) != abs(target):
        return
    tax = fields.values.get("tax_amount")
    rate = parse_rate(lines[tax.line].text) if tax is not None else None
    for item in items:
        if item.tax_rate is None:
            item.tax_rate = rate
    inv.line_items = items


LOOKALIKE_RX = re.compile(r"(?<=\d)[OIl]|[OIl](?=\d)")
LOOKALIKE_CONFIDENCE = 0.5


def _doubt_lookalikes(inv: ExtractedInvoice, confidence: dict[str, float]) -> None:
    """An OCR'd id with O, I or l beside a digit ("ARO000605") is the classic misread of
    0 and 1: never trust it without a look, however sure tesseract was."""
    for name in ("invoice_number", "payment_reference"):
        value = getattr(inv, name)
        if value and LOOKALIKE_RX.search(value):
            confidence[name] = min(confidence[name], LOOKALIKE_CONFIDENCE)


def _build(
    base: dict,
    lines: list[Line],
    method: ExtractionMethod,
    suppliers: Sequence[SupplierLike] | None,
    min_confidence: float,
    today: dt.date | None,
) -> ExtractedInvoice:
    fields = extract_fields(lines)
    text = "\n".join(line.text for line in lines)
    inv = ExtractedInvoice(
        **base,
        extraction_method=method,
        language=language(text),
        document_type=document_type(lines),
    )
    confidence: dict[str, float] = {}
    for name in HEADER_FIELDS:
        found = fields.values.get(name)
        if found is None:
            continue
        value = found.value
        if name in MONEY_FIELDS and inv.document_type == "credit_note":
            value = abs(value)
        setattr(inv, name, value)
        confidence[name] = found.conf
    if method != "text":
        _doubt_lookalikes(inv, confidence)
    if inv.payment_reference is None and inv.language == "zh" and inv.invoice_number:
        inv.payment_reference = inv.invoice_number  # 发票号码 is what a payment quotes
        confidence["payment_reference"] = confidence["invoice_number"]
    if suppliers:
        match = match_supplier(
            suppliers,
            tax_id=inv.supplier_tax_id,
            iban=inv.supplier_iban,
            name=inv.supplier_name,
            text=text,
            buyer_tax_id=inv.buyer_tax_id,
            buyer_name=inv.buyer_name,
        )
        if match:
            inv.supplier_id = match.supplier.supplier_id
            inv.supplier_name = match.supplier.name
            confidence["supplier_id"] = confidence["supplier_name"] = match.confidence
            if inv.currency is None and getattr(match.supplier, "currency", None):
                inv.currency = match.supplier.currency
                confidence["currency"] = 0.8
    inv.field_confidence = confidence
    _attach_items(inv, lines, fields)
    reason = not_an_invoice(inv, text)
    if reason:
        inv.status, inv.review_reasons = "quarantined", [reason]
        return inv
    words_total = fields.amount_in_words.value if fields.amount_in_words else None
    if words_total is not None and inv.document_type == "credit_note":
        words_total = abs(words_total)
    inv.review_reasons = review_reasons(
        inv, amount_in_words=words_total, min_confidence=min_confidence, today=today
    )
    inv.status = "needs_review" if inv.review_reasons else "extracted"
    return inv


def _quarantined(base: dict, reason: str, **extra: object) -> ExtractedInvoice:
    return ExtractedInvoice(**base, status="quarantined", review_reasons=[reason], **extra)


def extract_file(
    path: Path | str,
    suppliers: Sequence[SupplierLike] | None = None,
    *,
    dpi: int = DEFAULT_DPI,
    ocr_timeout: float = tesseract.DEFAULT_TIMEOUT,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    today: dt.date | None = None,
) -> ExtractedInvoice:
    """Read one invoice file (PDF, PNG, JPEG or TIFF) into an ExtractedInvoice.

    `suppliers` (e.g. closeflow.config.Supplier) identify the issuer; `dpi` is the
    resolution scanned PDF pages are rendered at; `ocr_timeout` bounds each tesseract
    call in seconds; fields read with less than `min_confidence` need review; `today`
    anchors the "date in the future" check. Bad input comes back quarantined with the
    reason; the only exceptions are OSError when the file cannot be read at all and a
    missing tesseract installation.
    """
    file = load.read_input(path)
    base = {
        "file": str(path),
        "file_sha256": file.sha256,
        "media_type": file.media_type,
        "size_bytes": file.size_bytes,
    }
    try:
        load.check_supported(file)
        words, method = _read_words(file, dpi, ocr_timeout)
        if not words:
            return _quarantined(
                base,
                "no text could be read (a blank page or a scan too poor to read)",
                extraction_method=method,
            )
        return _build(base, build_lines(words), method, suppliers, min_confidence, today)
    except load.Unreadable as exc:
        return _quarantined(base, exc.reason)
    except tesseract.OcrTimeout as exc:
        return _quarantined(base, str(exc), extraction_method="ocr")
    except tesseract.OcrFailed as exc:
        return _quarantined(
            base, f"OCR could not read the document ({exc})", extraction_method="ocr"
        )
    except pytesseract.TesseractNotFoundError:
        raise
    except Exception as exc:  # a bug must not stop the batch: quarantine and log it
        log.exception("extracting %s failed", path)
        return _quarantined(
            base, f"could not be read automatically (internal error: {type(exc).__name__})"
        )


def extract_files(
    paths: Iterable[Path | str],
    suppliers: Sequence[SupplierLike] | None = None,
    **options: object,
) -> list[ExtractedInvoice]:
    """`extract_file` for each path, in order (options as for extract_file)."""
    return [extract_file(p, suppliers, **options) for p in paths]
