"""One document file in, one `ExtractedInvoice` out: the entry point of the ocr package.

    extract_file(path, suppliers=None) -> ExtractedInvoice
    extract_files(paths, suppliers=None) -> list[ExtractedInvoice]

Digital PDF pages are read from their text layer; scanned pages and images go through
tesseract. Where an OCR'd invoice comes out needing review (a field missing or doubtful),
or its item table did not add up, a page the English pass left slightly skewed (under a
degree, ocr.preprocess.deskew_from) is read again straightened; where it still needs
review, the parts of its pages the pass read badly or not at all are read again
(ocr.reread). Each reading is kept if the invoice reads better. Bad input never raises:
it comes back `quarantined` with the reason, and an invoice that fails a check
comes back `needs_review` with the reasons.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytesseract
from PIL import Image

from closeflow.money import round_money
from ocr import einvoice, load, orientation, pdf, preprocess, receipts, reread, script, tesseract
from ocr.amounts import CORROBORATED
from ocr.chinese import invoice_kind
from ocr.fields import Fields, document_type, extract_fields
from ocr.items import line_items
from ocr.language import language
from ocr.layout import Line, Word, build_lines
from ocr.model import ExtractedInvoice, ExtractionMethod, LineItem
from ocr.normalize import find_amounts, parse_rate
from ocr.suppliers import SupplierLike, match_supplier, pin_master_data
from ocr.validate import (
    DEFAULT_MIN_CONFIDENCE,
    not_an_invoice,
    review_reasons,
    tax_breakdown,
    unread_reasons,
)

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
    "invoice_code",
    "check_code",
)
# An invoice whose date no label of ours names, read as a till prints it (labelled "DD",
# "Tarikh", or beside a time): doubtful, so it goes to review.
UNLABELLED_DATE = 0.5


def _sure(words: list[Word]) -> int:
    return sum(1 for w in words if w.conf >= orientation.UPRIGHT_CONF)


def _ocr(
    image: Image.Image,
    dpi: int | None,
    timeout: float,
    page: int,
    lang: str | None,
    min_skew: float | None,
    cache: preprocess.PageCache,
) -> tuple[list[Word], str, Image.Image]:
    """OCR one page image the right way up: its words (in the turned image's pixels), the
    language used and the image as turned.

    Orientation costs nothing on an upright page: tesseract's OSD (a pass as dear as OCR
    itself) is asked only when the text lines run vertically (a cheap projection test) or
    when the upright pass reads badly (a page upside down); see ocr.orientation.
    """
    turned = 0
    if orientation.lines_run_vertically(image, cache):
        turned = orientation.orientation(image, dpi, timeout)
        image = orientation.turn(image, turned)
    options = {"dpi": dpi, "timeout": timeout, "page": page, "min_skew": min_skew, "cache": cache}
    words, used = script.ocr_page(image, lang=lang, **options)
    if turned or not orientation.reads_badly(words):
        return words, used, image
    rotate = orientation.orientation(image, dpi, timeout)
    if rotate == 0:
        return words, used, image
    again_image = orientation.turn(image, rotate)
    again, again_lang = script.ocr_page(again_image, lang=lang, **options)
    if _sure(again) > _sure(words):
        return again, again_lang, again_image
    return words, used, image


@dataclasses.dataclass
class OcrPart:
    """One OCR'd image of the document (a scanned page, or an image region of a PDF page),
    kept for a second look (ocr.reread): the image as read, its resolution and language,
    its words in the image's pixels, and where they go on the page (None: they are the
    page; else the region and its number on the page)."""

    image: Image.Image
    dpi: int | None
    lang: str
    words: list[Word]
    region: tuple[pdf.Region, int] | None = None
    min_skew: float | None = None  # as read (ocr.script.ocr_page)
    # the page's prepared images, kept for the second look (ocr.preprocess.PageCache)
    cache: preprocess.PageCache = dataclasses.field(default_factory=preprocess.PageCache)
    skew_left: float = 0.0  # what its pass left unstraightened (ocr.preprocess.deskew_from)

    def __post_init__(self) -> None:
        # asked right after the pass, `prepare` still holds the answer (no second deskew)
        skew = preprocess.pass_skew(self.lang, self.min_skew)
        self.skew_left = preprocess.skew_left(self.image, self.dpi, skew, self.cache)

    def placed(self, words: list[Word]) -> list[Word]:
        return words if self.region is None else _placed(words, *self.region)


def _placed(words: list[Word], region: pdf.Region, k: int) -> list[Word]:
    """OCR words of a PDF region in the page's coordinates; each region's lines its own."""
    return [
        dataclasses.replace(
            w,
            x0=region.left + w.x0 * region.unit,
            y0=region.top + w.y0 * region.unit,
            x1=region.left + w.x1 * region.unit,
            y1=region.top + w.y1 * region.unit,
            run=None if w.run is None else (k, *w.run),
        )
        for w in words
    ]


def _read_document(
    file: load.InputFile, dpi: int, timeout: float, min_skew: float | None = None
) -> tuple[list[Word], list[OcrPart], ExtractionMethod]:
    """The text layer's words, the OCR'd images with their words, and how the document was
    read (scans straightened from `min_skew` degrees; None: as their language wants,
    ocr.preprocess.deskew_from). Raises Unreadable / OcrTimeout.

    "mixed": some words came from a text layer and some from OCR (a scanned page in a
    digital PDF, or an image region on a digital page).
    """
    text_words: list[Word] = []
    parts: list[OcrPart] = []
    methods: set[str] = set()
    lang: str | None = None
    if file.media_type == load.PDF:
        # pdfium is not thread-safe: all its work happens in one locked pass, tesseract
        # (a child process per region) runs outside the lock.
        for page in pdf.read_pages(file.data, dpi):
            if page.words:
                text_words += page.words
                methods.add("text")
            for k, region in enumerate(page.regions):
                cache = preprocess.PageCache()
                region_words, lang, image = _ocr(
                    region.image, region.dpi, timeout, page.number, lang, min_skew, cache
                )
                parts.append(
                    OcrPart(image, region.dpi, lang, region_words, (region, k), min_skew, cache)
                )
                methods.add("ocr")
    else:
        for n, (image, image_dpi) in enumerate(load.open_images(file.data)):
            image = receipts.trim_scanner_edges(image)  # a flatbed's black edges
            cache = preprocess.PageCache()
            page_words, lang, turned = _ocr(image, image_dpi, timeout, n, lang, min_skew, cache)
            parts.append(OcrPart(turned, image_dpi, lang, page_words, None, min_skew, cache))
            methods.add("ocr")
    if len(methods) > 1:
        return text_words, parts, "mixed"
    return text_words, parts, "text" if "text" in methods else "ocr"


def _all_words(text_words: list[Word], parts: list[OcrPart]) -> list[Word]:
    """The text layer's words and every OCR'd part's, in the page's coordinates."""
    return text_words + [w for part in parts for w in part.placed(part.words)]


def _read_words(
    file: load.InputFile, dpi: int, timeout: float
) -> tuple[list[Word], ExtractionMethod]:
    """All words of the document and how they were read (see `_read_document`)."""
    text_words, parts, method = _read_document(file, dpi, timeout)
    return _all_words(text_words, parts), method


def _reread(text_words: list[Word], parts: list[OcrPart], timeout: float) -> list[Word] | None:
    """The document's words with each OCR'd part given a second look (ocr.reread), or None
    where no part read differently."""
    changed = False
    words = list(text_words)
    for part in parts:
        again = reread.reread_page(
            part.image,
            part.dpi,
            part.words,
            part.lang,
            timeout=timeout,
            min_skew=part.min_skew,
            cache=part.cache,
        )
        changed |= again is not None
        words += part.placed(part.words if again is None else again)
    return words if changed else None


def _straightened(
    file: load.InputFile,
    dpi: int,
    timeout: float,
    inv: ExtractedInvoice,
    text_words: list[Word],
    parts: list[OcrPart],
    build: Callable[[list[Word]], ExtractedInvoice],
) -> tuple[ExtractedInvoice, list[Word], list[OcrPart]]:
    """The reading to go on with: where the English pass left a page slightly skewed
    (ocr.preprocess.deskew_from) and the invoice would go to review, or its item table did
    not add up, the document read again straightened, as every other pass reads it,
    unless the first reading was better (or the second failed); else the first."""
    wanting = inv.status == "needs_review" and _may_read_better(inv)
    skewed = any(abs(p.skew_left) >= preprocess.DESKEW_MIN_ANGLE for p in parts)
    if not skewed or not (wanting or inv._items_left_off):
        return inv, text_words, parts
    try:
        again_text, again_parts, _ = _read_document(file, dpi, timeout, preprocess.DESKEW_MIN_ANGLE)
    except (tesseract.OcrTimeout, tesseract.OcrFailed) as exc:
        log.warning("reading %s again straightened failed: %s", file.path, exc)
        return inv, text_words, parts
    again = build(_all_words(again_text, again_parts))
    if _better(inv, again):
        return inv, text_words, parts
    return again, again_text, again_parts


# A review reason no second look can settle: a tax id or IBAN read (with confidence: one
# read doubtfully has a "read with low confidence" reason of its own) that differs from
# the supplier master data by more than an OCR slip (ocr.suppliers.pin_master_data).
# Reading the same ink again reads the same value; the difference is for a person.
_MASTER_DATA_DIFFERENCE = re.compile(
    r" on the invoice differs from \S+ in the supplier master data of "
)


def _may_read_better(inv: ExtractedInvoice) -> bool:
    """Whether a second look could settle one of the invoice's review reasons: any but a
    master-data difference of a value read with confidence."""
    return any(not _MASTER_DATA_DIFFERENCE.search(r) for r in inv.review_reasons)


def _better(new: ExtractedInvoice, old: ExtractedInvoice) -> bool:
    """Whether a second reading of the document is to be kept: it came out extracted where
    the first did not, or it has fewer review reasons, or as many and more fields read, or
    as many and more line items attached."""

    def found(inv: ExtractedInvoice) -> int:
        return sum(getattr(inv, name) is not None for name in HEADER_FIELDS)

    if new.status == "quarantined":
        return False
    if (new.status == "extracted") != (old.status == "extracted"):
        return new.status == "extracted"
    receipt = "receipt" in (new.document_type, old.document_type)
    if receipt and (new.total is None) != (old.total is None):  # a receipt is its total
        return new.total is not None
    if len(new.review_reasons) != len(old.review_reasons):
        return len(new.review_reasons) < len(old.review_reasons)
    return (found(new), len(new.line_items)) > (found(old), len(old.line_items))


def _document_rate(lines: list[Line], fields: Fields) -> tuple[Decimal, Decimal | None] | None:
    """The one tax rate printed beside the tax amount ("VAT 19%: 23.28"), and the base it
    is charged on where the line prints one ("Tax 15% on $ 112.90 $ 16.94")."""
    tax = fields.values.get("tax_amount")
    if tax is None or tax.parts != 1:
        return None
    text = lines[tax.line].text
    rate = parse_rate(text)
    if rate is None:
        return None
    others = [a.value for a in find_amounts(text[: tax.pos]) if a.has_decimals]
    return rate, (others[-1] if others else None)


def _attach_items(
    inv: ExtractedInvoice, items: list[LineItem], rate: tuple[Decimal, Decimal | None] | None
) -> None:
    """The item table, if it adds up to the net amount (or to a tax-free total), and the
    net and tax per rate. A table that does not add up (a section read only in part) is
    left off: the invoice then posts on its header amounts, which add up on their own."""
    target = inv.subtotal
    if target is None and inv.tax_amount in (None, Decimal(0)):
        target = inv.total
    if items and target is not None and sum(abs(i.amount) for i in items) == abs(target):
        for item in items:
            if item.tax_rate is None and rate is not None and rate[1] is None:
                item.tax_rate = rate[0]
        inv.line_items = items
    else:
        inv._items_left_off = bool(items)
    inv.tax_breakdown = tax_breakdown(inv, *(rate or (None, None)))


DERIVED_UNSURE = 0.5  # an amount worked out from two others, nothing confirming it
ZERO = Decimal("0.00")


def _printed_rate(lines: list[Line], fields: Fields) -> tuple[Decimal, Decimal | None] | None:
    """The one tax rate printed beside the tax amount (see `_document_rate`), else the one
    rate the tax labels' lines print where their amount could not be read ("VAT 19%: LAS")."""
    rate = _document_rate(lines, fields)
    if rate is not None or "tax_amount" in fields.values:
        return rate
    rates = {parse_rate(lines[i].text) for i in fields.tax_lines} - {None}
    return (rates.pop(), None) if len(rates) == 1 else None


