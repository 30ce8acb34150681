"""Invoice ingestion for one window: receive, extract, load.

`scan_inbox` takes what the window received (closeflow.intake: archived by content and
recorded on the window's first run; every re-run reads the record and the archive, never
the inbox). Extraction runs in batches (the DAG maps one task per batch) on the archived
copies. `load_window` writes the window's manifest, invoices, lines, taxes per rate and
review items in one transaction, replacing only the rows this window's ingest owns
(`run_id = ingest:<day>`). Every file ends in exactly one state with a reason, and the
counts are checked: one result per file received, one manifest row per file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa

from closeflow import run_lock
from closeflow.alerts import quarantined_files
from closeflow.duplicates import Original, SeenInvoices
from closeflow.failpoints import failpoint
from closeflow.intake import INVOICE, Arrival, receive, recorded
from closeflow.review import plain_reason, review_item
from closeflow.runtime import Runtime, Window, period_of
from closeflow.schemas import (
    INVOICE_LINES,
    INVOICE_TAXES,
    INVOICES,
    QUANTITY,
    UNIT_PRICE,
    contract_problems,
)
from closeflow.steps import closed_reason, mark_running, warehouse_step

log = logging.getLogger(__name__)

STEP = "ingest"


@dataclass
class IngestSummary:
    window: str
    files: int
    counts: dict[str, int]

    def line(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return f"ingest {self.window}: {self.files} files read: {parts}"


def scan_inbox(rt: Runtime, window: Window) -> list[str]:
    """The files the window received, as their archived copies, oldest first: what the
    extract tasks read. The first run of a window archives and records what its inbox
    received; every later run reads that record (closeflow.intake). A window of a closed
    period receives nothing."""
    with run_lock.hold(rt.warehouse, f"scan {window.key}", wait=rt.lock_wait):
        with rt.warehouse.connected():
            if closed_reason(rt, window) is not None:
                return []
            mark_running(rt, STEP, window)
            arrivals = receive(rt, INVOICE, window)
    return [str(a.archive_path(rt.home)) for a in arrivals if a.refusal is None]


def make_batches(paths: list[str], size: int = 25) -> list[list[str]]:
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def extract_batch(rt: Runtime, window: Window, batch_no: int, paths: list[str]) -> str:
    """Extract one batch of files; write the results as JSON lines; return that file.

    One file's failure, whatever it is, is that file's result (quarantined, with the
    reason): it never fails the batch."""
    from ocr.extract import extract_files

    results = extract_files(
        paths,
        rt.company.suppliers,
        min_confidence=rt.company.company.ocr_min_confidence,
        today=window.end,  # "a date in the future" as of the window: a re-run reads the same
    )
    out = rt.staging / STEP / window.key / f"batch-{batch_no:04d}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for doc in results:
            fh.write(json.dumps(doc.to_json(), ensure_ascii=False) + "\n")
    states = Counter(d.status for d in results)
    log.info(
        "extracted batch %d of %s: %d files %s", batch_no, window.key, len(paths), dict(states)
    )
    return str(out)


def _dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def _printed(v: str | None, dtype: pa.Decimal128Type) -> Decimal | None:
    """A printed quantity or unit price at the contract's scale (half up past 8 or 12
    decimals, which no invoice prints), so an odd print can never fail the load."""
    if v is None:
        return None
    return Decimal(v).quantize(Decimal(1).scaleb(-dtype.scale), rounding=ROUND_HALF_UP)


def _taxes_per_rate(invoice_id: str, breakdown: list[dict]) -> list[dict]:
    """The invoice_taxes rows of one invoice: one per rate (a rate read twice is summed,
    and its tax stays unknown if either part's is)."""
    rows: dict[Decimal, dict] = {}
    for b in breakdown:
        rate, net, tax = Decimal(b["rate"]), Decimal(b["net"]), _dec(b.get("tax"))
        if rate in rows:
            row = rows[rate]
            row["net_amount"] += net
            row["tax_amount"] = (
                None if tax is None or row["tax_amount"] is None else row["tax_amount"] + tax
            )
        else:
            rows[rate] = {
                "invoice_id": invoice_id,
                "tax_rate": rate,
                "net_amount": net,
                "tax_amount": tax,
            }
    return list(rows.values())


def _date(v: str | None) -> dt.date | None:
    return None if v is None else dt.date.fromisoformat(v)


def _check_every_file_read(window: Window, expected: list[Arrival], docs: list[dict]) -> None:
    """One result per file received, in order: else fail loudly, naming the files."""
    want = [str(a.archive_uri) for a in expected]
    got = [d.get("archive_uri") for d in docs]
    if want != got:
        missing = [a.source_uri for a in expected if str(a.archive_uri) not in got]
        twice = sorted(f for f, n in Counter(got).items() if n > want.count(f))
        raise RuntimeError(
            f"count check failed for {window.key}: {len(expected)} files received, "
            f"{len(docs)} results; not read: {missing[:5]}; read twice: {twice[:5]}"
        )


_INVOICE_FIELDS = (
    "supplier_id",
    "supplier_name",
    "supplier_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "invoice_number",
    "currency",
    "document_type",
    "payment_reference",
    "supplier_iban",
    "extraction_method",
    "language",
    "invoice_kind",
    "invoice_code",
    "check_code",
)


@dataclass
class _DocumentRows:
    invoice: dict
    lines: list[dict]
    taxes: list[dict]

    def problems(self) -> list[str]:
        """What does not fit the table contracts (an amount too large, say)."""
        found = contract_problems(INVOICES, self.invoice)
        for line in self.lines:
            found += [
                f"line {line['line_no']}: {p}" for p in contract_problems(INVOICE_LINES, line)
            ]
        for tax in self.taxes:
            found += [
                f"tax at {tax['tax_rate']}: {p}" for p in contract_problems(INVOICE_TAXES, tax)
            ]
        return found


def _document_rows(d: dict, status: str, run_key: str) -> _DocumentRows:
    """The invoices, invoice_lines and invoice_taxes rows of one extracted document."""
    sha = d["file_sha256"]
    inv_date = _date(d.get("invoice_date"))
    invoice = {
        "invoice_id": sha,
        **{k: d.get(k) for k in _INVOICE_FIELDS},
        "invoice_date": inv_date,
        "due_date": _date(d.get("due_date")),
        "subtotal": _dec(d.get("subtotal")),
        "tax_amount": _dec(d.get("tax_amount")),
        "total": _dec(d.get("total")),
        "field_confidence": json.dumps(d.get("field_confidence") or {}, sort_keys=True),
        "status": status,
        "period": period_of(inv_date) if inv_date else None,
        "run_id": run_key,
    }
    lines = [
        {
            "invoice_id": sha,
            "line_no": li["line_no"],
            "description": li["description"],
            "quantity": _printed(li.get("quantity"), QUANTITY),
            "unit_price": _printed(li.get("unit_price"), UNIT_PRICE),
            "amount": _dec(li["amount"]),
            "tax_rate": _dec(li.get("tax_rate")),
            "tax_amount": _dec(li.get("tax_amount")),
            "unit": li.get("unit"),
            "spec": li.get("spec"),
        }
        for li in d.get("line_items") or []
    ]
    return _DocumentRows(invoice, lines, _taxes_per_rate(sha, d.get("tax_breakdown") or []))


def _earlier_invoices(rt: Runtime, run_key: str, tz: str) -> SeenInvoices:
    """The invoices earlier windows took, for duplicate recognition."""
    raw = rt.warehouse.schema
    seen = SeenInvoices()
    rows = rt.warehouse.query(
        f"SELECT m.file_sha256, m.source_uri, m.received_at, i.supplier_id, i.supplier_name, "
        f"i.supplier_tax_id, i.supplier_iban, i.invoice_number, i.invoice_code, i.total, "
        f"i.document_type, i.invoice_date "
        f"FROM {raw}.file_manifest m JOIN {raw}.invoices i "
        f"ON i.invoice_id = m.file_sha256 AND i.run_id = m.run_id "
        f"WHERE m.kind = 'invoice' AND m.run_id < :run "
        f"AND m.status IN ('extracted', 'needs_review') ORDER BY m.received_at, m.source_uri",
        {"run": run_key},
    ).to_pylist()
    for r in rows:
        seen.add(r, Original.of(r["source_uri"], r["received_at"], tz))
    return seen


@warehouse_step(STEP)
def load_window(rt: Runtime, window: Window, batch_files: list[str]) -> IngestSummary:
    """Write the window's files, invoices and review items; replace an earlier run's.

    Every file the window received gets one manifest row: what it was read as, or why it
    was refused, quarantined or taken for a duplicate. A document whose values do not fit
    the ledger (an amount too large, say) is quarantined with the reason; it never fails
    the load of the others."""
    docs = []
    for bf in sorted(batch_files):
        with open(bf, encoding="utf-8") as fh:
            docs.extend(json.loads(line) for line in fh if line.strip())
    run_key = window.run_key(STEP)
    arrivals = recorded(rt, INVOICE, window)
    taken = [a for a in arrivals if a.refusal is None]
    home = str(rt.home)
    for d in docs:  # the archived copy each result was read from, relative to the home
        d["archive_uri"] = Path(d["file"]).relative_to(home).as_posix() if d.get("file") else None
    _check_every_file_read(window, taken, docs)
    results = iter(docs)
    seen = _earlier_invoices(rt, run_key, window.tz)

    manifest, invoices, lines, taxes, review = [], [], [], [], []
    for arrival in arrivals:
        d = {"status": "quarantined", "review_reasons": [arrival.refusal]}
        if arrival.refusal is None:
            d = next(results)
            d["file_sha256"] = arrival.file_sha256  # the archived bytes: the same by construction
        status, reasons = d["status"], [plain_reason(r) for r in d["review_reasons"]]
        rows = None
        if status in ("extracted", "needs_review"):
            why = seen.original_of(d)
            if why:
                status, reasons = "duplicate", [why]
            else:
                rows = _document_rows(d, status, run_key)
                problems = rows.problems()
                if problems:
                    status, rows = "quarantined", None
                    reasons = [
                        "the document's values do not fit the ledger: " + "; ".join(problems)
                    ]
        manifest.append(
            {
                "file_sha256": arrival.file_sha256,
                "source_uri": arrival.source_uri,
                "received_at": arrival.received_at,
                "size_bytes": arrival.size_bytes,
                "media_type": d.get("media_type"),
                "status": status,
                "reason": "; ".join(reasons) or None,
                "run_id": run_key,
                "kind": INVOICE,
            }
        )
        if status in ("quarantined", "needs_review"):
            review.append(
                review_item(
                    "file",
                    arrival.file_sha256,
                    "; ".join(reasons),
                    run_key,
                    file=arrival.source_uri,
                    status=status,
                )
            )
        if rows is None:
            continue
        seen.add(d, Original.of(arrival.source_uri, arrival.received_at, window.tz))
        invoices.append(rows.invoice)
        lines.extend(rows.lines)
        taxes.extend(rows.taxes)

    counts = Counter(m["status"] for m in manifest)
    with rt.warehouse.transaction() as t:
        raw = t.schema
        mine = f"invoice_id IN (SELECT invoice_id FROM {raw}.invoices WHERE run_id = :run)"
        t.execute(f"DELETE FROM {raw}.invoice_lines WHERE {mine}", {"run": run_key})
        t.execute(f"DELETE FROM {raw}.invoice_taxes WHERE {mine}", {"run": run_key})
        t.execute(f"DELETE FROM {raw}.invoices WHERE run_id = :run", {"run": run_key})
        t.replace("file_manifest", manifest, "run_id = :run", {"run": run_key})
        t.insert("invoices", invoices)
        t.insert("invoice_lines", lines)
        t.insert("invoice_taxes", taxes)
        t.replace("review_queue", review, "created_run_id = :run", {"run": run_key})
        check = (
            t.query(
                f"SELECT count(*) AS n FROM {raw}.file_manifest WHERE run_id = :run",
                {"run": run_key},
            )
            .column(0)[0]
            .as_py()
        )
        if check != len(arrivals):
            raise RuntimeError(
                f"count check failed for {window.key}: {len(arrivals)} files in, "
                f"{check} in manifest"
            )
        failpoint(f"ingest:{window.key}")
    quarantined_files(rt.home, run_key, manifest)
    summary = IngestSummary(window.key, len(arrivals), dict(counts))
    log.info(summary.line())
    return summary


def ingest_window(rt: Runtime, window: Window, batch_size: int = 25) -> IngestSummary:
    """The whole ingest for one window in one process (the CLI's `closeflow run`)."""
    paths = scan_inbox(rt, window)
    files = [extract_batch(rt, window, i, b) for i, b in enumerate(make_batches(paths, batch_size))]
    return load_window(rt, window, files)
