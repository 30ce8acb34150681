"""E-invoices read exactly from their XML (ocr.einvoice): the 41 real ZUGFeRD 1.0 / 2.x PDFs
against the values of their XML, bare CII and UBL (Peppol BIS Billing 3.0) files, the
cross-check of a hybrid PDF against its page, unsafe XML refused, and a PDF without an
invoice XML read from its page as before. Real files, no mocks."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path

import pypdf
import pytest
from facturx import generate_from_binary
from lxml import etree
from PIL import Image
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from closeflow.config import Supplier
from closeflow.sample.fonts import LATIN, LATIN_BOLD, register_fonts
from ocr import einvoice, load, tesseract
from ocr.einvoice import embedded, safexml, sniff
from ocr.einvoice.cii import read_cii
from ocr.einvoice.ubl import read_ubl
from ocr.extract import DEFAULT_DPI, _read_pages, extract_file
from ocr.model import LineItem, TaxBreakdown
from ocr.normalize import compact
from ocr.validate import DEFAULT_MIN_CONFIDENCE
from tests.conftest import SHARED
from tests.ocr.documents import pdf_bytes

EINVOICES = SHARED / "einvoices"
PDFS = sorted(EINVOICES.glob("*.pdf"))
TODAY = dt.date(2026, 2, 1)

# expected.json key -> ExtractedInvoice field (see tests/fixtures/shared_data/README.md)
EXPECTED_FIELDS = {
    "invoice_number": "invoice_number",
    "date": "invoice_date",
    "date_due": "due_date",
    "amount": "total",
    "amount_untaxed": "subtotal",
    "amount_tax": "tax_amount",
    "vat": "supplier_tax_id",
    "iban": "supplier_iban",
    "currency": "currency",
    "issuer": "supplier_name",
    "document_type": "document_type",
}
# The ZUGFeRD 1.0 insurance examples: their XML numbers the invoice "01.234.567.8-2014-1",
# the page prints only the policy number "01.234.567.8" (the 2.x versions print it whole)
NUMBER_NOT_ON_PAGE = {
    "v1-correct-Intarsys__ZUGFeRD_1p0_COMFORT_Haftpflichtversicherung_Versicherungssteuer",
    "v1-correct-Intarsys__ZUGFeRD_1p0_COMFORT_Kraftfahrversicherung_Bruttopreise",
    "v1-correct-Intarsys__ZUGFeRD_1p0_COMFORT_Sachversicherung_berechneter_Steuersatz",
}


def expected(pdf: Path) -> dict:
    """The expected.json of `pdf` as ExtractedInvoice field values."""
    raw = json.loads(pdf.with_suffix(".expected.json").read_text("utf-8"), parse_float=Decimal)
    (values,) = raw
    out = {}
    for key, field in EXPECTED_FIELDS.items():
        if key not in values:
            continue
        value = values[key]
        if field in ("total", "subtotal", "tax_amount"):
            value = Decimal(value)
        elif field in ("invoice_date", "due_date"):
            value = dt.date.fromisoformat(value)
        elif field in ("supplier_tax_id", "supplier_iban"):
            value = compact(value)
        out[field] = value
    return out


def embedded_xml(pdf: Path) -> bytes:
    (found,) = [c for c in embedded.candidates(pdf.read_bytes()) if c.found_by == "name"]
    return found.data


def fixture(stem: str) -> Path:
    return EINVOICES / f"{stem}.pdf"


# ---------------------------------------------------------------- the 41 real PDFs


def test_the_fixture_set_is_complete() -> None:
    assert len(PDFS) == 41
    assert (EINVOICES / "LICENSE").read_text("utf-8").lstrip().startswith("Apache License")


@pytest.mark.parametrize("pdf", PDFS, ids=lambda p: p.stem)
def test_real_einvoice_reads_exactly(pdf: Path) -> None:
    inv = extract_file(pdf, today=TODAY)
    want = expected(pdf)
    got = {field: getattr(inv, field) for field in want}
    assert got == want
    assert inv.extraction_method == "einvoice" and inv.media_type == "application/pdf"
    # every field read from the XML at full confidence
    read = [f for f in inv.field_confidence if getattr(inv, f) is not None]
    assert read and all(inv.field_confidence[f] == 1.0 for f in read)
    assert set(want) - {"document_type"} <= set(inv.field_confidence)
    # the parts add up as the posting engine needs them
    if inv.line_items:
        assert sum(i.amount for i in inv.line_items) == inv.subtotal
    if inv.tax_breakdown:
        assert sum(b.net for b in inv.tax_breakdown) == inv.subtotal
        assert sum(b.tax for b in inv.tax_breakdown) == inv.tax_amount
    # the page agrees with the XML, but for the three whose XML numbers the invoice
    # otherwise; other reasons are the sample data's own (made-up IBANs, a due date
    # before the invoice date), found by the checks every invoice goes through
    number_reason = [r for r in inv.review_reasons if r.startswith("invoice number:")]
    if pdf.stem in NUMBER_NOT_ON_PAGE:
        assert number_reason == [
            f"invoice number: the embedded XML says {inv.invoice_number}, the page does not show it"
        ]
    else:
        assert number_reason == []
    assert not any(r.startswith("total:") for r in inv.review_reasons)
    for reason in inv.review_reasons:
        assert reason.startswith(("invoice number:", "supplier IBAN", "due date")), reason
    assert inv.status == ("needs_review" if inv.review_reasons else "extracted")


def test_prepaid_allowances_and_two_rates_zugferd_2() -> None:
    """EN 16931 "Rabatte": two rates, document-level allowances and a charge, 50.00
    prepaid. The total is the gross total, not the 165.07 left to pay; the allowances
    and the charge become lines, so the lines add up to the net."""
    inv = extract_file(fixture("v2-correct-intarsys__zugferd_2p0_EN16931_Rabatte"), today=TODAY)
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("193.77"),
        Decimal("21.30"),
        Decimal("215.07"),
    )
    assert inv.tax_breakdown == [
        TaxBreakdown(rate=Decimal("0.19"), net=Decimal("64.40"), tax=Decimal("12.24")),
        TaxBreakdown(rate=Decimal("0.07"), net=Decimal("129.37"), tax=Decimal("9.06")),
    ]
    adjustments = [(i.description, i.amount, i.tax_rate) for i in inv.line_items[-3:]]
    assert adjustments == [
        ("allowance: Sondernachlass", Decimal("-1.00"), Decimal("0.19")),
        ("allowance: Sondernachlass", Decimal("-13.73"), Decimal("0.07")),
        ("charge: Versandkosten", Decimal("5.80"), Decimal("0.07")),
    ]
    first = inv.line_items[0]
    assert (first.line_no, first.description, first.quantity, first.unit, first.amount) == (
        1,
        "Kunstrasen grün 3m breit",
        Decimal("3.0000"),
        "MTK",
        Decimal("10.00"),
    )
    assert inv.status == "extracted" and inv.language == "de"


def test_foreign_currency_tax_total_in_the_invoice_currency() -> None:
    """An invoice in GBP states its VAT twice (GBP and the EUR tax currency): the
    invoice currency's is the tax amount."""
    inv = extract_file(fixture("v2-correct-intarsys__zugferd_2p0_EXTENDED_Fremdwaehrung"))
    assert (inv.currency, inv.tax_amount, inv.total) == (
        "GBP",
        Decimal("163.16"),
        Decimal("1021.91"),
    )
    assert inv.due_date == dt.date(2018, 11, 20)  # the net due date, not the discount's


