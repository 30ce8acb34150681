"""Recognising an invoice that already arrived, so it is never posted twice.

A document is a duplicate of one an earlier window (or an earlier file of the same
window) took, when it has:
- the same bytes (a re-sent attachment);
- for a Chinese VAT invoice, the same 发票代码 and 发票号码, whoever the supplier is
  (the pair identifies a fapiao nationally);
- the same supplier and invoice number, for a supplier of the master data;
- for a supplier not in the master data, the same issuer (its tax id, else its IBAN,
  else its name as printed, ignoring case and punctuation), invoice number and total;
- for a till receipt without a number, the same issuer, date and total.
The first to arrive is the original; the reason names it and when it arrived.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo


def _plain(text: str | None) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", "", text)


def issuer_key(doc: dict) -> str | None:
    """Who issued `doc`: its supplier id, else tax id, else IBAN, else printed name."""
    if doc.get("supplier_id"):
        return f"id:{doc['supplier_id']}"
    for name in ("supplier_tax_id", "supplier_iban", "supplier_name"):
        value = _plain(doc.get(name))
        if value:
            return f"{name}:{value}"
    return None


@dataclass(frozen=True)
class Original:
    """The first arrival of an invoice: where it was dropped and on which (local) day."""

    source_uri: str
    received_on: dt.date

    @classmethod
    def of(cls, source_uri: str, received_at: dt.datetime, tz: str) -> Original:
        return cls(source_uri, received_at.astimezone(ZoneInfo(tz)).date())

    def __str__(self) -> str:
        return f"{self.source_uri} (received {self.received_on.isoformat()})"


@dataclass
class SeenInvoices:
    """The invoices taken so far, by each key a duplicate is recognised by."""

    by_content: dict[str, Original] = field(default_factory=dict)
    by_fapiao: dict[tuple[str, str], Original] = field(default_factory=dict)
    by_number: dict[tuple[str, str], Original] = field(default_factory=dict)
    by_issuer: dict[tuple[str, str, Decimal], Original] = field(default_factory=dict)
    by_receipt: dict[tuple[str, str, Decimal], Original] = field(default_factory=dict)

    @staticmethod
    def _keys(doc: dict) -> tuple:
        number = doc.get("invoice_number")
        code = doc.get("invoice_code")
        fapiao = (code, number) if code and number else None
        known = (doc["supplier_id"], number) if doc.get("supplier_id") and number else None
        issuer = issuer_key(doc)
        total = doc.get("total")
        unknown = (
            (issuer, number, Decimal(str(total)))
            if not doc.get("supplier_id") and issuer and number and total is not None
            else None
        )
        receipt = (
            (issuer, str(doc["invoice_date"]), Decimal(str(total)))
            if doc.get("document_type") == "receipt"
            and not number
            and issuer
            and doc.get("invoice_date")
            and total is not None
            else None
        )
        return fapiao, known, unknown, receipt

    def original_of(self, doc: dict) -> str | None:
        """Why `doc` is a duplicate (naming the original), or None if it is not."""
        sha = doc.get("file_sha256")
        if sha in self.by_content:
            return f"same file content as {self.by_content[sha]}"
        fapiao, known, unknown, receipt = self._keys(doc)
        if fapiao and fapiao in self.by_fapiao:
            return (
                f"VAT invoice 发票代码 {fapiao[0]} 发票号码 {fapiao[1]} already arrived as "
                f"{self.by_fapiao[fapiao]}"
            )
        if known and known in self.by_number:
            return f"invoice {known[1]} of this supplier already arrived as {self.by_number[known]}"
        if unknown and unknown in self.by_issuer:
            return (
                f"invoice {unknown[1]} of {doc.get('supplier_name') or 'this issuer'} over "
                f"{unknown[2]} already arrived as {self.by_issuer[unknown]}"
            )
        if receipt and receipt in self.by_receipt:
            return (
                f"receipt of {doc.get('supplier_name') or 'this merchant'} of {receipt[1]} over "
                f"{receipt[2]} already arrived as {self.by_receipt[receipt]}"
            )
        return None

    def add(self, doc: dict, original: Original) -> None:
        """Remember `doc` (taken as an invoice) under every key it has."""
        if doc.get("file_sha256"):
            self.by_content.setdefault(doc["file_sha256"], original)
        fapiao, known, unknown, receipt = self._keys(doc)
        if receipt:
            self.by_receipt.setdefault(receipt, original)
        if fapiao:
            self.by_fapiao.setdefault(fapiao, original)
        if known:
            self.by_number.setdefault(known, original)
        if unknown:
            self.by_issuer.setdefault(unknown, original)
