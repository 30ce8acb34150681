"""Which known supplier sent the document: by tax id, then IBAN, then name.

Ids are compared in compact form (no spaces, dots or dashes) and are looked for both in
the extracted fields and anywhere in the text, since a footer may print them without a
label. Names are compared without case, punctuation and legal form, exactly first and
then with difflib's ratio, against the supplier's name and its aliases.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ocr.fields import LEGAL_FORM_RX
from ocr.normalize import compact, fold

NAME_RATIO = 0.88


class SupplierLike(Protocol):
    """What matching needs of a supplier (closeflow.config.Supplier has it)."""

    supplier_id: str
    name: str
    tax_id: str | None
    iban: str | None
    aliases: list[str]


@dataclass(frozen=True)
class SupplierMatch:
    supplier: SupplierLike
    confidence: float
    by: str  # "tax_id" | "iban" | "name"


def normalize_name(name: str) -> str:
    """Comparable form of a company name: no case, punctuation or legal form."""
    name = LEGAL_FORM_RX.sub(" ", fold(name))
    name = re.sub(r"[^\w]+", " ", name.casefold())
    return " ".join(name.split())


def match_supplier(
    suppliers: Sequence[SupplierLike],
    *,
    tax_id: str | None,
    iban: str | None,
    name: str | None,
    text: str,
    buyer_tax_id: str | None = None,
    buyer_name: str | None = None,
) -> SupplierMatch | None:
    """The supplier that issued the document, or None if no rule is sure enough."""
    flat = compact(text)
    if buyer_tax_id:
        flat = flat.replace(compact(buyer_tax_id), "")
    for s in suppliers:
        if s.tax_id and tax_id and compact(s.tax_id) == compact(tax_id):
            return SupplierMatch(s, 0.99, "tax_id")
    for s in suppliers:
        if s.iban and iban and compact(s.iban) == compact(iban):
            return SupplierMatch(s, 0.97, "iban")
    for s in suppliers:
        if s.tax_id and len(compact(s.tax_id)) >= 8 and compact(s.tax_id) in flat:
            return SupplierMatch(s, 0.95, "tax_id")
    for s in suppliers:
        if s.iban and compact(s.iban) in flat:
            return SupplierMatch(s, 0.93, "iban")
    wanted = normalize_name(name) if name else ""
    buyer = normalize_name(buyer_name) if buyer_name else None
    if wanted == buyer:
        wanted = ""
    best: tuple[float, SupplierLike] | None = None
    for s in suppliers:
        for candidate in (s.name, *s.aliases):
            known = normalize_name(candidate)
            if not known or not wanted:
                continue
            if known == wanted:
                return SupplierMatch(s, 0.95, "name")
            ratio = difflib.SequenceMatcher(None, known, wanted).ratio()
            if ratio >= NAME_RATIO and (best is None or ratio > best[0]):
                best = (ratio, s)
    if best:
        return SupplierMatch(best[1], round(0.95 * best[0], 3), "name")
    words = f" {normalize_name(text)} "
    for s in suppliers:
        for candidate in (s.name, *s.aliases):
            known = normalize_name(candidate)
            if len(known) >= 5 and known != buyer and f" {known} " in words:
                return SupplierMatch(s, 0.85, "name")
    return None
