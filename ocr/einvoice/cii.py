"""The UN/CEFACT Cross Industry Invoice reader: ZUGFeRD 1.0, ZUGFeRD 2.x / Factur-X (every
profile: MINIMUM, BASIC WL, BASIC, EN 16931, EXTENDED) and XRechnung in its CII syntax.

ZUGFeRD 2.x, Factur-X and XRechnung share the CII D16B schema (rsm:CrossIndustryInvoice,
namespaces ending :100); ZUGFeRD 1.0 has its own (rsm:CrossIndustryDocument in
urn:ferd:CrossIndustryDocument:invoice:1p0, ram ending :12) with other names for the same
things: HeaderExchangedDocument for ExchangedDocument, ApplicableSupplyChainTrade… for
ApplicableHeaderTrade…, ApplicablePercent for RateApplicablePercent. A `Dialect` holds
those names; one reader walks both. Profiles differ only in what they may leave out,
and everything optional reads as None.
"""

from __future__ import annotations

from dataclasses import dataclass
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

RAM_100 = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
RAM_12 = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
ZUGFERD1_NS = "urn:ferd:CrossIndustryDocument:invoice:1p0"


@dataclass(frozen=True)
class Dialect:
    syntax: str
    ns: dict[str, str]
    context: str
    document: str
    transaction: str
    agreement: str
    settlement: str
    summation: str
    percent: str
    line_agreement: str
    line_delivery: str
    line_settlement: str
    line_summation: str


CII = Dialect(
    syntax="CII",
    ns={"rsm": CII_NS, "ram": RAM_100},
    context="rsm:ExchangedDocumentContext",
    document="rsm:ExchangedDocument",
    transaction="rsm:SupplyChainTradeTransaction",
    agreement="ram:ApplicableHeaderTradeAgreement",
    settlement="ram:ApplicableHeaderTradeSettlement",
    summation="ram:SpecifiedTradeSettlementHeaderMonetarySummation",
    percent="ram:RateApplicablePercent",
    line_agreement="ram:SpecifiedLineTradeAgreement",
    line_delivery="ram:SpecifiedLineTradeDelivery",
    line_settlement="ram:SpecifiedLineTradeSettlement",
    line_summation="ram:SpecifiedTradeSettlementLineMonetarySummation",
)
ZUGFERD1 = Dialect(
    syntax="ZUGFeRD 1.0",
    ns={"rsm": ZUGFERD1_NS, "ram": RAM_12},
    context="rsm:SpecifiedExchangedDocumentContext",
    document="rsm:HeaderExchangedDocument",
    transaction="rsm:SpecifiedSupplyChainTradeTransaction",
    agreement="ram:ApplicableSupplyChainTradeAgreement",
    settlement="ram:ApplicableSupplyChainTradeSettlement",
    summation="ram:SpecifiedTradeSettlementMonetarySummation",
    percent="ram:ApplicablePercent",
    line_agreement="ram:SpecifiedSupplyChainTradeAgreement",
    line_delivery="ram:SpecifiedSupplyChainTradeDelivery",
    line_settlement="ram:SpecifiedSupplyChainTradeSettlement",
    line_summation="ram:SpecifiedTradeSettlementMonetarySummation",
)
DIALECTS = {
    etree.QName(CII_NS, "CrossIndustryInvoice").text: CII,
    etree.QName(ZUGFERD1_NS, "CrossIndustryDocument").text: ZUGFERD1,
}


def dialect_of(root: etree._Element) -> Dialect | None:
    return DIALECTS.get(root.tag) if isinstance(root.tag, str) else None