def test_corrected_invoice_keeps_its_signs() -> None:
    """A corrected invoice (TypeCode 384) with negative amounts is an invoice with its
    signs, as its XML says; its allowance (signed against the producer's own total)
    still adds up."""
    inv = extract_file(fixture("v2-correct-intarsys__zugferd_2p0_EN16931_Rechnungskorrektur"))
    assert inv.document_type == "invoice"
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("-7.67"),
        Decimal("-1.12"),
        Decimal("-8.79"),
    )
    assert sum(i.amount for i in inv.line_items) == Decimal("-7.67")


def test_minimum_profile_has_only_the_header() -> None:
    inv = extract_file(fixture("v2-correct-intarsys__zugferd_2p0_MINIMUM"), today=TODAY)
    assert inv.line_items == [] and inv.tax_breakdown == []
    assert inv.status == "extracted" and inv.buyer_name == "Kunden AG Mitte"


# ---------------------------------------------------------------- bare XML files


@pytest.mark.parametrize(
    "stem",
    [
        "v1-correct-Intarsys__ZUGFeRD_1p0_COMFORT_Rabatte",
        "v2-correct-intarsys__zugferd_2p0_EN16931_Rabatte",
        "v2-correct-intarsys__zugferd_2p0_EXTENDED_Warenrechnung",
    ],
)
def test_bare_cii_xml_reads_as_its_pdf(stem: str, tmp_path: Path) -> None:
    pdf = fixture(stem)
    path = tmp_path / "rechnung.xml"
    path.write_bytes(embedded_xml(pdf))
    inv = extract_file(path, today=TODAY)
    assert inv.media_type == "application/xml" and inv.extraction_method == "einvoice"
    assert {f: getattr(inv, f) for f in expected(pdf)} == expected(pdf)
    from_pdf = extract_file(pdf, today=TODAY)
    same = ("line_items", "tax_breakdown", "buyer_name", "buyer_tax_id", "due_date")
    assert all(getattr(inv, f) == getattr(from_pdf, f) for f in same)
    assert inv.status == "extracted"


def test_cii_credit_note_by_type_code(tmp_path: Path) -> None:
    """TypeCode 381: a credit note, its amounts positive as the page reading gives them."""
    xml = embedded_xml(fixture("v2-correct-intarsys__zugferd_2p0_EN16931_Einfach"))
    assert xml.count(b"<ram:TypeCode>380</ram:TypeCode>") == 1
    path = tmp_path / "gutschrift.xml"
    path.write_bytes(xml.replace(b"<ram:TypeCode>380<", b"<ram:TypeCode>381<"))
    inv = extract_file(path, today=TODAY)
    assert inv.document_type == "credit_note"
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("473.00"),
        Decimal("56.87"),
        Decimal("529.87"),
    )
    assert inv.status == "extracted"


