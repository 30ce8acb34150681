"""Invoice ingestion for one window: scan the inbox, extract, archive, load.

A file belongs to the window in which it was received (its modification time, as the
mail or scanner integration that dropped it set it). Extraction runs in batches (the
DAG maps one task per batch); loading writes the window's manifest, invoices, lines,
taxes per rate and review items in one transaction, replacing what an earlier run of the
same window wrote. Every file ends in exactly one state, and the counts are checked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa

from closeflow.review import review_item
from closeflow.runtime import (
    Runtime,
    Window,
    files_received,
    holds_connection,
    period_of,
    received_at,
)
from closeflow.schemas import QUANTITY, UNIT_PRICE

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
    """The inbox files received in `window`, oldest first (name breaks ties)."""
    return [str(p) for p in files_received(rt.inbox, window)]


def make_batches(paths: list[str], size: int = 25) -> list[list[str]]:
    return [paths[i : i + size] for i in range(0, len(paths), size)]


def extract_batch(rt: Runtime, window: Window, batch_no: int, paths: list[str]) -> str:
    """Extract one batch of files; write the results as JSON lines; return that file."""
    from ocr.extract import extract_files

    results = extract_files(
        paths,
        rt.company.suppliers,
        min_confidence=rt.company.company.ocr_min_confidence,
    )
    out = rt.staging / STEP / window.key / f"batch-{batch_no:04d}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for path, doc in zip(paths, results, strict=True):
            row = doc.to_json() | {"received_at": received_at(Path(path)).isoformat()}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    states = Counter(d.status for d in results)
    log.info(
        "extracted batch %d of %s: %d files %s", batch_no, window.key, len(paths), dict(states)
    )
    return str(out)


def _archive(rt: Runtime, src: Path, sha: str) -> None:
    dest = rt.archive / sha[:2] / (sha + src.suffix.lower())
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)


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


def _check_every_file_read(rt: Runtime, window: Window, read: list[str]) -> None:
    """Files in = files read, one result each: else fail loudly, naming the files."""
    received = scan_inbox(rt, window)
    missing = sorted(set(received) - set(read))
    twice = sorted(f for f, n in Counter(read).items() if n > 1)
    if missing or twice or len(read) != len(received):
        raise RuntimeError(
            f"count check failed for {window.key}: {len(received)} files received, "
            f"{len(read)} results; not read: {missing[:5]}; read twice: {twice[:5]}"
        )


@holds_connection
def load_window(rt: Runtime, window: Window, batch_files: list[str]) -> IngestSummary:
    """Write the window's files, invoices and review items; replace an earlier run's."""
    docs = []
    for bf in sorted(batch_files):
        with open(bf, encoding="utf-8") as fh:
            docs.extend(json.loads(line) for line in fh if line.strip())
    docs.sort(key=lambda d: (d["received_at"], d["file"]))
    run_key = window.run_key(STEP)
    wh = rt.warehouse
    raw = wh.schema

    # What earlier windows already hold, for duplicate detection.
    prior = wh.query(
        f"SELECT m.file_sha256, m.source_uri, m.received_at, i.supplier_id, i.invoice_number, "
        f"i.invoice_code "
        f"FROM {raw}.file_manifest m LEFT JOIN {raw}.invoices i ON i.invoice_id = m.file_sha256 "
        f"WHERE m.run_id <> :run AND m.status IN ('extracted', 'needs_review') "
        f"AND m.received_at < :start",
        {"run": run_key, "start": window.start_utc},
    ).to_pylist()
    seen_sha = {r["file_sha256"]: r["source_uri"] for r in prior}
    seen_number = {
        (r["supplier_id"], r["invoice_number"]): r["source_uri"]
        for r in prior
        if r["supplier_id"] and r["invoice_number"]
    }
    # 发票代码 + 发票号码 identify a Chinese VAT invoice nationally, whoever the supplier is
    seen_code = {
        (r["invoice_code"], r["invoice_number"]): r["source_uri"]
        for r in prior
        if r["invoice_code"] and r["invoice_number"]
    }

    manifest, invoices, lines, taxes, review = [], [], [], [], []
    for d in docs:
        sha, src = d["file_sha256"], Path(d["file"])
        status, reasons = d["status"], list(d["review_reasons"])
        key = (d.get("supplier_id"), d.get("invoice_number"))
        code = (d.get("invoice_code"), d.get("invoice_number"))
        if status in ("extracted", "needs_review"):
            if sha in seen_sha:
                status, reasons = "duplicate", [f"same file content as {seen_sha[sha]}"]
            elif all(code) and code in seen_code:
                status = "duplicate"
                reasons = [
                    f"VAT invoice 发票代码 {code[0]} 发票号码 {code[1]} already arrived as "
                    f"{seen_code[code]}"
                ]
            elif all(key) and key in seen_number:
                status = "duplicate"
                reasons = [
                    f"invoice {key[1]} of this supplier already arrived as {seen_number[key]}"
                ]
        if src.exists():
            _archive(rt, src, sha)
        manifest.append(
            {
                "file_sha256": sha,
                "source_uri": str(src),
                "received_at": d["received_at"],
                "size_bytes": d["size_bytes"],
                "media_type": d["media_type"],
                "status": status,
                "reason": "; ".join(reasons) or None,
                "run_id": run_key,
            }
        )
        if status in ("quarantined", "needs_review"):
            review.append(
                review_item("file", sha, "; ".join(reasons), run_key, file=str(src), status=status)
            )
        if status not in ("extracted", "needs_review"):
            continue
        seen_sha[sha] = str(src)
        if all(key):
            seen_number[key] = str(src)
        if all(code):
            seen_code[code] = str(src)
        inv_date = _date(d.get("invoice_date"))
        invoices.append(
            {
                "invoice_id": sha,
                **{
                    k: d.get(k)
                    for k in (
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
                },
                "invoice_date": inv_date,
                "due_date": _date(d.get("due_date")),
                "subtotal": _dec(d.get("subtotal")),
                "tax_amount": _dec(d.get("tax_amount")),
                "total": _dec(d.get("total")),
                "field_confidence": json.dumps(d.get("field_confidence") or {}, sort_keys=True),
                "status": status,
                "period": period_of(inv_date) if inv_date else None,
            }
        )
        for li in d.get("line_items") or []:
            lines.append(
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
            )
        taxes.extend(_taxes_per_rate(sha, d.get("tax_breakdown") or []))
    for m in manifest:
        m["received_at"] = dt.datetime.fromisoformat(m["received_at"])

    counts = Counter(m["status"] for m in manifest)
    _check_every_file_read(rt, window, [d["file"] for d in docs])

    with wh.transaction() as t:
        mine = f"invoice_id IN (SELECT file_sha256 FROM {raw}.file_manifest WHERE run_id = :run)"
        t.execute(f"DELETE FROM {raw}.invoice_lines WHERE {mine}", {"run": run_key})
        t.execute(f"DELETE FROM {raw}.invoice_taxes WHERE {mine}", {"run": run_key})
        t.execute(f"DELETE FROM {raw}.invoices WHERE {mine}", {"run": run_key})
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
    if check != len(docs):
        raise RuntimeError(
            f"count check failed for {window.key}: {len(docs)} files in, {check} in manifest"
        )
    summary = IngestSummary(window.key, len(docs), dict(counts))
    log.info(summary.line())
    return summary


def ingest_window(rt: Runtime, window: Window, batch_size: int = 25) -> IngestSummary:
    """The whole ingest for one window in one process (the CLI's `closeflow run`)."""
    paths = scan_inbox(rt, window)
    files = [extract_batch(rt, window, i, b) for i, b in enumerate(make_batches(paths, batch_size))]
    return load_window(rt, window, files)