class _Reader:
    def __init__(self, d: Dialect) -> None:
        self.d = d

    def first(self, node: etree._Element | None, path: str) -> etree._Element | None:
        return v.first(node, path, self.d.ns)

    def all(self, node: etree._Element | None, path: str) -> list[etree._Element]:
        return [] if node is None else node.xpath(path, namespaces=self.d.ns)

    def text(self, node: etree._Element | None, path: str) -> str | None:
        return v.text(self.first(node, path))

    def decimal(self, node: etree._Element | None, path: str) -> Decimal | None:
        return v.decimal(self.first(node, path))

    def party(self, node: etree._Element | None) -> Party:
        registrations = "ram:SpecifiedTaxRegistration/ram:ID"
        return Party(
            name=self.text(node, "ram:Name"),
            vat_id=self.text(node, f"{registrations}[@schemeID='VA']"),
            tax_number=self.text(node, f"{registrations}[@schemeID='FC']"),
        )

    def tax_total(self, summation: etree._Element | None, currency: str | None) -> Decimal | None:
        """BT-110 in the invoice currency: a document in a foreign currency also states the
        VAT in the tax currency (BT-111), in a second TaxTotalAmount."""
        amounts = self.all(summation, "ram:TaxTotalAmount")
        for el in amounts:
            if currency and el.get("currencyID") == currency:
                return v.decimal(el)
        plain = [el for el in amounts if el.get("currencyID") is None]
        if plain:
            return v.decimal(plain[0])
        return v.decimal(amounts[0]) if len(amounts) == 1 else None

    def line(self, el: etree._Element) -> Line:
        d = self.d
        price = self.first(el, f"{d.line_agreement}/ram:NetPriceProductTradePrice")
        unit_price = self.decimal(price, "ram:ChargeAmount")
        per = self.decimal(price, "ram:BasisQuantity")
        if unit_price is not None and per not in (None, Decimal(0), Decimal(1)):
            unit_price = unit_price / per
        quantity = self.first(el, f"{d.line_delivery}/ram:BilledQuantity")
        settlement = self.first(el, d.line_settlement)
        document = self.first(el, "ram:AssociatedDocumentLineDocument")
        return Line(
            line_id=self.text(document, "ram:LineID") or "",
            name=self.text(el, "ram:SpecifiedTradeProduct/ram:Name"),
            quantity=v.decimal(quantity),
            unit=None if quantity is None else quantity.get("unitCode"),
            unit_price=unit_price,
            net_amount=self.decimal(settlement, f"{d.line_summation}/ram:LineTotalAmount"),
            percent=self.decimal(settlement, f"ram:ApplicableTradeTax/{d.percent}"),
            parent_id=self.text(document, "ram:ParentLineID"),
            status=self.text(document, "ram:LineStatusReasonCode"),
        )

    def allowances_charges(self, settlement: etree._Element | None) -> list[AllowanceCharge]:
        d = self.d
        out = []
        for el in self.all(settlement, "ram:SpecifiedTradeAllowanceCharge"):
            amount = self.decimal(el, "ram:ActualAmount")
            charge = v.flag(self.first(el, "ram:ChargeIndicator"))
            if amount is None or charge is None:
                continue
            rate = self.decimal(el, f"ram:CategoryTradeTax/{d.percent}")
            out.append(AllowanceCharge(charge, amount, self.text(el, "ram:Reason"), rate))
        # freight and the like (ZUGFeRD 1.0, EXTENDED): charges of their own
        for el in self.all(settlement, "ram:SpecifiedLogisticsServiceCharge"):
            amount = self.decimal(el, "ram:AppliedAmount")
            if amount is None:
                continue
            rate = self.decimal(el, f"ram:AppliedTradeTax/{d.percent}")
            out.append(AllowanceCharge(True, amount, self.text(el, "ram:Description"), rate))
        return out

    def read(self, root: etree._Element) -> EInvoice:
        d = self.d
        document = self.first(root, d.document)
        transaction = self.first(root, d.transaction)
        agreement = self.first(transaction, d.agreement)
        settlement = self.first(transaction, d.settlement)
        summation = self.first(settlement, d.summation)
        currency = self.text(settlement, "ram:InvoiceCurrencyCode")
        type_code = self.text(document, "ram:TypeCode")
        due_dates = [
            day
            for el in self.all(settlement, "ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime")
            if (day := v.cii_date(el)) is not None
        ]
        ibans = [
            iban
            for el in self.all(
                settlement,
                "ram:SpecifiedTradeSettlementPaymentMeans/"
                "ram:PayeePartyCreditorFinancialAccount/ram:IBANID",
            )
            if (iban := v.text(el))
        ]
        taxes = tuple(
            TaxSubtotal(
                category=self.text(el, "ram:CategoryCode"),
                percent=self.decimal(el, d.percent),
                basis=self.decimal(el, "ram:BasisAmount"),
                tax=self.decimal(el, "ram:CalculatedAmount"),
            )
            for el in self.all(settlement, "ram:ApplicableTradeTax")
        )
        return EInvoice(
            syntax=d.syntax,
            profile=self.text(
                root, f"{d.context}/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
            ),
            type_code=type_code,
            credit_note=type_code in CREDIT_NOTE_CODES,
            number=self.text(document, "ram:ID"),
            issue_date=v.cii_date(self.first(document, "ram:IssueDateTime")),
            due_date=max(due_dates) if due_dates else None,
            currency=currency,
            seller=self.party(self.first(agreement, "ram:SellerTradeParty")),
            buyer=self.party(self.first(agreement, "ram:BuyerTradeParty")),
            payee_iban=ibans[0] if ibans else None,
            payment_reference=self.text(settlement, "ram:PaymentReference"),
            line_total=self.decimal(summation, "ram:LineTotalAmount"),
            allowance_total=self.decimal(summation, "ram:AllowanceTotalAmount"),
            charge_total=self.decimal(summation, "ram:ChargeTotalAmount"),
            tax_basis_total=self.decimal(summation, "ram:TaxBasisTotalAmount"),
            tax_total=self.tax_total(summation, currency),
            grand_total=self.decimal(summation, "ram:GrandTotalAmount"),
            prepaid=self.decimal(summation, "ram:TotalPrepaidAmount"),
            due_payable=self.decimal(summation, "ram:DuePayableAmount"),
            taxes=taxes,
            lines=tuple(
                self.line(el)
                for el in self.all(transaction, "ram:IncludedSupplyChainTradeLineItem")
            ),
            allowances_charges=tuple(self.allowances_charges(settlement)),
            text=v.all_text(root),
        )


def read_cii(root: etree._Element) -> EInvoice:
    """The invoice a CII document (CrossIndustryInvoice or ZUGFeRD 1.0
    CrossIndustryDocument) states. Raises ValueError for another root."""
    d = dialect_of(root)
    if d is None:
        raise ValueError(f"not a CII invoice: {root.tag!r}")
    return _Reader(d).read(root)