# Peppol BIS Billing 3.0 documents, written here: two VAT rates, line items, a document
# allowance and charge, a prepayment, the IBAN in PaymentMeans.
PEPPOL_INVOICE = """<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>INV-2026-0042</cbc:ID>
  <cbc:IssueDate>2026-01-15</cbc:IssueDate>
  <cbc:DueDate>2026-02-14</cbc:DueDate>
  <cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>
  <cbc:Note>Thank you for your order.</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>PO-7781</cbc:BuyerReference>
  <cac:OrderReference><cbc:ID>PO-7781</cbc:ID></cac:OrderReference>
  <cac:AccountingSupplierParty>
    <cac:Party>
      <cbc:EndpointID schemeID="9930">DE123456789</cbc:EndpointID>
      <cac:PartyName><cbc:Name>Büro Bedarf</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:StreetName>Hauptstraße 12</cbc:StreetName>
        <cbc:CityName>Köln</cbc:CityName>
        <cbc:PostalZone>50667</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>DE123456789</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>214/5678/0123</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>FC</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>Büro Bedarf Schneider GmbH</cbc:RegistrationName>
        <cbc:CompanyID>HRB 12345</cbc:CompanyID>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty>
    <cac:Party>
      <cbc:EndpointID schemeID="9930">DE987654321</cbc:EndpointID>
      <cac:PostalAddress>
        <cbc:StreetName>Friedrichstraße 100</cbc:StreetName>
        <cbc:CityName>Berlin</cbc:CityName>
        <cbc:PostalZone>10117</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>DE 987 654 321</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>Closeflow Demo GmbH</cbc:RegistrationName>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingCustomerParty>
  <cac:Delivery><cbc:ActualDeliveryDate>2026-01-14</cbc:ActualDeliveryDate></cac:Delivery>
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode name="SEPA credit transfer">58</cbc:PaymentMeansCode>
    <cbc:PaymentID>INV-2026-0042</cbc:PaymentID>
    <cac:PayeeFinancialAccount>
      <cbc:ID>DE89 3704 0044 0532 0130 00</cbc:ID>
      <cbc:Name>Büro Bedarf Schneider GmbH</cbc:Name>
      <cac:FinancialInstitutionBranch><cbc:ID>COBADEFFXXX</cbc:ID></cac:FinancialInstitutionBranch>
    </cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:PaymentTerms><cbc:Note>30 days net</cbc:Note></cac:PaymentTerms>
  <cac:AllowanceCharge>
    <cbc:ChargeIndicator>false</cbc:ChargeIndicator>
    <cbc:AllowanceChargeReasonCode>95</cbc:AllowanceChargeReasonCode>
    <cbc:AllowanceChargeReason>Loyalty discount</cbc:AllowanceChargeReason>
    <cbc:Amount currencyID="EUR">10.00</cbc:Amount>
    <cac:TaxCategory>
      <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:TaxCategory>
  </cac:AllowanceCharge>
  <cac:AllowanceCharge>
    <cbc:ChargeIndicator>true</cbc:ChargeIndicator>
    <cbc:AllowanceChargeReasonCode>FC</cbc:AllowanceChargeReasonCode>
    <cbc:AllowanceChargeReason>Shipping</cbc:AllowanceChargeReason>
    <cbc:Amount currencyID="EUR">5.90</cbc:Amount>
    <cac:TaxCategory>
      <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
      <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:TaxCategory>
  </cac:AllowanceCharge>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">78.90</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">343.90</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">65.34</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">193.70</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">13.56</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">541.70</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">537.60</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">616.50</cbc:TaxInclusiveAmount>
    <cbc:AllowanceTotalAmount currencyID="EUR">10.00</cbc:AllowanceTotalAmount>
    <cbc:ChargeTotalAmount currencyID="EUR">5.90</cbc:ChargeTotalAmount>
    <cbc:PrepaidAmount currencyID="EUR">100.00</cbc:PrepaidAmount>
    <cbc:PayableAmount currencyID="EUR">516.50</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:InvoiceLine>
    <cbc:ID>1</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">2</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">299.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Office chair, ergonomic</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">149.50</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
  <cac:InvoiceLine>
    <cbc:ID>2</cbc:ID>
    <cbc:InvoicedQuantity unitCode="XPK">10</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">49.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Printer paper A4, 500 sheets</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>19</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">4.90</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
  <cac:InvoiceLine>
    <cbc:ID>3</cbc:ID>
    <cbc:InvoicedQuantity unitCode="C62">3</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">119.70</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Handbook of bookkeeping (print)</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">39.90</cbc:PriceAmount></cac:Price>
  </cac:InvoiceLine>
  <cac:InvoiceLine>
    <cbc:ID>4</cbc:ID>
    <cbc:InvoicedQuantity unitCode="KGM">4</cbc:InvoicedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">74.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Coffee beans</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price>
      <cbc:PriceAmount currencyID="EUR">92.50</cbc:PriceAmount>
      <cbc:BaseQuantity unitCode="KGM">5</cbc:BaseQuantity>
    </cac:Price>
  </cac:InvoiceLine>
</Invoice>
"""

