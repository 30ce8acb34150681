"""The extracted invoice: what `ocr` hands to the rest of closeflow.

Typed at the boundary (pydantic), money as Decimal, dates as date. `to_json()` gives the
DESIGN.md command-line form: ISO dates, amounts as decimal strings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

# "einvoice": read from the structured XML of an e-invoice (ocr.einvoice), not the page
ExtractionMethod = Literal["text", "ocr", "mixed", "einvoice"]
DocumentStatus = Literal["extracted", "needs_review", "quarantined", "duplicate"]
InvoiceKind = Literal["vat_special", "vat_ordinary"]  # 增值税专用发票 / 增值税普通发票


class LineItem(BaseModel):
    line_no: int
    description: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal
    tax_rate: Decimal | None = None  # 0.20 for 20 %
    tax_amount: Decimal | None = None
    unit: str | None = None  # 单位 / unit of measure, where the table has the column
    spec: str | None = None  # 规格型号 (specification / model) of a Chinese VAT invoice


class TaxBreakdown(BaseModel):
    """Net and tax at one rate: what a tax line of the journal entry needs."""

    rate: Decimal  # 0.19 for 19 %
    net: Decimal
    tax: Decimal | None = None  # None where the document prints no tax for the rate


class ExtractedInvoice(BaseModel):
    """One input file after extraction. Fields are None when not found."""

    file: str
    file_sha256: str
    media_type: str
    size_bytes: int
    supplier_id: str | None = None
    supplier_name: str | None = None
    supplier_tax_id: str | None = None
    buyer_name: str | None = None
    buyer_tax_id: str | None = None
    invoice_number: str | None = None
    invoice_date: dt.date | None = None
    due_date: dt.date | None = None
    currency: str | None = None
    subtotal: Decimal | None = None
    tax_amount: Decimal | None = None
    total: Decimal | None = None
    # "receipt": a till receipt, the voucher of an expense claim (ocr.receipts)
    document_type: Literal["invoice", "credit_note", "receipt"] = "invoice"
    # Chinese VAT invoices only: 增值税专用发票 or 普通发票, 发票代码, 校验码, and 价税合计 (大写)
    invoice_kind: InvoiceKind | None = None
    invoice_code: str | None = None
    check_code: str | None = None
    total_in_words: Decimal | None = None
    payment_reference: str | None = None
    # how a receipt was paid: cash, visa, mastercard, amex, debit_card, credit_card, e_wallet
    payment_method: str | None = None
    supplier_iban: str | None = None
    language: str | None = None
    template: str | None = None  # supplier id whose template read the document
    extraction_method: ExtractionMethod | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    tax_breakdown: list[TaxBreakdown] = Field(default_factory=list)
    field_confidence: dict[str, float] = Field(default_factory=dict)
    status: DocumentStatus = "extracted"
    review_reasons: list[str] = Field(default_factory=list)
    # extraction's own note, not part of the record: an item table was read but left off
    # because its amounts did not add up (a misread amount), so a better reading may add it
    _items_left_off: bool = PrivateAttr(default=False)

    def to_json(self) -> dict:
        return self.model_dump(mode="json")