def _confirming_taxes(
    net: Decimal, rate: tuple[Decimal, Decimal | None] | None, items: list[LineItem]
) -> set[Decimal]:
    """Tax amounts that would confirm a tax on `net`: the printed rate of it (or of the
    base the tax line prints), and what the item table says where its amounts sum to
    `net` (its 税额 column, or each line's amount at its rate, rounded per line)."""
    out = set()
    if rate is not None:
        r, base = rate
        out.add(round_money((base if base is not None else net) * r))
    if items and sum(abs(i.amount) for i in items) == net:
        if all(i.tax_amount is not None for i in items):
            out.add(abs(sum((i.tax_amount for i in items), Decimal(0))))
        default = rate[0] if rate is not None and rate[1] is None else None
        rates = [default if i.tax_rate is None else i.tax_rate for i in items]
        if all(r is not None for r in rates):
            taxes = (round_money(abs(i.amount) * r) for i, r in zip(items, rates, strict=True))
            out.add(sum(taxes, ZERO))
    return out


def _complete_amounts(
    inv: ExtractedInvoice,
    items: list[LineItem],
    rate: tuple[Decimal, Decimal | None] | None,
    confidence: dict[str, float],
) -> None:
    """Net, tax and total where OCR lost or misread one of them (`rate`: the printed one).

    With two of them the third is their sum or difference. It is trusted only where
    something read apart confirms it: the tax from total - net where it is the printed
    rate of the net (a misread net or total cannot pass: either changes the difference
    more than the rate changes the tax); the total (net + tax) or the net (total - tax)
    only where the item table also sums to that net, as the rate alone checks a net to a
    few cents. A confirmed amount replaces one read otherwise (net + tax != total), and
    all three count as corroborated. Without confirmation a missing total, or a missing
    tax where net and total differ, is filled in doubtful (DERIVED_UNSURE), for review.
    """
    net, tax, total = inv.subtotal, inv.tax_amount, inv.total
    if net is not None and tax is not None and total is not None and net + tax == total:
        return
    table = sum((abs(i.amount) for i in items), ZERO) if items else None

    def confirmed(n: Decimal, x: Decimal) -> bool:
        return x in _confirming_taxes(n, rate, items)

    options = []
    if net is not None and tax is not None and table == net and confirmed(net, tax):
        options.append(("total", net + tax, ("subtotal", "tax_amount")))
    if net is not None and total is not None and total >= net and confirmed(net, total - net):
        options.append(("tax_amount", total - net, ("subtotal", "total")))
    if tax is not None and total is not None and table == total - tax and confirmed(table, tax):
        options.append(("subtotal", total - tax, ("tax_amount", "total")))
    if len(options) == 1:
        ((name, value, sources),) = options
        setattr(inv, name, value)
        confidence[name] = CORROBORATED
        for source in sources:
            confidence[source] = max(confidence[source], CORROBORATED)
    elif not options and total is None and net is not None and tax is not None:
        inv.total = net + tax
        confidence["total"] = min(confidence["subtotal"], confidence["tax_amount"], DERIVED_UNSURE)
    elif not options and tax is None and net is not None and total is not None and total > net:
        inv.tax_amount = total - net
        confidence["tax_amount"] = min(confidence["subtotal"], confidence["total"], DERIVED_UNSURE)