PEPPOL_CREDIT_NOTE = """<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0</cbc:CustomizationID>
  <cbc:ProfileID>urn:fdc:peppol.eu:2017:poacc:billing:01:1.0</cbc:ProfileID>
  <cbc:ID>CN-2026-007</cbc:ID>
  <cbc:IssueDate>2026-01-20</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:Note>Returned goods, see RMA 5512</cbc:Note>
  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
  <cbc:BuyerReference>PO-7702</cbc:BuyerReference>
  <cac:BillingReference>
    <cac:InvoiceDocumentReference>
      <cbc:ID>NL-2025-1180</cbc:ID>
      <cbc:IssueDate>2025-12-12</cbc:IssueDate>
    </cac:InvoiceDocumentReference>
  </cac:BillingReference>
  <cac:AccountingSupplierParty>
    <cac:Party>
      <cbc:EndpointID schemeID="0106">30123456</cbc:EndpointID>
      <cac:PartyName><cbc:Name>Beeldscherm Groothandel</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:StreetName>Keizersgracht 200</cbc:StreetName>
        <cbc:CityName>Amsterdam</cbc:CityName>
        <cbc:PostalZone>1016 DZ</cbc:PostalZone>
        <cac:Country><cbc:IdentificationCode>NL</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>NL123456789B01</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>Beeldscherm Groothandel B.V.</cbc:RegistrationName>
        <cbc:CompanyID schemeID="0106">30123456</cbc:CompanyID>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty>
    <cac:Party>
      <cbc:EndpointID schemeID="9930">DE987654321</cbc:EndpointID>
      <cac:PartyName><cbc:Name>Closeflow Demo</cbc:Name></cac:PartyName>
      <cac:PostalAddress>
        <cbc:CityName>Berlin</cbc:CityName>
        <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country>
      </cac:PostalAddress>
      <cac:PartyTaxScheme>
        <cbc:CompanyID>DE987654321</cbc:CompanyID>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:PartyTaxScheme>
      <cac:PartyLegalEntity>
        <cbc:RegistrationName>Closeflow Demo GmbH</cbc:RegistrationName>
      </cac:PartyLegalEntity>
    </cac:Party>
  </cac:AccountingCustomerParty>
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>30</cbc:PaymentMeansCode>
    <cbc:PaymentDueDate>2026-02-19</cbc:PaymentDueDate>
    <cbc:PaymentID>CN-2026-007</cbc:PaymentID>
    <cac:PayeeFinancialAccount><cbc:ID>NL91ABNA0417164300</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="EUR">62.55</cbc:TaxAmount>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">285.00</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">59.85</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
    <cac:TaxSubtotal>
      <cbc:TaxableAmount currencyID="EUR">30.00</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="EUR">2.70</cbc:TaxAmount>
      <cac:TaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>9</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:TaxCategory>
    </cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="EUR">315.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="EUR">315.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="EUR">377.55</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="EUR">377.55</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:CreditNoteLine>
    <cbc:ID>1</cbc:ID>
    <cbc:CreditedQuantity unitCode="C62">1</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">249.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Monitor 27 inch, returned</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">249.00</cbc:PriceAmount></cac:Price>
  </cac:CreditNoteLine>
  <cac:CreditNoteLine>
    <cbc:ID>2</cbc:ID>
    <cbc:CreditedQuantity unitCode="C62">3</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">36.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>HDMI cable 2 m</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>21</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">12.00</cbc:PriceAmount></cac:Price>
  </cac:CreditNoteLine>
  <cac:CreditNoteLine>
    <cbc:ID>3</cbc:ID>
    <cbc:CreditedQuantity unitCode="C62">2</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="EUR">30.00</cbc:LineExtensionAmount>
    <cac:Item>
      <cbc:Name>Printed user manual</cbc:Name>
      <cac:ClassifiedTaxCategory>
        <cbc:ID>S</cbc:ID><cbc:Percent>9</cbc:Percent>
        <cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
      </cac:ClassifiedTaxCategory>
    </cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="EUR">15.00</cbc:PriceAmount></cac:Price>
  </cac:CreditNoteLine>
</CreditNote>
"""


