"""The UBL 2.1 reader: Invoice and CreditNote, as Peppol BIS Billing 3.0 and XRechnung
(UBL syntax) use them (the EN 16931 UBL binding).

The two document kinds differ in a few names (InvoiceTypeCode / CreditNoteTypeCode,
InvoiceLine / CreditNoteLine, InvoicedQuantity / CreditedQuantity) and in the due date: an
Invoice has cbc:DueDate, a UBL 2.1 CreditNote only the payment means' PaymentDueDate. A
CreditNote is a credit note whatever its type code.
"""

from __future__ import annotations

import re
from decimal import Decimal

from lxml import etree

from ocr.einvoice import values as v
from ocr.einvoice.document import (
    CREDIT_NOTE_CODES,
    AllowanceCharge,
    EInvoice,
    Line,
    Party,
    TaxSubtotal,
)

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
INVOICE = etree.QName(INVOICE_NS, "Invoice").text
CREDIT_NOTE = etree.QName(CREDIT_NOTE_NS, "CreditNote").text
_IBAN_SHAPE = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9 ]{11,40}")


def is_ubl(root: etree._Element) -> bool:
    return root.tag in (INVOICE, CREDIT_NOTE)


def _first(node: etree._Element | None, path: str) -> etree._Element | None:
    return v.first(node, path, NS)


def _all(node: etree._Element | None, path: str) -> list[etree._Element]:
    return [] if node is None else node.xpath(path, namespaces=NS)


def _text(node: etree._Element | None, path: str) -> str | None:
    return v.text(_first(node, path))


def _decimal(node: etree._Element | None, path: str) -> Decimal | None:
    return v.decimal(_first(node, path))


def _party(node: etree._Element | None) -> Party:
    schemes = "cac:PartyTaxScheme"
    return Party(
        name=_text(node, "cac:PartyLegalEntity/cbc:RegistrationName")
        or _text(node, "cac:PartyName/cbc:Name"),
        vat_id=_text(node, f"{schemes}[cac:TaxScheme/cbc:ID='VAT']/cbc:CompanyID"),
        tax_number=_text(node, f"{schemes}[not(cac:TaxScheme/cbc:ID='VAT')]/cbc:CompanyID"),
    )


def _tax_total(root: etree._Element, currency: str | None) -> etree._Element | None:
    """The TaxTotal in the document currency: one in a foreign tax currency (BT-111)
    may stand beside it, without a breakdown."""
    totals = _all(root, "cac:TaxTotal")
    for el in totals:
        amount = _first(el, "cbc:TaxAmount")
        if amount is not None and currency and amount.get("currencyID") == currency:
            return el
    with_breakdown = [el for el in totals if _first(el, "cac:TaxSubtotal") is not None]
    if with_breakdown:
        return with_breakdown[0]
    return totals[0] if totals else None


def _line(el: etree._Element) -> Line:
    quantity = _first(el, "cbc:InvoicedQuantity|cbc:CreditedQuantity")
    unit_price = _decimal(el, "cac:Price/cbc:PriceAmount")
    per = _decimal(el, "cac:Price/cbc:BaseQuantity")
    if unit_price is not None and per not in (None, Decimal(0), Decimal(1)):
        unit_price = unit_price / per
    return Line(
        line_id=_text(el, "cbc:ID") or "",
        name=_text(el, "cac:Item/cbc:Name"),
        quantity=v.decimal(quantity),
        unit=None if quantity is None else quantity.get("unitCode"),
        unit_price=unit_price,
        net_amount=_decimal(el, "cbc:LineExtensionAmount"),
        percent=_decimal(el, "cac:Item/cac:ClassifiedTaxCategory/cbc:Percent"),
    )


def _allowances_charges(root: etree._Element) -> list[AllowanceCharge]:
    out = []
    for el in _all(root, "cac:AllowanceCharge"):
        amount = _decimal(el, "cbc:Amount")
        charge = v.flag(_first(el, "cbc:ChargeIndicator"))
        if amount is None or charge is None:
            continue
        reason = _text(el, "cbc:AllowanceChargeReason")
        out.append(
            AllowanceCharge(charge, amount, reason, _decimal(el, "cac:TaxCategory/cbc:Percent"))
        )
    return out


def read_ubl(root: etree._Element) -> EInvoice:
    """The invoice a UBL Invoice or CreditNote states. Raises ValueError for another root."""
    if not is_ubl(root):
        raise ValueError(f"not a UBL invoice or credit note: {root.tag!r}")
    credit = root.tag == CREDIT_NOTE
    currency = _text(root, "cbc:DocumentCurrencyCode")
    type_code = _text(root, "cbc:CreditNoteTypeCode" if credit else "cbc:InvoiceTypeCode")
    due = v.iso_date(_first(root, "cbc:DueDate"))
    if due is None:
        dates = [
            day
            for el in _all(root, "cac:PaymentMeans/cbc:PaymentDueDate")
            if (day := v.iso_date(el)) is not None
        ]
        due = max(dates) if dates else None
    accounts = [
        account
        for el in _all(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID")
        if (account := v.text(el)) and _IBAN_SHAPE.fullmatch(account.upper())
    ]
    tax_total = _tax_total(root, currency)
    totals = _first(root, "cac:LegalMonetaryTotal")
    lines = _all(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    return EInvoice(
        syntax="UBL CreditNote" if credit else "UBL Invoice",
        profile=_text(root, "cbc:CustomizationID"),
        type_code=type_code,
        credit_note=credit or type_code in CREDIT_NOTE_CODES,
        number=_text(root, "cbc:ID"),
        issue_date=v.iso_date(_first(root, "cbc:IssueDate")),
        due_date=due,
        currency=currency,
        seller=_party(_first(root, "cac:AccountingSupplierParty/cac:Party")),
        buyer=_party(_first(root, "cac:AccountingCustomerParty/cac:Party")),
        payee_iban=accounts[0] if accounts else None,
        payment_reference=_text(root, "cac:PaymentMeans/cbc:PaymentID"),
        line_total=_decimal(totals, "cbc:LineExtensionAmount"),
        allowance_total=_decimal(totals, "cbc:AllowanceTotalAmount"),
        charge_total=_decimal(totals, "cbc:ChargeTotalAmount"),
        tax_basis_total=_decimal(totals, "cbc:TaxExclusiveAmount"),
        tax_total=_decimal(tax_total, "cbc:TaxAmount"),
        grand_total=_decimal(totals, "cbc:TaxInclusiveAmount"),
        prepaid=_decimal(totals, "cbc:PrepaidAmount"),
        due_payable=_decimal(totals, "cbc:PayableAmount"),
        taxes=tuple(
            TaxSubtotal(
                category=_text(el, "cac:TaxCategory/cbc:ID"),
                percent=_decimal(el, "cac:TaxCategory/cbc:Percent"),
                basis=_decimal(el, "cbc:TaxableAmount"),
                tax=_decimal(el, "cbc:TaxAmount"),
            )
            for el in _all(tax_total, "cac:TaxSubtotal")
        ),
        lines=tuple(_line(el) for el in lines),
        allowances_charges=tuple(_allowances_charges(root)),
        text=v.all_text(root),
    )
