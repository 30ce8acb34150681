"""What an e-invoice's XML says, in one typed form for every syntax.

The CII reader (ocr.einvoice.cii: ZUGFeRD 1.0, ZUGFeRD 2.x / Factur-X, XRechnung CII) and
the UBL reader (ocr.einvoice.ubl: UBL 2.1 Invoice and CreditNote as Peppol BIS Billing 3.0
and XRechnung UBL use them) both produce an `EInvoice`; ocr.einvoice.extracted turns it
into the `ExtractedInvoice` contract in one place. Names follow EN 16931's business terms
(BT-…); a value the XML does not carry is None. Amounts are as the XML has them (a
corrected invoice may carry negative ones), rates in percent.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

# UNTDID 1001 document type codes of credit notes (EN 16931 code list, BT-3): a credit
# note (381), a self-billed (261), factored (396) or forwarder's (532) one, and the rest.
CREDIT_NOTE_CODES = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)


@dataclass(frozen=True)
class Party:
    """The seller (BG-4) or the buyer (BG-7)."""

    name: str | None = None  # BT-27 / BT-44: the registered name
    vat_id: str | None = None  # BT-31 / BT-48: VAT identifier
    tax_number: str | None = None  # BT-32: a tax registration other than the VAT id

    @property
    def tax_id(self) -> str | None:
        """The VAT id, else the other tax registration."""
        return self.vat_id or self.tax_number


@dataclass(frozen=True)
class TaxSubtotal:
    """One VAT breakdown (BG-23): net and tax of one category and rate."""

    category: str | None  # BT-118: S, Z, E, AE, K, G, O, L, M
    percent: Decimal | None  # BT-119 (absent for O, "not subject to VAT")
    basis: Decimal | None  # BT-116
    tax: Decimal | None  # BT-117


@dataclass(frozen=True)
class Line:
    """One invoice line (BG-25)."""

    line_id: str  # BT-126
    name: str | None  # BT-153
    quantity: Decimal | None  # BT-129
    unit: str | None  # BT-130, a UN/ECE rec. 20 code (C62, H87, HUR, …)
    unit_price: Decimal | None  # BT-146 per one unit (BT-149 base quantity divided out)
    net_amount: Decimal | None  # BT-131
    percent: Decimal | None  # BT-152
    parent_id: str | None = None  # sub-line of an EXTENDED invoice (its group line's id)
    status: str | None = None  # EXTENDED: DETAIL, GROUP or INFORMATION


@dataclass(frozen=True)
class AllowanceCharge:
    """A document-level allowance (BG-20) or charge (BG-21)."""

    charge: bool
    amount: Decimal
    reason: str | None
    percent: Decimal | None  # the VAT rate it is charged at (BT-96 / BT-103)


@dataclass(frozen=True)
class EInvoice:
    syntax: str  # "ZUGFeRD 1.0", "CII" (ZUGFeRD 2.x / Factur-X / XRechnung), "UBL Invoice"…
    profile: str | None  # BT-24, the specification identifier (names the profile)
    type_code: str | None  # BT-3
    credit_note: bool  # a credit note by its type code, or a UBL CreditNote
    number: str | None  # BT-1
    issue_date: dt.date | None  # BT-2
    due_date: dt.date | None  # BT-9 (the latest of the payment terms' due dates)
    currency: str | None  # BT-5
    seller: Party
    buyer: Party
    payee_iban: str | None  # BT-84: the account to pay to (never a direct debit's payer)
    payment_reference: str | None  # BT-83
    line_total: Decimal | None  # BT-106
    allowance_total: Decimal | None  # BT-107
    charge_total: Decimal | None  # BT-108
    tax_basis_total: Decimal | None  # BT-109: the net
    tax_total: Decimal | None  # BT-110, in the invoice currency
    grand_total: Decimal | None  # BT-112: the gross total
    prepaid: Decimal | None  # BT-113
    due_payable: Decimal | None  # BT-115: what is left to pay
    taxes: tuple[TaxSubtotal, ...] = ()
    lines: tuple[Line, ...] = ()
    allowances_charges: tuple[AllowanceCharge, ...] = ()
    text: str = ""  # the document's words (names, notes, items), for its language
