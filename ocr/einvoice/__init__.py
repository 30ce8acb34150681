"""E-invoices, read exactly: the structured XML of an invoice instead of its page.

    reading = read(file)        # None: not an e-invoice (an image, a PDF without one)
    invoice = extract(reading, file, base, suppliers)

What is read: CII (ZUGFeRD 1.0; ZUGFeRD 2.x / Factur-X in every profile; XRechnung CII)
embedded in a PDF/A-3 or sent as a bare XML file, and UBL 2.1 Invoice and CreditNote
(Peppol BIS Billing 3.0, XRechnung UBL) as bare XML files. The extraction method is
"einvoice" and every field read from the XML has full confidence; no OCR is done.

Modules, in the order a file goes through them:
    embedded    the invoice XML in a PDF: by the standard file names, then by /AF
    safexml     the only way XML is parsed: no DTD, no entities, no network
    sniff       CII or UBL, by the root element
    cii, ubl    the readers, each giving a document.EInvoice
    crosscheck  a hybrid PDF's invoice number and total against its text layer
    extracted   EInvoice -> ExtractedInvoice, supplier matching, the checks of ocr.validate

A bare XML file that is not well-formed, unsafe or not an e-invoice comes back
quarantined with the reason. A PDF whose embedded invoice XML is broken is read from its
page instead, and goes to review saying so (the caller, ocr.extract, does that).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ocr import load
from ocr.einvoice import crosscheck, embedded, safexml, sniff
from ocr.einvoice.cii import read_cii
from ocr.einvoice.document import EInvoice
from ocr.einvoice.extracted import to_extracted
from ocr.einvoice.ubl import read_ubl
from ocr.model import ExtractedInvoice
from ocr.suppliers import SupplierLike
from ocr.validate import DEFAULT_MIN_CONFIDENCE

__all__ = ["EInvoice", "Reading", "extract", "read"]

READS = (
    "closeflow reads CII (Factur-X / ZUGFeRD / XRechnung) and UBL (Peppol BIS 3 / "
    "XRechnung) invoices and credit notes"
)


@dataclass(frozen=True)
class Reading:
    """What the file's e-invoice XML gave: the invoice, or the problem with it."""

    source: str  # "the XML file", "the embedded zugferd-invoice.xml"
    hybrid: bool  # the XML came out of a PDF, which has a page of its own
    invoice: EInvoice | None = None
    problem: str | None = None  # why there is no invoice, in words


def _invoice(data: bytes, source: str) -> tuple[EInvoice | None, str | None, bool]:
    """The invoice in `data`, or why not, and whether `data` is XML at all."""
    try:
        root = safexml.parse(data)
    except safexml.XmlRefused as exc:
        return None, f"{source} cannot be read: {exc.reason}", False
    root = sniff.invoice_root(root)
    syntax = sniff.syntax_of(root)
    if syntax is None:
        return None, f"{source} is not an e-invoice ({sniff.describe(root)}); {READS}", True
    return (read_cii(root) if syntax == "cii" else read_ubl(root)), None, True


def read(file: load.InputFile) -> Reading | None:
    """The e-invoice of a bare XML file or of a PDF with an embedded invoice XML; None
    for any other file (it goes on to the page reading)."""
    if file.media_type == load.XML:
        invoice, problem, _ = _invoice(file.data, "the XML file")
        return Reading("the XML file", False, invoice, problem)
    if file.media_type != load.PDF:
        return None
    problems = []
    for c in embedded.candidates(file.data):
        source = f"the embedded {c.name}"
        if c.data is None:
            problem = f"{source} cannot be extracted from the PDF ({c.error})"
            invoice, xml = None, False
        else:
            invoice, problem, xml = _invoice(c.data, source)
        if invoice is not None:
            return Reading(source, True, invoice)
        # a file related only by /AF that is XML but not an invoice is something else
        if c.found_by == "name" or not xml:
            problems.append(problem)
    if problems:
        return Reading("the embedded XML", True, problem=problems[0])
    return None


def extract(
    reading: Reading,
    file: load.InputFile,
    base: dict,
    suppliers: Sequence[SupplierLike] | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    today: dt.date | None = None,
) -> ExtractedInvoice:
    """The ExtractedInvoice of a reading with an invoice (a hybrid PDF cross-checked
    against its text layer), or of a bare XML file that is none (quarantined)."""
    if reading.invoice is None:
        return ExtractedInvoice(**base, status="quarantined", review_reasons=[reading.problem])
    page = crosscheck.text_layer(file.data) if reading.hybrid else None
    e = reading.invoice
    return to_extracted(
        e,
        base,
        suppliers,
        page_reasons=crosscheck.disagreements(page, e.number, e.grand_total) if page else (),
        page_text=page.text if page else None,
        min_confidence=min_confidence,
        today=today,
    )
