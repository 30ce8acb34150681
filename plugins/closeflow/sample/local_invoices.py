"""German, French, Dutch and Spanish invoices, each with its own labels, number and date
formats: what ocr/ must read from European suppliers (tests/ocr, bench/ocr_accuracy.py).

`render_local` draws one as a PDF with a text layer (reportlab, DejaVu Sans); degrade it
into a scan with closeflow.sample.scan. `LOCAL_TRUTH` is what each invoice prints, typed
and written out by hand (not parsed with the code under test).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from closeflow.sample.layouts import draw_item_rows

GERMAN_LABELS = {
    "title": "RECHNUNG",
    "supplier_vat": "USt-IdNr.",
    "registration": "Steuernummer",
    "bill_to": "Rechnungsempfänger",
    "buyer_vat": "USt-IdNr.",
    "number": "Rechnungsnummer",
    "date": "Rechnungsdatum",
    "due": "Fälligkeitsdatum",
    "reference": "Verwendungszweck",
    "description": "Beschreibung",
    "quantity": "Menge",
    "unit_price": "Einzelpreis",
    "amount": "Betrag",
    "subtotal": "Nettobetrag",
    "vat": "MwSt.",
    "total": "Gesamtbetrag",
}
FRENCH_LABELS = {
    "title": "FACTURE",
    "supplier_vat": "N° TVA intracommunautaire",
    "registration": "SIRET",
    "bill_to": "Client",
    "buyer_vat": "N° TVA",
    "number": "Facture n°",
    "date": "Date de facture",
    "due": "Échéance",
    "reference": "Référence de paiement",
    "description": "Désignation",
    "quantity": "Quantité",
    "unit_price": "Prix unitaire",
    "amount": "Montant",
    "subtotal": "Total HT",
    "vat": "TVA",
    "total": "Total TTC",
}
DUTCH_LABELS = {
    "title": "FACTUUR",
    "supplier_vat": "BTW-nummer",
    "registration": "KvK",
    "bill_to": "Klant",
    "buyer_vat": "BTW-nummer",
    "number": "Factuurnummer",
    "date": "Factuurdatum",
    "due": "Vervaldatum",
    "reference": "Betalingskenmerk",
    "description": "Omschrijving",
    "quantity": "Aantal",
    "unit_price": "Prijs",
    "amount": "Bedrag",
    "subtotal": "Subtotaal",
    "vat": "BTW",
    "total": "Totaal incl. BTW",
}
SPANISH_LABELS = {
    "title": "FACTURA",
    "supplier_vat": "NIF",
    "registration": None,
    "bill_to": "Cliente",
    "buyer_vat": "NIF",
    "number": "Factura nº",
    "date": "Fecha de factura",
    "due": "Fecha de vencimiento",
    "reference": "Referencia de pago",
    "description": "Descripción",
    "quantity": "Cantidad",
    "unit_price": "Precio unitario",
    "amount": "Importe",
    "subtotal": "Base imponible",
    "vat": "IVA",
    "total": "Total factura",
}


@dataclass(frozen=True)
class LocalInvoice:
    """An invoice in a language of `labels` (one of the *_LABELS above), values as printed.

    `due` None prints no due date; `terms` is a payment terms line. `money` formats an
    amount with its currency sign ("{} €" or "€ {}").
    """

    language: str
    labels: dict
    supplier: str
    address: str
    supplier_vat: str
    registration: str | None
    iban: str
    number: str
    date: str
    due: str | None
    terms: str | None
    reference: str
    lines: tuple
    subtotal: str
    vat_rate: str
    vat: str
    total: str
    money: str = "{} €"
    buyer: str = "Closeflow Demo GmbH"
    buyer_vat: str = "DE272914250"


def render_local(path: Path, inv: LocalInvoice) -> Path:
    """`inv` with its own labels: parties on top, header fields as label/value pairs, the
    items table, totals on the right, payment terms and bank details at the foot."""
    register_fonts()
    lb = inv.labels
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    y = height - 60
    c.setFont(LATIN_BOLD, 16)
    c.drawString(50, y, inv.supplier)
    c.drawRightString(width - 50, y, lb["title"])
    c.setFont(LATIN, 10)
    y -= 18
    c.drawString(50, y, inv.address)
    y -= 16
    c.drawString(50, y, f"{lb['supplier_vat']}: {inv.supplier_vat}")
    if inv.registration and lb["registration"]:
        c.drawString(330, y, f"{lb['registration']}: {inv.registration}")
    y -= 34
    c.drawString(50, y, f"{lb['bill_to']}:")
    y -= 14
    c.drawString(50, y, inv.buyer)
    y -= 14
    c.drawString(50, y, f"{lb['buyer_vat']}: {inv.buyer_vat}")
    y -= 34
    rows = [("number", inv.number), ("date", inv.date)]
    if inv.due:
        rows.append(("due", inv.due))
    rows.append(("reference", inv.reference))
    for key, value in rows:
        c.drawString(50, y, f"{lb[key]}:")
        c.drawString(200, y, value)
        y -= 16
    y -= 20
    c.setFont(LATIN_BOLD, 10)
    c.drawString(50, y, lb["description"])
    c.drawRightString(350, y, lb["quantity"])
    c.drawRightString(450, y, lb["unit_price"])
    c.drawRightString(545, y, lb["amount"])
    c.setFont(LATIN, 10)
    y = draw_item_rows(c, inv.lines, y)
    y -= 30
    for label, value in (
        (lb["subtotal"], inv.subtotal),
        (f"{lb['vat']} {inv.vat_rate}", inv.vat),
        (lb["total"], inv.total),
    ):
        c.drawString(340, y, f"{label}:")
        c.drawRightString(545, y, inv.money.format(value))
        y -= 16
    y -= 24
    if inv.terms:
        c.drawString(50, y, inv.terms)
        y -= 16
    c.drawString(50, y, f"IBAN: {inv.iban}")
    c.showPage()
    c.save()
    return path


GERMAN_INVOICE = LocalInvoice(
    language="de",
    labels=GERMAN_LABELS,
    supplier="Bergmann & Söhne Werkzeuge GmbH",
    address="Industriestraße 7, 70565 Stuttgart",
    supplier_vat="DE811907980",
    registration="99015/12345",
    iban="DE02 1203 0000 0000 2020 51",
    number="RE-2026-0117",
    date="5. Januar 2026",
    due=None,
    terms="Zahlbar innerhalb von 14 Tagen (netto) ohne Abzug.",
    reference="RF71 2026 0117",
    lines=(
        ("Akkuschrauber 18 V", "4", "129,00", "516,00"),
        ("Bohrer-Set HSS, 25-teilig", "10", "34,50", "345,00"),
        ("Werkzeugkoffer für Elektriker", "2", "189,95", "379,90"),
    ),
    subtotal="1.240,90",
    vat_rate="19 %",
    vat="235,77",
    total="1.476,67",
)
FRENCH_INVOICE = LocalInvoice(
    language="fr",
    labels=FRENCH_LABELS,
    supplier="Atelier Lumière SARL",
    address="12 rue des Lilas, 69003 Lyon",
    supplier_vat="FR40303265045",
    registration="303 265 045 00018",
    iban="FR14 2004 1010 0505 0001 3M02 606",
    number="FA-2026-0042",
    date="5 janvier 2026",
    due="4 février 2026",
    terms="Paiement à 30 jours par virement.",
    reference="RF47 2026 0042",
    lines=(
        ("Lampe de bureau LED", "6", "45,00", "270,00"),
        ("Ampoules E27, lot de 10", "12", "18,90", "226,80"),
        ("Installation et réglage", "1", "850,00", "850,00"),
    ),
    subtotal="1 346,80",
    vat_rate="20 %",
    vat="269,36",
    total="1 616,16",
)
DUTCH_INVOICE = LocalInvoice(
    language="nl",
    labels=DUTCH_LABELS,
    supplier="Van Dijk Kantoorartikelen B.V.",
    address="Keizersgracht 100, 1015 CX Amsterdam",
    supplier_vat="NL853746192B01",
    registration="34127865",
    iban="NL91 ABNA 0417 1643 00",
    number="F2026-0315",
    date="5 januari 2026",
    due=None,
    terms="Betaling binnen 30 dagen na factuurdatum.",
    reference="F2026-0315",
    lines=(
        ("Bureaustoel ergonomisch", "3", "249,00", "747,00"),
        ("Monitorarm dubbel", "5", "89,95", "449,75"),
    ),
    subtotal="1.196,75",
    vat_rate="21%",
    vat="251,32",
    total="1.448,07",
    money="€ {}",
)
SPANISH_INVOICE = LocalInvoice(
    language="es",
    labels=SPANISH_LABELS,
    supplier="Suministros Iberia S.L.",
    address="Calle Mayor 25, 28013 Madrid",
    supplier_vat="ESB12345674",
    registration=None,
    iban="ES91 2100 0418 4502 0005 1332",
    number="FV-2026/0042",
    date="5 de enero de 2026",
    due="4 de febrero de 2026",
    terms="Forma de pago: transferencia bancaria.",
    reference="FV-2026/0042",
    lines=(
        ("Papel A4 80 g, caja de 5 resmas", "20", "24,50", "490,00"),
        ("Tóner negro HP 305A", "8", "67,90", "543,20"),
    ),
    subtotal="1.033,20",
    vat_rate="21%",
    vat="216,97",
    total="1.250,17",
)
LOCAL_INVOICES = (GERMAN_INVOICE, FRENCH_INVOICE, DUTCH_INVOICE, SPANISH_INVOICE)


D = dt.date
# What each invoice prints, typed (the due date of "de" and "nl" from their payment terms).
LOCAL_TRUTH: dict[str, dict[str, object]] = {
    "de": {
        "supplier_name": "Bergmann & Söhne Werkzeuge GmbH",
        "supplier_tax_id": "DE811907980",
        "buyer_name": "Closeflow Demo GmbH",
        "buyer_tax_id": "DE272914250",
        "invoice_number": "RE-2026-0117",
        "invoice_date": D(2026, 1, 5),  # "5. Januar 2026"
        "due_date": D(2026, 1, 19),  # "Zahlbar innerhalb von 14 Tagen (netto)"
        "currency": "EUR",
        "subtotal": Decimal("1240.90"),  # "1.240,90 €"
        "tax_amount": Decimal("235.77"),
        "total": Decimal("1476.67"),
        "payment_reference": "RF7120260117",
        "supplier_iban": "DE02120300000000202051",
    },
    "fr": {
        "supplier_name": "Atelier Lumière SARL",
        "supplier_tax_id": "FR40303265045",  # the VAT number, not the SIRET beside it
        "buyer_name": "Closeflow Demo GmbH",
        "buyer_tax_id": "DE272914250",
        "invoice_number": "FA-2026-0042",
        "invoice_date": D(2026, 1, 5),  # "5 janvier 2026"
        "due_date": D(2026, 2, 4),  # "Échéance : 4 février 2026", printed beside the terms
        "currency": "EUR",
        "subtotal": Decimal("1346.80"),  # "1 346,80 €"
        "tax_amount": Decimal("269.36"),
        "total": Decimal("1616.16"),
        "payment_reference": "RF4720260042",
        "supplier_iban": "FR1420041010050500013M02606",
    },
    "nl": {
        "supplier_name": "Van Dijk Kantoorartikelen B.V.",
        "supplier_tax_id": "NL853746192B01",  # the BTW-nummer, not the KvK
        "buyer_name": "Closeflow Demo GmbH",
        "buyer_tax_id": "DE272914250",
        "invoice_number": "F2026-0315",
        "invoice_date": D(2026, 1, 5),  # "5 januari 2026"
        "due_date": D(2026, 2, 4),  # "Betaling binnen 30 dagen na factuurdatum"
        "currency": "EUR",
        "subtotal": Decimal("1196.75"),  # "€ 1.196,75"
        "tax_amount": Decimal("251.32"),
        "total": Decimal("1448.07"),
        "payment_reference": "F2026-0315",
        "supplier_iban": "NL91ABNA0417164300",
    },
    "es": {
        "supplier_name": "Suministros Iberia S.L.",
        "supplier_tax_id": "ESB12345674",
        "buyer_name": "Closeflow Demo GmbH",
        "buyer_tax_id": "DE272914250",
        "invoice_number": "FV-2026/0042",
        "invoice_date": D(2026, 1, 5),  # "5 de enero de 2026"
        "due_date": D(2026, 2, 4),  # "Fecha de vencimiento: 4 de febrero de 2026"
        "currency": "EUR",
        "subtotal": Decimal("1033.20"),  # "1.033,20 €"
        "tax_amount": Decimal("216.97"),
        "total": Decimal("1250.17"),
        "payment_reference": "FV-2026/0042",
        "supplier_iban": "ES9121000418450200051332",
    },
}