LOOKALIKE_RX = re.compile(r"(?<=\d)[OIl]|[OIl](?=\d)")
LOOKALIKE_CONFIDENCE = 0.5


def _doubt_lookalikes(inv: ExtractedInvoice, confidence: dict[str, float]) -> None:
    """An OCR'd id with O, I or l beside a digit ("ARO000605") is the classic misread of
    0 and 1: never trust it without a look, however sure tesseract was."""
    for name in ("invoice_number", "payment_reference"):
        value = getattr(inv, name)
        if value and LOOKALIKE_RX.search(value):
            confidence[name] = min(confidence[name], LOOKALIKE_CONFIDENCE)


def _read_header(inv: ExtractedInvoice, fields: Fields) -> dict[str, float]:
    """Set the header fields found; return their confidences."""
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
    if inv.extraction_method != "text":
        _doubt_lookalikes(inv, confidence)
    if inv.payment_reference is None and inv.language == "zh" and inv.invoice_number:
        inv.payment_reference = inv.invoice_number  # 发票号码 is what a payment quotes
        confidence["payment_reference"] = confidence["invoice_number"]
    return confidence


def _identify(
    inv: ExtractedInvoice,
    lines: list[Line],
    text: str,
    fields: Fields,
    suppliers: Sequence[SupplierLike],
    confidence: dict[str, float],
) -> tuple[Fields, dict[str, float], list[str]]:
    """Match the supplier; read again with its template; pin its master data.

    Returns the fields and confidences in force and the master-data review reasons.
    """
    match = match_supplier(
        suppliers,
        tax_id=inv.supplier_tax_id,
        iban=inv.supplier_iban,
        name=inv.supplier_name,
        text=text,
        buyer_tax_id=inv.buyer_tax_id,
        buyer_name=inv.buyer_name,
    )
    if not match:
        return fields, confidence, []
    supplier = match.supplier
    template = getattr(supplier, "template", None)
    if template is not None and template.applies_to(text):
        fields = extract_fields(lines, template.labels())
        confidence = _read_header(inv, fields)
        inv.template = supplier.supplier_id
    inv.supplier_id = supplier.supplier_id
    inv.supplier_name = supplier.name
    confidence["supplier_id"] = confidence["supplier_name"] = match.confidence
    reasons = pin_master_data(inv, supplier, confidence, inv.extraction_method or "ocr")
    if inv.currency is None and getattr(supplier, "currency", None):
        inv.currency = supplier.currency
        confidence["currency"] = 0.8
    if inv.template:
        reasons += template.pattern_reasons(inv, supplier.name)
        if inv.due_date is None and inv.invoice_date and template.payment_terms_days is not None:
            inv.due_date = inv.invoice_date + dt.timedelta(days=template.payment_terms_days)
            confidence["due_date"] = confidence.get("invoice_date", 0.9)
    return fields, confidence, reasons


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
        invoice_kind=invoice_kind(text.splitlines()),
    )
    confidence = _read_header(inv, fields)
    receipt_notes: list[str] = []
    if inv.document_type == "receipt":  # the till's own arithmetic (ocr.receipts)
        receipt_notes = receipts.read_receipt(inv, lines, confidence, min_confidence, today)
    elif inv.invoice_date is None:  # no date label we know: a date as a till prints it
        till_date = receipts.read_date(lines, today)
        if till_date is not None:
            inv.invoice_date = till_date.value
            confidence["invoice_date"] = min(till_date.conf, UNLABELLED_DATE)
    master_reasons: list[str] = []
    if suppliers:
        fields, confidence, master_reasons = _identify(
            inv, lines, text, fields, suppliers, confidence
        )
    items, rate = line_items(lines), _printed_rate(lines, fields)
    if inv.document_type != "receipt":  # a receipt's amounts are reconciled already
        _complete_amounts(inv, items, rate, confidence)
    inv.field_confidence = confidence
    _attach_items(inv, items, rate)
    # a page OCR read mostly as doubtful fragments shows no evidence either way: review
    unreadable = orientation.reads_badly([w for line in lines for w in line.words])
    reason = None if unreadable else not_an_invoice(inv, text)
    if reason:
        inv.status, inv.review_reasons = "quarantined", [reason]
        return inv
    words_total = fields.amount_in_words.value if fields.amount_in_words else None
    if words_total is not None and inv.document_type == "credit_note":
        words_total = abs(words_total)
    inv.total_in_words = words_total
    master_reasons += unread_reasons(inv, text) + receipt_notes
    inv.review_reasons = master_reasons + review_reasons(
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
    read_xml: bool = True,
) -> ExtractedInvoice:
    """Read one invoice file (PDF, PNG, JPEG, TIFF, or an e-invoice XML) into an
    ExtractedInvoice.

    `suppliers` (e.g. closeflow.config.Supplier) identify the issuer; `dpi` is the
    resolution scanned PDF pages are rendered at; `ocr_timeout` bounds each tesseract
    call in seconds; fields read with less than `min_confidence` need review; `today`
    anchors the "date in the future" check. Bad input comes back quarantined with the
    reason; the only exceptions are OSError when the file cannot be read at all and a
    missing tesseract installation.

    An e-invoice is read first, from its XML, and returned without OCR (ocr.einvoice):
    a PDF with an embedded invoice XML (cross-checked against its text layer) or a bare
    CII or UBL XML file. A PDF whose embedded invoice XML is broken is read from its
    page as any other, and goes to review saying so. `read_xml=False` skips that step:
    every PDF is read from its pages only, an embedded XML ignored (a bare XML file is
    then quarantined as unsupported); bench/ocr_accuracy.py reads the e-invoices' pages
    so.
    """
    file = load.read_input(path)
    base = {
        "file": str(path),
        "file_sha256": file.sha256,
        "media_type": file.media_type,
        "size_bytes": file.size_bytes,
    }
    if not read_xml:
        return _read_pages(file, base, suppliers, dpi, ocr_timeout, min_confidence, today)
    try:
        reading = einvoice.read(file)
        if reading is not None and (reading.invoice is not None or not reading.hybrid):
            options = {"min_confidence": min_confidence, "today": today}
            return einvoice.extract(reading, file, base, suppliers, **options)
    except Exception as exc:  # a bug must not stop the batch: quarantine and log it
        log.exception("reading %s as an e-invoice failed", path)
        return _quarantined(
            base, f"could not be read automatically (internal error: {type(exc).__name__})"
        )
    inv = _read_pages(file, base, suppliers, dpi, ocr_timeout, min_confidence, today)
    if reading is not None:  # a PDF whose invoice XML is broken: read from its page
        inv.review_reasons.insert(0, f"{reading.problem}; its page was read instead")
        if inv.status == "extracted":
            inv.status = "needs_review"
    return inv