def test_peppol_ubl_invoice_reads_exactly(tmp_path: Path) -> None:
    path = tmp_path / "INV-2026-0042.xml"
    path.write_text(PEPPOL_INVOICE, encoding="utf-8")
    inv = extract_file(path, today=TODAY)
    assert (inv.media_type, inv.extraction_method, inv.document_type) == (
        "application/xml",
        "einvoice",
        "invoice",
    )
    assert (inv.invoice_number, inv.invoice_date, inv.due_date, inv.currency) == (
        "INV-2026-0042",
        dt.date(2026, 1, 15),
        dt.date(2026, 2, 14),
        "EUR",
    )
    # the registered name (BT-27), not the trading name; the VAT id, not the tax number
    assert (inv.supplier_name, inv.supplier_tax_id) == ("Büro Bedarf Schneider GmbH", "DE123456789")
    assert (inv.buyer_name, inv.buyer_tax_id) == ("Closeflow Demo GmbH", "DE987654321")
    assert (inv.supplier_iban, inv.payment_reference) == ("DE89370400440532013000", "INV-2026-0042")
    # the gross total, not the 516.50 payable after the 100.00 prepaid
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("537.60"),
        Decimal("78.90"),
        Decimal("616.50"),
    )
    assert inv.tax_breakdown == [
        TaxBreakdown(rate=Decimal("0.19"), net=Decimal("343.90"), tax=Decimal("65.34")),
        TaxBreakdown(rate=Decimal("0.07"), net=Decimal("193.70"), tax=Decimal("13.56")),
    ]
    r19, r7 = Decimal("0.19"), Decimal("0.07")
    assert inv.line_items == [
        LineItem(
            line_no=1,
            description="Office chair, ergonomic",
            quantity=Decimal(2),
            unit_price=Decimal("149.50"),
            amount=Decimal("299.00"),
            tax_rate=r19,
            unit="C62",
        ),
        LineItem(
            line_no=2,
            description="Printer paper A4, 500 sheets",
            quantity=Decimal(10),
            unit_price=Decimal("4.90"),
            amount=Decimal("49.00"),
            tax_rate=r19,
            unit="XPK",
        ),
        LineItem(
            line_no=3,
            description="Handbook of bookkeeping (print)",
            quantity=Decimal(3),
            unit_price=Decimal("39.90"),
            amount=Decimal("119.70"),
            tax_rate=r7,
            unit="C62",
        ),
        LineItem(  # priced per 5 kg: 18.50 a kilogram
            line_no=4,
            description="Coffee beans",
            quantity=Decimal(4),
            unit_price=Decimal("18.50"),
            amount=Decimal("74.00"),
            tax_rate=r7,
            unit="KGM",
        ),
        LineItem(
            line_no=5,
            description="allowance: Loyalty discount",
            amount=Decimal("-10.00"),
            tax_rate=r19,
        ),
        LineItem(line_no=6, description="charge: Shipping", amount=Decimal("5.90"), tax_rate=r19),
    ]
    assert all(inv.field_confidence[f] == 1.0 for f in inv.field_confidence)
    assert len(inv.field_confidence) == 13
    assert (inv.status, inv.review_reasons) == ("extracted", [])


def test_peppol_ubl_credit_note_reads_exactly(tmp_path: Path) -> None:
    path = tmp_path / "CN-2026-007.xml"
    path.write_text(PEPPOL_CREDIT_NOTE, encoding="utf-8")
    inv = extract_file(path, today=TODAY)
    assert (inv.document_type, inv.extraction_method) == ("credit_note", "einvoice")
    assert (inv.invoice_number, inv.invoice_date, inv.due_date) == (
        "CN-2026-007",
        dt.date(2026, 1, 20),
        dt.date(2026, 2, 19),  # a UBL 2.1 credit note's due date is its payment means'
    )
    assert (inv.supplier_name, inv.supplier_tax_id, inv.supplier_iban) == (
        "Beeldscherm Groothandel B.V.",
        "NL123456789B01",
        "NL91ABNA0417164300",
    )
    assert (inv.subtotal, inv.tax_amount, inv.total) == (
        Decimal("315.00"),
        Decimal("62.55"),
        Decimal("377.55"),
    )
    assert inv.tax_breakdown == [
        TaxBreakdown(rate=Decimal("0.21"), net=Decimal("285.00"), tax=Decimal("59.85")),
        TaxBreakdown(rate=Decimal("0.09"), net=Decimal("30.00"), tax=Decimal("2.70")),
    ]
    lines = [(i.line_no, i.description, i.quantity, i.amount, i.tax_rate) for i in inv.line_items]
    assert lines == [
        (1, "Monitor 27 inch, returned", Decimal(1), Decimal("249.00"), Decimal("0.21")),
        (2, "HDMI cable 2 m", Decimal(3), Decimal("36.00"), Decimal("0.21")),
        (3, "Printed user manual", Decimal(2), Decimal("30.00"), Decimal("0.09")),
    ]
    assert (inv.status, inv.review_reasons) == ("extracted", [])


def test_peppol_envelope_is_looked_into(tmp_path: Path) -> None:
    """A Peppol business document (SBDH) around the invoice, as access points pass it."""
    body = PEPPOL_INVOICE.split("?>", 1)[1]
    sbd = (
        '<StandardBusinessDocument xmlns="http://www.unece.org/cefact/namespaces/'
        'StandardBusinessDocumentHeader"><StandardBusinessDocumentHeader>'
        "<HeaderVersion>1.0</HeaderVersion></StandardBusinessDocumentHeader>"
        f"{body}</StandardBusinessDocument>"
    )
    path = tmp_path / "sbd.xml"
    path.write_text(sbd, encoding="utf-8")
    inv = extract_file(path, today=TODAY)
    assert (inv.invoice_number, inv.total, inv.status) == (
        "INV-2026-0042",
        Decimal("616.50"),
        "extracted",
    )


