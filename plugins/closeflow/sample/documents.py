"""Turn the inbox plan into files: invoices numbered, rendered, scanned and named.

Invoices are numbered per supplier in the order of their invoice dates, rendered as PDFs
(European or Chinese form), and for scan kinds rasterised and degraded. A duplicate is
the exact bytes of its original under another name; a corrupt file is a rendered
invoice cut off before its catalogue, so no reader can open it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from closeflow.sample.company import CompanyIdentity
from closeflow.sample.inbox import SCAN_KINDS, Arrival, Kind
from closeflow.sample.invoices import Buyer, Invoice, Numbering, make_invoice
from closeflow.sample.pdf_cn_vat import render_cn_vat_pdf
from closeflow.sample.pdf_invoice import render_invoice_pdf, render_letter_pdf
from closeflow.sample.scan import choose_settings, scan_pdf
from closeflow.sample.seeds import derive_int, stream

EXPECTED_STATUS = {
    "invoice": "extracted",
    "duplicate": "duplicate",
    "letter": "quarantined",
    "corrupt": "quarantined",
}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class InboxDocument:
    """One file of HOME/inbox with what the pipeline should make of it."""

    name: str
    kind: Kind
    expected_status: str
    received_at: dt.datetime
    content: bytes
    invoice: Invoice | None

    @property
    def path(self) -> str:
        return f"inbox/{self.name}"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def buyers(company: CompanyIdentity) -> tuple[Buyer, Buyer]:
    """The buyer printed on European and on Chinese invoices."""
    return (
        Buyer(company.name, company.vat_id, company.address),
        Buyer(company.cn_name, company.cn_uscc, company.cn_address),
    )


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def _file_name(arrival: Arrival, invoice: Invoice | None, n: int) -> str:
    """A name as a mail or scanner integration would give the file (not yet unique)."""
    stamp = arrival.received_at.strftime("%Y%m%d_%H%M%S")
    if arrival.kind in ("scan_png", "scan_jpeg", "cn_vat_scan"):
        ext = "png" if arrival.kind == "scan_png" else "jpg"
        prefix = ("scan", "Scan", "IMG")[n % 3]
        return f"{prefix}_{stamp}.{ext}"
    if arrival.role == "letter":
        return f"{_safe(arrival.supplier.template.slug)}_letter_{stamp[:8]}.pdf"
    if invoice is None:  # corrupt
        return f"Invoice_{stamp}.pdf"
    tpl = invoice.supplier.template
    pattern = "Credit_note_{number}" if invoice.document_type == "credit_note" else tpl.file_pattern
    return _safe(pattern.format(number=invoice.invoice_number, slug=tpl.slug)) + ".pdf"


def _duplicate_name(original: str, n: int) -> str:
    stem, ext = os.path.splitext(original)
    return (f"Fwd_{stem}{ext}", f"{stem}_resent{ext}", f"{stem} (1){ext}")[n % 3]


def _render(invoice: Invoice, kind: Kind, seed: int, label: str) -> bytes:
    rng = stream(seed, "render", label)
    pdf = (render_cn_vat_pdf if invoice.supplier.is_chinese else render_invoice_pdf)(invoice, rng)
    if kind not in SCAN_KINDS:
        return pdf
    image_format = "png" if kind == "scan_png" else "jpeg"
    return scan_pdf(pdf, choose_settings(rng, image_format), derive_int(seed, "noise", label))


def number_invoices(
    seed: int, arrivals: list[Arrival], company: CompanyIdentity
) -> dict[int, Invoice]:
    """The invoice of each invoice arrival (by position), numbered in invoice-date order."""
    european, chinese = buyers(company)
    numbering = Numbering()
    order = sorted(
        (i for i, a in enumerate(arrivals) if a.role == "invoice"),
        key=lambda i: (arrivals[i].invoice_date, arrivals[i].received_at),
    )
    out = {}
    for i in order:
        a = arrivals[i]
        buyer = chinese if a.supplier.is_chinese else european
        rng = stream(seed, "invoice", a.received_at.isoformat(), a.supplier.supplier_id)
        out[i] = make_invoice(rng, a.supplier, buyer, a.invoice_date, numbering, a.credit_note)
    return out


def build_documents(
    seed: int,
    arrivals: list[Arrival],
    company: CompanyIdentity,
    progress: Progress | None = None,
) -> list[InboxDocument]:
    """Render every arrival; returns the documents in the order received."""
    invoices = number_invoices(seed, arrivals, company)
    european, _ = buyers(company)
    docs: list[InboxDocument] = []
    by_arrival: dict[Arrival, InboxDocument] = {}
    names: set[str] = set()
    for n, a in enumerate(arrivals):
        label = f"{a.received_at.isoformat()}#{n}"
        invoice = invoices.get(n)
        if a.role == "invoice":
            content = _render(invoice, a.kind, seed, label)
            name = _file_name(a, invoice, n)
        elif a.role == "duplicate":
            original = by_arrival[a.original]
            invoice, content = original.invoice, original.content
            name = _duplicate_name(original.name, n)
        elif a.role == "letter":
            rng = stream(seed, "letter", label)
            content = render_letter_pdf(a.supplier, european, a.received_at.date(), rng)
            name = _file_name(a, None, n)
        else:  # corrupt: an invoice nobody will ever read, cut short
            rng = stream(seed, "corrupt", label)
            lost = make_invoice(rng, a.supplier, european, a.invoice_date, Numbering())
            pdf = render_invoice_pdf(lost, rng)
            content = pdf[: int(len(pdf) * rng.uniform(0.35, 0.7))]
            name = _file_name(a, None, n)
        stem, ext = os.path.splitext(name)
        unique, k = name, 2
        while unique in names:
            unique, k = f"{stem}_{k}{ext}", k + 1
        names.add(unique)
        doc = InboxDocument(
            unique,
            a.kind,
            EXPECTED_STATUS[a.role],
            a.received_at,
            content,
            invoice if a.role in ("invoice", "duplicate") else None,
        )
        docs.append(doc)
        by_arrival[a] = doc
        if progress:
            progress("documents", n + 1, len(arrivals))
    return docs


def write_inbox(folder: Path, docs: list[InboxDocument]) -> None:
    """Write the files and set each one's mtime to the moment it was received."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        path = folder / doc.name
        path.write_bytes(doc.content)
        stamp = doc.received_at.timestamp()
        os.utime(path, (stamp, stamp))
