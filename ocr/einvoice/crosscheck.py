"""The embedded XML against the page it came with: a hybrid PDF says things twice.

The XML is what gets read; the page is what a person saw and approved. Where the PDF has
a visible text layer (read as the page reading does, ocr.pdf.page_words; never OCR), the
invoice number must appear on it and the grand total must appear on it as an amount, in
any common format (1.190,00 / 1,190.00 / 1190.00 / 1 190,00). A disagreement is for a
person, in words: "total: the embedded XML says 1,190.00, the page shows 1,180.00".
Never one or the other silently. A page without a usable text layer (a scan) is not
cross-checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ocr import load, pdf
from ocr.fields import extract_fields
from ocr.layout import Line, build_lines
from ocr.normalize import compact, find_amounts


@dataclass(frozen=True)
class Page:
    """The text layer of a PDF's pages, as lines."""

    lines: list[Line]

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


def text_layer(data: bytes) -> Page | None:
    """The PDF's text layer as lines, or None where it has no usable one (a scan) or
    pdfium cannot open it."""
    words = []
    try:
        with pdf.PDFIUM_LOCK:
            document = load.open_pdf(data)
            try:
                for n, page in enumerate(document):
                    try:
                        words += pdf.page_words(page, n)
                    finally:
                        page.close()
            finally:
                document.close()
    except load.Unreadable:
        return None
    if not pdf.has_usable_text(words):
        return None
    return Page(build_lines(words))


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def disagreements(page: Page, number: str | None, total: Decimal | None) -> list[str]:
    """The review reasons of the XML's invoice number and grand total against the page."""
    reasons = []
    printed = None  # what the page reading takes for number and total, to name in words

    def page_value(name: str) -> object | None:
        nonlocal printed
        if printed is None:
            printed = extract_fields(page.lines).values
        found = printed.get(name)
        return None if found is None else found.value

    if number and compact(number) not in compact(page.text):
        shown = page_value("invoice_number")
        reasons.append(
            f"invoice number: the embedded XML says {number}, "
            + (f"the page shows {shown}" if shown else "the page does not show it")
        )
    if total is not None:
        amounts = {abs(a.value) for line in page.lines for a in find_amounts(line.text)}
        if abs(total) not in amounts:
            shown = page_value("total")
            reasons.append(
                f"total: the embedded XML says {_money(total)}, "
                + (
                    f"the page shows {_money(shown)}"
                    if isinstance(shown, Decimal)
                    else "the page does not show it"
                )
            )
    return reasons