# ---------------------------------------------------------------- an independent reading


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


@pytest.mark.parametrize(
    "name",
    [p.stem for p in PDFS if p.stem.startswith("v2")] + ["peppol-invoice", "peppol-credit-note"],
)
def test_readers_agree_with_the_factur_x_library(name: str) -> None:
    """The CII and UBL readers against factur-x's own EN 16931 parser (it reads CII
    D16B and UBL, not ZUGFeRD 1.0), business term by business term. Its parser expands
    entities, which is why closeflow does not use it on what arrives in the inbox."""
    from facturx.parse_xml import parse_ubl_cii_xml

    data = {
        "peppol-invoice": PEPPOL_INVOICE.encode(),
        "peppol-credit-note": PEPPOL_CREDIT_NOTE.encode(),
    }.get(name) or embedded_xml(fixture(name))
    root = safexml.parse(data)
    e = read_cii(root) if sniff.syntax_of(root) == "cii" else read_ubl(root)
    theirs = parse_ubl_cii_xml(data, check_xsd=False)
    due = theirs.get("BT-9")
    seller, buyer = theirs.get("BG-4", {}), theirs.get("BG-7", {})
    direct_debit = theirs.get("BT-81") == "59"  # BT-84 is then no payee account
    ours = {
        "BT-1": e.number,
        "BT-2": e.issue_date,
        "BT-3": e.type_code,
        "BT-5": e.currency,
        "BT-9": e.due_date,
        "BT-27": e.seller.name,
        "BT-31": e.seller.vat_id,
        "BT-44": e.buyer.name,
        "BT-48": e.buyer.vat_id,
        "BT-83": e.payment_reference,
        "BT-84": e.payee_iban,
        "BT-106": e.line_total,
        "BT-107": e.allowance_total,
        "BT-108": e.charge_total,
        "BT-109": e.tax_basis_total,
        "BT-110": e.tax_total,
        "BT-112": e.grand_total,
        "BT-113": e.prepaid,
        "BT-115": e.due_payable,
        "BG-23": [(t.basis, t.tax, t.category, t.percent) for t in e.taxes],
        "BT-131": [line.net_amount for line in e.lines],
    }
    money = ("BT-106", "BT-107", "BT-108", "BT-109", "BT-110", "BT-112", "BT-113", "BT-115")
    expected_values = {
        "BT-1": theirs.get("BT-1"),
        "BT-2": theirs.get("BT-2"),
        "BT-3": theirs.get("BT-3"),
        "BT-5": theirs.get("BT-5"),
        "BT-9": max(due) if isinstance(due, list) else due,
        "BT-27": seller.get("name"),
        "BT-31": seller.get("vat_identifier"),
        "BT-44": buyer.get("name"),
        "BT-48": buyer.get("vat_identifier"),
        "BT-83": theirs.get("BT-83"),
        "BT-84": None if direct_debit else theirs.get("BT-84"),
        **{bt: _dec(theirs.get(bt)) for bt in money},
        "BG-23": [
            (_dec(t.get("BT-116")), _dec(t.get("BT-117")), t.get("BT-118"), _dec(t.get("BT-119")))
            for t in theirs.get("BG-23", [])
        ],
        "BT-131": [_dec(line.get("BT-131")) for line in theirs.get("BG-25", [])],
    }
    assert ours == expected_values


# ---------------------------------------------------------------- supplier master data


def test_supplier_identified_and_master_iban_checked(tmp_path: Path) -> None:
    pdf = fixture("v1-correct-Intarsys__ZUGFeRD_1p0_BASIC_Einfach")
    known = Supplier(supplier_id="SUP-LF", name="Lieferant", tax_id="DE 123 456 789")
    inv = extract_file(pdf, [known], today=TODAY)
    assert (inv.supplier_id, inv.field_confidence["supplier_id"]) == ("SUP-LF", 0.99)
    assert inv.supplier_name == "Lieferant GmbH"  # the name as the XML has it
    assert inv.status == "extracted"
    changed = known.model_copy(update={"iban": "DE89370400440532013000"})
    inv = extract_file(pdf, [changed], today=TODAY)
    assert inv.status == "needs_review"
    assert inv.review_reasons == [
        "bank account (IBAN) DE08700901001234567890 on the invoice differs from "
        "DE89370400440532013000 in the supplier master data of Lieferant: confirm with "
        "the supplier before paying"
    ]
    by_iban = Supplier(supplier_id="SUP-X", name="Other name", iban="DE08700901001234567890")
    assert extract_file(pdf, [by_iban], today=TODAY).supplier_id == "SUP-X"


# ---------------------------------------------------------------- hybrid PDFs: the cross-check


def _reembedded(pdf: Path, tmp_path: Path, edit=lambda x: x) -> Path:  # noqa: ANN001
    """`pdf` with its XML, edited, embedded again as factur-x.xml by the factur-x library."""
    xml = edit(embedded_xml(pdf))
    out = tmp_path / f"{pdf.stem}-reembedded.pdf"
    out.write_bytes(generate_from_binary(pdf.read_bytes(), xml, flavor="factur-x", check_xsd=False))
    return out