def _read_pages(
    file: load.InputFile,
    base: dict,
    suppliers: Sequence[SupplierLike] | None,
    dpi: int,
    ocr_timeout: float,
    min_confidence: float,
    today: dt.date | None,
) -> ExtractedInvoice:
    """The invoice as its pages read: the text layer, OCR where there is none."""
    path = file.path
    try:
        load.check_supported(file)
        text_words, parts, method = _read_document(file, dpi, ocr_timeout)
        words = _all_words(text_words, parts)
        if not words:
            return _quarantined(
                base,
                "no text could be read (a blank page or a scan too poor to read)",
                extraction_method=method,
            )

        def build(words: list[Word]) -> ExtractedInvoice:
            return _build(base, build_lines(words), method, suppliers, min_confidence, today)

        inv = build(words)
        inv, text_words, parts = _straightened(
            file, dpi, ocr_timeout, inv, text_words, parts, build
        )
        if inv.status != "needs_review" or not parts or not _may_read_better(inv):
            return inv
        # A field missing or doubtful on an OCR'd page: a second look at what the first
        # pass read badly or not at all (ocr.reread), kept if the invoice reads better.
        try:
            again = _reread(text_words, parts, ocr_timeout)
        except (tesseract.OcrTimeout, tesseract.OcrFailed) as exc:
            log.warning("second look at %s failed: %s", path, exc)
            return inv
        if again is None:
            return inv
        second = build(again)
        return second if _better(second, inv) else inv
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
    *,
    workers: int | None = None,
    on_done: Callable[[ExtractedInvoice], None] | None = None,
    **options: object,
) -> list[ExtractedInvoice]:
    """`extract_file` for each path, results in the order of `paths`.

    Files are read by `workers` threads (default: one per core). Each tesseract call is a
    child process of its own, single-threaded, so one runs per core; pdfium work is
    serialised by its lock. `on_done` is called as each file finishes (a progress bar).
    Options are those of extract_file.
    """
    paths = list(paths)
    workers = max(1, min(len(paths), workers or os.cpu_count() or 1))

    def one(path: Path | str) -> ExtractedInvoice:
        doc = extract_file(path, suppliers, **options)
        if on_done is not None:
            on_done(doc)
        return doc

    if workers == 1:
        return [one(p) for p in paths]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, paths))
