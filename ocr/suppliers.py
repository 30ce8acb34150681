"""Which known supplier sent the document: by tax id, then IBAN, then name.

Ids are compared in compact form (no spaces, dots or dashes) and are looked for both in
the extracted fields and anywhere in the text, since a footer may print them without a
label. Names are compared without case, punctuation and legal form, exactly first and
then by similarity (rapidfuzz's Indel ratio), against the supplier's name and aliases.

Once the supplier is known, its master data pins what never changes (tax id, IBAN,
currency) and its optional template (anchors, its own labels, value patterns, payment
terms) reads what generic extraction might miss. Generic extraction needs no template.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from rapidfuzz.distance import Indel, Levenshtein

from ocr.labels import LEGAL_FORM_RX, Label
from ocr.normalize import compact, fold

NAME_RATIO = 0.88


class SupplierLike(Protocol):
    """What matching needs of a supplier (closeflow.config.Supplier has it)."""

    supplier_id: str
    name: str
    tax_id: str | None
    iban: str | None
    aliases: list[str]
    currency: str | None
    template: SupplierTemplate | None


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
            ratio = Indel.normalized_similarity(known, wanted)
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


# ---------------------------------------------------------------- master data and templates

TemplateField = Literal[
    "invoice_number",
    "invoice_date",
    "due_date",
    "subtotal",
    "tax_amount",
    "total",
    "payment_reference",
    "buyer_name",
]
_KIND = {
    "invoice_number": "id",
    "invoice_date": "date",
    "due_date": "date",
    "subtotal": "amount",
    "tax_amount": "amount",
    "total": "amount",
    "payment_reference": "ref",
    "buyer_name": "text",
}
TEMPLATE_WEIGHT = 1.2  # a supplier's own label beats every generic one


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from exc
    return value


class FieldAnchor(BaseModel):
    """Where one field is on this supplier's invoices: the label it follows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str  # regular expression, case-insensitive, of the printed label
    pattern: str | None = None  # regular expression the value must match in full

    @field_validator("label", "pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        return value if value is None else _regex(value)


class SupplierTemplate(BaseModel):
    """A supplier's own layout: anchors that recognise it, labels, and fixed values.

    The template applies to a document only when every anchor phrase appears in it
    (case and spacing ignored), so a supplier who changes their layout falls back to
    generic extraction instead of being read wrongly.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    anchors: list[str] = Field(min_length=1)
    fields: dict[TemplateField, FieldAnchor] = Field(default_factory=dict)
    currency: str | None = None  # pinned: every invoice of this supplier is in it
    payment_terms_days: int | None = Field(default=None, ge=0, le=365)

    def applies_to(self, text: str) -> bool:
        flat = compact(fold(text)).casefold()
        return all(compact(fold(a)).casefold() in flat for a in self.anchors)

    def labels(self) -> list[Label]:
        return [
            Label(name, re.compile(anchor.label, re.IGNORECASE), TEMPLATE_WEIGHT, _KIND[name])
            for name, anchor in self.fields.items()
        ]

    def pattern_reasons(self, inv: object, supplier_name: str) -> list[str]:
        out = []
        for name, anchor in self.fields.items():
            value = getattr(inv, name, None)
            if (
                anchor.pattern
                and value is not None
                and not re.fullmatch(anchor.pattern, str(value))
            ):
                out.append(
                    f"{name.replace('_', ' ')} {value!s} does not have the form {supplier_name} "
                    f"uses ({anchor.pattern}): check it against the document"
                )
        return out


OCR_SLIP = 2  # characters an OCR misread of a long id may differ by
MASTER_DATA_CONFIDENCE = 0.9  # an id the supplier master data confirms


def _pinned(confidence: dict[str, float]) -> float:
    """The confidence of an id the master data confirms: that of the supplier match,
    at most MASTER_DATA_CONFIDENCE."""
    return min(confidence.get("supplier_id", MASTER_DATA_CONFIDENCE), MASTER_DATA_CONFIDENCE)


def pin_master_data(
    inv: object, supplier: SupplierLike, confidence: dict[str, float], method: str
) -> list[str]:
    """Bring the invoice in line with the supplier master data; the reasons it can't be.

    A value the document does not show is taken from the master data; one read as the
    master data has it is confirmed by it (its confidence raised to that of the supplier
    match, at most MASTER_DATA_CONFIDENCE). A value that
    differs from it by an OCR slip (one or two characters of a scanned id) is the master
    value misread, and is corrected. Any other difference is for a person: a changed
    bank account on an invoice is the classic payment-diversion fraud.
    """
    reasons = []
    for name, known, label in (
        ("supplier_tax_id", getattr(supplier, "tax_id", None), "tax id"),
        ("supplier_iban", getattr(supplier, "iban", None), "bank account (IBAN)"),
    ):
        if not known:
            continue
        read = getattr(inv, name)
        if read is None:
            setattr(inv, name, compact(known))
            confidence[name] = confidence.get("supplier_id", 0.9)
            continue
        if compact(read) == compact(known):
            # read as the master data has it: a misread landing on the known id exactly
            # is not a risk worth a look, however unsure OCR was of a glyph
            confidence[name] = max(confidence.get(name, 0.0), _pinned(confidence))
            continue
        slip = Levenshtein.distance(compact(read), compact(known))
        if method != "text" and slip <= OCR_SLIP and len(compact(known)) >= 8:
            setattr(inv, name, compact(known))
            confidence[name] = _pinned(confidence)
            continue
        reasons.append(
            f"{label} {read} on the invoice differs from {compact(known)} in the supplier "
            f"master data of {supplier.name}"
            + (": confirm with the supplier before paying" if name == "supplier_iban" else "")
        )
    template = getattr(supplier, "template", None)
    if template is not None and template.currency:
        if inv.currency is None:
            inv.currency = template.currency
            confidence["currency"] = 0.95
        elif inv.currency != template.currency:
            reasons.append(
                f"currency {inv.currency} differs from {template.currency}, the currency "
                f"{supplier.name} always invoices in"
            )
    return reasons