EINFACH = "v2-correct-intarsys__zugferd_2p0_EN16931_Einfach"


def test_reembedded_unchanged_xml_agrees_with_the_page(tmp_path: Path) -> None:
    path = _reembedded(fixture(EINFACH), tmp_path)
    names = [a.name for a in pypdf.PdfReader(path).attachment_list]
    assert names == ["factur-x.xml"]
    inv = extract_file(path, today=TODAY)
    assert (inv.extraction_method, inv.status, inv.total) == (
        "einvoice",
        "extracted",
        Decimal("529.87"),
    )


def test_page_showing_another_total_goes_to_review(tmp_path: Path) -> None:
    def edit(xml: bytes) -> bytes:
        return xml.replace(b"<ram:GrandTotalAmount>529.87<", b"<ram:GrandTotalAmount>519.87<")

    inv = extract_file(_reembedded(fixture(EINFACH), tmp_path, edit), today=TODAY)
    assert inv.total == Decimal("519.87")  # the XML is what is read, never the page
    assert inv.status == "needs_review"
    assert inv.review_reasons[0] == "total: the embedded XML says 519.87, the page shows 529.87"


def test_page_showing_another_number_goes_to_review(tmp_path: Path) -> None:
    def edit(xml: bytes) -> bytes:
        return xml.replace(b"<ram:ID>471102</ram:ID>", b"<ram:ID>471120</ram:ID>", 1)

    inv = extract_file(_reembedded(fixture(EINFACH), tmp_path, edit), today=TODAY)
    assert inv.invoice_number == "471120"
    assert inv.status == "needs_review"
    assert inv.review_reasons == [
        "invoice number: the embedded XML says 471120, the page shows 471102"
    ]


def _page(c) -> None:  # noqa: ANN001
    register_fonts()
    c.setFont(LATIN_BOLD, 16)
    c.drawString(50, 780, "Lieferant GmbH")
    c.setFont(LATIN, 10)
    c.drawString(50, 760, "Lieferantenstraße 20, 80333 München, USt-IdNr. DE123456789")
    c.drawString(50, 720, "Rechnung Nr. 471102")
    c.drawString(50, 704, "Rechnungsdatum: 05.03.2018")
    c.drawString(50, 670, "Trennblätter A4, 20 Stück")
    c.drawRightString(545, 670, "198,00")
    c.drawString(50, 654, "Joghurt Banane, 50 Stück")
    c.drawRightString(545, 654, "275,00")
    c.drawString(380, 620, "Nettobetrag:")
    c.drawRightString(545, 620, "473,00")
    c.drawString(380, 604, "Umsatzsteuer:")
    c.drawRightString(545, 604, "56,87")
    c.drawString(380, 588, "Gesamtbetrag EUR:")
    c.drawRightString(545, 588, "529,87")


def _with_associated_file(xml: bytes, name: str, relationship: str) -> bytes:
    """A drawn invoice page with `xml` attached only through the catalog's /AF array
    (not in the embedded files' name tree), under `name`."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(_page)))
    stream = DecodedStreamObject()
    stream.set_data(xml)
    stream[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject(name),
            NameObject("/UF"): TextStringObject(name),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(stream)}),
            NameObject("/AFRelationship"): NameObject(relationship),
        }
    )
    writer._root_object[NameObject("/AF")] = ArrayObject([writer._add_object(spec)])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_invoice_xml_found_by_its_af_relationship(tmp_path: Path) -> None:
    xml = embedded_xml(fixture(EINFACH))
    path = tmp_path / "hybrid.pdf"
    path.write_bytes(_with_associated_file(xml, "rechnung-471102.xml", "/Alternative"))
    assert list(pypdf.PdfReader(path).attachment_list) == []  # no name: only /AF
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "einvoice"
    assert {f: getattr(inv, f) for f in expected(fixture(EINFACH))} == expected(fixture(EINFACH))
    assert (inv.status, inv.review_reasons) == ("extracted", [])


def test_an_associated_xml_that_is_no_invoice_is_left_alone(tmp_path: Path) -> None:
    """An XML related as the document's data that is not an invoice (a timesheet): the
    PDF is read from its page, as any other."""
    path = tmp_path / "with-timesheet.pdf"
    path.write_bytes(
        _with_associated_file(b"<timesheet><hours>8</hours></timesheet>", "t.xml", "/Data")
    )
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "text"
    assert (inv.invoice_number, inv.total) == ("471102", Decimal("529.87"))
    assert not any("XML" in r for r in inv.review_reasons)


def test_broken_embedded_xml_is_read_from_the_page_for_review(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(_page)))
    broken = embedded_xml(fixture(EINFACH))[:-200]  # cut off: not well-formed
    writer.add_attachment("factur-x.xml", broken)
    path = tmp_path / "broken.pdf"
    writer.write(path)
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "text"
    assert (inv.invoice_number, inv.total) == ("471102", Decimal("529.87"))
    assert inv.status == "needs_review"
    assert inv.review_reasons[0].startswith(
        "the embedded factur-x.xml cannot be read: the XML is not well-formed ("
    )
    assert inv.review_reasons[0].endswith("; its page was read instead")


# ---------------------------------------------------------------- unsafe and wrong XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
  <rsm:ExchangedDocument><ram:ID>&lol9;</ram:ID></rsm:ExchangedDocument>
</rsm:CrossIndustryInvoice>
"""
XXE = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
  <cbc:ID>&xxe;</cbc:ID>
  <cbc:IssueDate>2026-01-15</cbc:IssueDate>
