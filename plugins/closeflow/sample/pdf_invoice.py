"""Digital PDFs of European suppliers' invoices and credit notes (and their letters).

Layout and labels follow docs/sample_company.md: supplier name and INVOICE / CREDIT NOTE,
address, VAT ID and IBAN, Bill to, the four header fields, a table of 1-4 lines,
Subtotal / VAT n% / Total CCY. Labels are English; numbers and dates follow the
supplier's locale. Two header styles (`Label: value` in one run of text, or labels and
values in aligned columns) vary by supplier. PDFs are invariant: no creation date or
random document id, so the same invoice always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zlib

from reportlab.lib.colors import Color, HexColor, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen.canvas import Canvas

from closeflow.sample.checksums import format_iban
from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from closeflow.sample.formats import format_amount, format_date, format_quantity
from closeflow.sample.invoices import Buyer, Invoice
from closeflow.sample.suppliers import SupplierProfile

WIDTH, HEIGHT = A4
LEFT, RIGHT = 20 * mm, WIDTH - 20 * mm
_ACCENTS = ("#1f4e79", "#7a1f3d", "#2e6b30", "#6b4f1d", "#3b3b8f", "#444444")


def _accent(supplier: SupplierProfile) -> Color:
    return HexColor(_ACCENTS[zlib.crc32(supplier.template.slug.encode()) % len(_ACCENTS)])


def _columns_style(supplier: SupplierProfile) -> bool:
    """Half of the suppliers print header labels and values in aligned columns."""
    return zlib.crc32(supplier.template.slug.encode()) % 2 == 0


def new_canvas(buffer: io.BytesIO, title: str, author: str) -> Canvas:
    register_fonts()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("closeflow sample generator")
    return canvas


def _letterhead(canvas: Canvas, supplier: SupplierProfile, title: str) -> float:
    """Supplier block and document title; returns the y below it."""
    accent = _accent(supplier)
    canvas.setFillColor(accent)
    canvas.rect(0, HEIGHT - 8 * mm, WIDTH, 8 * mm, stroke=0, fill=1)
    canvas.setFont(LATIN_BOLD, 15)
    canvas.drawString(LEFT, HEIGHT - 24 * mm, supplier.name)
    if title:
        canvas.setFont(LATIN_BOLD, 18)
        canvas.drawRightString(RIGHT, HEIGHT - 24 * mm, title)
    canvas.setFillColor(black)
    canvas.setFont(LATIN, 9.5)
    canvas.drawString(LEFT, HEIGHT - 30 * mm, supplier.address)
    canvas.drawString(LEFT, HEIGHT - 35 * mm, f"VAT ID: {supplier.tax_id}")
    if supplier.iban:
        canvas.drawString(LEFT + 75 * mm, HEIGHT - 35 * mm, f"IBAN: {format_iban(supplier.iban)}")
    canvas.setStrokeColor(accent)
    canvas.setLineWidth(0.8)
    canvas.line(LEFT, HEIGHT - 38 * mm, RIGHT, HEIGHT - 38 * mm)
    canvas.setStrokeColor(black)
    return HEIGHT - 48 * mm


def _footer(canvas: Canvas, supplier: SupplierProfile, rng: random.Random) -> None:
    register = rng.choice(("Hamburg", "München", "Berlin", "Köln", "Frankfurt am Main"))
    directors = rng.choice(("Anna Becker", "Jonas Richter", "Marie Hoffmann", "Lukas Wagner"))
    rows = (
        f"{supplier.name} · Managing director: {directors}",
        f"Register court: Amtsgericht {register} HRB {rng.randint(10000, 199999)} · "
        f"Bank: {supplier.bank_name}",
    )
    canvas.setFont(LATIN, 7.5)
    canvas.setFillColor(HexColor("#555555"))
    canvas.line(LEFT, 24 * mm, RIGHT, 24 * mm)
    canvas.drawCentredString(WIDTH / 2, 19 * mm, rows[0])
    canvas.drawCentredString(WIDTH / 2, 15 * mm, rows[1])
    canvas.setFillColor(black)


def render_invoice_pdf(invoice: Invoice, rng: random.Random) -> bytes:
    """The invoice or credit note as a one-page digital PDF."""
    supplier, tpl = invoice.supplier, invoice.supplier.template
    locale, style = tpl.locale, tpl.date_style
    credit = invoice.document_type == "credit_note"
    buffer = io.BytesIO()
    canvas = new_canvas(
        buffer, f"{'Credit note' if credit else 'Invoice'} {invoice.invoice_number}", supplier.name
    )
    y = _letterhead(canvas, supplier, "CREDIT NOTE" if credit else "INVOICE")

    canvas.setFont(LATIN, 10)
    buyer: Buyer = invoice.buyer
    canvas.drawString(LEFT, y, f"Bill to: {buyer.name}, VAT ID: {buyer.tax_id}")
    canvas.drawString(LEFT, y - 5 * mm, buyer.address)
    y -= 17 * mm

    fields = [
        ("Invoice number:", invoice.invoice_number),
        ("Invoice date:", format_date(invoice.invoice_date, style)),
        ("Due date:", format_date(invoice.due_date, style)),
        ("Payment reference:", invoice.payment_reference),
    ]
    for label, value in fields:
        if _columns_style(supplier):
            canvas.setFont(LATIN_BOLD, 10)
            canvas.drawString(LEFT, y, label)
            canvas.setFont(LATIN, 10)
            canvas.drawString(LEFT + 42 * mm, y, value)
        else:
            canvas.setFont(LATIN, 10)
            canvas.drawString(LEFT, y, f"{label} {value}")
        y -= 6 * mm
    y -= 6 * mm

    # the line items
    cols = (LEFT, RIGHT - 70 * mm, RIGHT - 32 * mm, RIGHT)  # description | qty | unit | amount
    canvas.setFillColor(HexColor("#e8e8e8"))
    canvas.rect(LEFT - 2 * mm, y - 2.5 * mm, RIGHT - LEFT + 4 * mm, 8 * mm, stroke=0, fill=1)
    canvas.setFillColor(black)
    canvas.setFont(LATIN_BOLD, 9.5)
    canvas.drawString(cols[0], y, "Description")
    canvas.drawRightString(cols[1], y, "Qty")
    canvas.drawRightString(cols[2], y, "Unit price")
    canvas.drawRightString(cols[3], y, "Amount")
    y -= 9 * mm
    canvas.setFont(LATIN, 9.5)
    for line in invoice.lines:
        wrapped = simpleSplit(line.description, LATIN, 9.5, cols[1] - cols[0] - 14 * mm)
        canvas.drawString(cols[0], y, wrapped[0])
        canvas.drawRightString(cols[1], y, format_quantity(line.quantity, locale))
        canvas.drawRightString(cols[2], y, format_amount(line.unit_price, locale))
        canvas.drawRightString(cols[3], y, format_amount(line.amount, locale))
        for extra in wrapped[1:]:
            y -= 4.5 * mm
            canvas.drawString(cols[0], y, extra)
        y -= 7 * mm
    canvas.line(LEFT, y + 3 * mm, RIGHT, y + 3 * mm)
    y -= 5 * mm

    # totals, one tax line per rate
    totals = [("Subtotal:", invoice.subtotal)]
    for rate in invoice.tax_rates:
        tax = sum(ln.tax_amount for ln in invoice.lines if ln.tax_rate == rate)
        totals.append((f"VAT {int(rate * 100)}%:", tax))
    totals.append((f"Total {invoice.currency}:", invoice.total))
    for n, (label, value) in enumerate(totals):
        last = n == len(totals) - 1
        canvas.setFont(LATIN_BOLD if last else LATIN, 10.5 if last else 10)
        canvas.drawString(RIGHT - 70 * mm, y, label)
        canvas.drawRightString(RIGHT, y, format_amount(value, locale))
        y -= 6.5 * mm

    y -= 10 * mm
    canvas.setFont(LATIN, 9)
    if credit:
        notes = ["We will refund the amount of this credit note to your account."]
    else:
        notes = [
            f"Payment terms: {tpl.terms_days} days net. Please transfer the total to the IBAN "
            "above and quote the payment reference.",
        ]
    notes.append("Thank you for your business.")
    for note in notes:
        for text in simpleSplit(note, LATIN, 9, RIGHT - LEFT):
            canvas.drawString(LEFT, y, text)
            y -= 5 * mm
    _footer(canvas, supplier, rng)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


_LETTERS = (
    (
        "Our office is moving",
        "Dear customer,\n\nour office moves to {new_street}, {city} on {when}. Please update "
        "your records and send any correspondence to the new address from that date on. Our "
        "bank details, VAT ID and contact persons remain unchanged.\n\nKind regards",
    ),
    (
        "Price adjustment",
        "Dear customer,\n\ndue to increased energy and personnel costs we will adjust our "
        "prices by {percent} % with effect from {when}. Existing orders are invoiced at the "
        "current prices. This letter is not an invoice.\n\nKind regards",
    ),
    (
        "Service hours during the holidays",
        "Dear customer,\n\nplease note that our service desk is closed from {when} for three "
        "days. Urgent requests can be sent by e-mail and will be answered on the next "
        "working day.\n\nKind regards",
    ),
)


def render_letter_pdf(
    supplier: SupplierProfile, buyer: Buyer, day: dt.date, rng: random.Random
) -> bytes:
    """A one-page letter from a supplier that is not an invoice (it must be quarantined)."""
    subject, body = rng.choice(_LETTERS)
    when = format_date(day + dt.timedelta(days=rng.randint(20, 45)), supplier.template.date_style)
    text = body.format(
        new_street=f"Neue Straße {rng.randint(1, 99)}",
        city=supplier.template.city,
        when=when,
        percent=rng.choice(("3.5", "4", "5")),
    )
    buffer = io.BytesIO()
    canvas = new_canvas(buffer, subject, supplier.name)
    y = _letterhead(canvas, supplier, "")
    canvas.setFont(LATIN, 10)
    canvas.drawString(LEFT, y, buyer.name)
    canvas.drawString(LEFT, y - 5 * mm, buyer.address)
    canvas.drawRightString(RIGHT, y, format_date(day, supplier.template.date_style))
    y -= 20 * mm
    canvas.setFont(LATIN_BOLD, 11)
    canvas.drawString(LEFT, y, subject)
    y -= 10 * mm
    canvas.setFont(LATIN, 10)
    for paragraph in text.split("\n"):
        for row in simpleSplit(paragraph, LATIN, 10, RIGHT - LEFT) or [""]:
            canvas.drawString(LEFT, y, row)
            y -= 5.5 * mm
    canvas.drawString(LEFT, y - 2 * mm, f"{supplier.name}")
    _footer(canvas, supplier, rng)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