</Invoice>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_entities_are_refused(data: bytes, tmp_path: Path) -> None:
    with pytest.raises(safexml.XmlRefused, match="DOCTYPE"):
        safexml.parse(data)
    # in UTF-16 as well
    utf16 = data.decode("utf-8").replace('"1.0"?>', '"1.0" encoding="UTF-16"?>', 1)
    with pytest.raises(safexml.XmlRefused, match="DOCTYPE"):
        safexml.parse(utf16.encode("utf-16"))
    path = tmp_path / "attack.xml"
    path.write_bytes(data)
    inv = extract_file(path, today=TODAY)
    assert inv.status == "quarantined" and inv.invoice_number is None
    (reason,) = inv.review_reasons
    assert reason.startswith("the XML file cannot be read: the XML declares a document type")
    assert "root:" not in inv.model_dump_json()


def test_the_parser_itself_never_expands_or_fetches() -> None:
    """The second line of defence, below the DOCTYPE refusal: lxml as configured leaves
    an entity unexpanded and reads no file."""
    root = etree.fromstring(XXE, safexml._parser())
    assert b"root:" not in etree.tostring(root)
    try:
        root = etree.fromstring(BILLION_LAUGHS, safexml._parser())
    except etree.XMLSyntaxError as exc:  # or libxml2's own amplification limit stops it
        assert "amplification" in str(exc)
    else:
        assert len(etree.tostring(root)) < 5000


def test_xxe_in_an_embedded_xml_is_refused_and_the_page_read(tmp_path: Path) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(pdf_bytes(_page)))
    writer.add_attachment("xrechnung.xml", XXE)
    path = tmp_path / "xxe.pdf"
    writer.write(path)
    inv = extract_file(path, today=TODAY)
    assert inv.extraction_method == "text" and inv.status == "needs_review"
    assert inv.review_reasons[0].startswith("the embedded xrechnung.xml cannot be read: the XML")
    assert "root:" not in inv.model_dump_json()


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b'<?xml version="1.0"?><Order xmlns="urn:example:orders"><ID>1</ID></Order>',
            "the XML file is not an e-invoice (an XML document whose root is Order "
            "(urn:example:orders)); closeflow reads CII (Factur-X / ZUGFeRD / XRechnung) "
            "and UBL (Peppol BIS 3 / XRechnung) invoices and credit notes",
        ),
        (
            b'<?xml version="1.0"?><Invoice><ID>1</ID>',
            "the XML file cannot be read: the XML is not well-formed (",
        ),
        (b"<note>plain</note>", "the XML file is not an e-invoice (an XML document whose root"),
    ],
    ids=["other-xml", "not-well-formed", "no-namespace"],
)
def test_xml_that_is_no_einvoice_is_quarantined(data: bytes, reason: str, tmp_path: Path) -> None:
    path = tmp_path / "file.xml"
    path.write_bytes(data)
    inv = extract_file(path)
    assert (inv.status, inv.media_type) == ("quarantined", "application/xml")
    (got,) = inv.review_reasons
    assert got.startswith(reason)


def test_xml_is_sniffed_from_the_content_not_the_name() -> None:
    assert load.sniff(b'\xef\xbb\xbf<?xml version="1.0"?><a/>') == load.XML
    assert load.sniff('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16")) == load.XML
    assert load.sniff(b"<rsm:CrossIndustryInvoice xmlns:rsm='x'/>") == load.XML
    assert load.sniff(b"<!DOCTYPE html><html></html>") is None
    assert load.sniff(b"<html><body>hi</body></html>") is None


# ---------------------------------------------------------------- everything else unchanged


def test_pdf_without_invoice_xml_goes_through_the_page_reading(tmp_path: Path) -> None:
    path = SHARED / "invoices" / "AmazonWebServices.pdf"
    file = load.read_input(path)
    assert einvoice.read(file) is None
    base = {
        "file": str(path),
        "file_sha256": file.sha256,
        "media_type": file.media_type,
        "size_bytes": file.size_bytes,
    }
    inv = extract_file(path)
    assert inv.extraction_method == "text"
    options = (DEFAULT_DPI, tesseract.DEFAULT_TIMEOUT, DEFAULT_MIN_CONFIDENCE, None)
    assert inv == _read_pages(file, base, None, *options)
    png = tmp_path / "page.png"
    Image.new("L", (40, 40), 255).save(png)
    assert einvoice.read(load.read_input(png)) is None
