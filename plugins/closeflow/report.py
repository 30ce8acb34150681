"""The nightly reconciliation report finance reads: one HTML page and one CSV per day.

Numbers come from the warehouse after the night's steps; the HTML carries a small
chart of bank lines by outcome, the unmatched lines and what went to review.
"""

from __future__ import annotations

import csv
import json
import logging
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from closeflow.money import round_money
from closeflow.runtime import Runtime, Window, holds_connection

log = logging.getLogger(__name__)
_env = Environment(loader=PackageLoader("closeflow", "templates"), autoescape=select_autoescape())


def bar_chart_svg(parts: list[tuple[str, int, str]], width: int = 480) -> str:
    """A horizontal bar per (label, count, colour), as inline SVG."""
    top = max((n for _, n, _ in parts), default=0) or 1
    rows = []
    for i, (label, n, colour) in enumerate(parts):
        w = int((width - 160) * n / top)
        y = i * 28
        rows.append(
            f'<text x="0" y="{y + 17}" font-size="13">{label}</text>'
            f'<rect x="130" y="{y + 4}" width="{w}" height="18" fill="{colour}"/>'
            f'<text x="{136 + w}" y="{y + 17}" font-size="13">{n}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{28 * len(parts)}" '
        f'role="img" aria-label="bank lines by outcome">{"".join(rows)}</svg>'
    )


def unreconciled_amount(rt: Runtime, lines: list[dict]) -> Decimal:
    """The unmatched bank lines' absolute amounts in the functional currency.

    A line whose currency has no rate that day is left out and logged: never a guessed rate.
    """
    fx, ccy = rt.company.fx, rt.company.company.functional_currency
    total = Decimal(0)
    for r in lines:
        if r["outcome"] != "unmatched":
            continue
        rate = fx.rate(r["currency"], r["booking_date"], ccy)
        if rate is None:
            log.warning(
                "no %s rate for %s on %s: bank line %s left out of the unreconciled amount",
                ccy,
                r["currency"],
                r["booking_date"],
                r["line_id"],
            )
            continue
        total += abs(r["amount"]) * rate
    return round_money(total)


def review_label(item: dict) -> str:
    """What a finance user recognises a review item by: the file, the invoice, the payment."""
    d = json.loads(item["details"] or "{}")
    if d.get("counterparty_name") or d.get("amount"):
        parts = [
            d.get("booking_date"),
            d.get("counterparty_name"),
            d.get("remittance_info"),
            f"{d.get('amount')} {d.get('currency') or ''}".strip(),
        ]
        return " · ".join(str(p) for p in parts if p)
    if d.get("invoice_number") or d.get("supplier"):
        name = Path(d["file"]).name if d.get("file") else ""
        return " · ".join(p for p in (d.get("supplier"), d.get("invoice_number"), name) if p)
    if d.get("file"):
        return Path(d["file"]).name
    return item["item_id"][:16]


def window_reconciliation(rt: Runtime, window: Window) -> list[dict]:
    """Every bank line booked in the window with its outcome."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT b.line_id, b.booking_date, b.amount, b.currency, b.counterparty_name,
               b.remittance_info, s.account_id, m.item_id, i.invoice_number, i.supplier_name,
               (SELECT count(*) FROM {raw}.journal_lines j
                 WHERE j.source_type = 'bank_fee' AND j.source_id = b.line_id) AS fee_lines
        FROM {raw}.bank_lines b
        JOIN {raw}.bank_statements s ON s.statement_id = b.statement_id
        LEFT JOIN {raw}.matches m ON m.bank_line_id = b.line_id
        LEFT JOIN {raw}.invoices i ON i.invoice_id = m.item_id
        WHERE b.booking_date >= :s AND b.booking_date < :e
        ORDER BY b.booking_date, b.line_id
        """,
        {"s": window.start, "e": window.end},
    ).to_pylist()
    for r in rows:
        r["outcome"] = (
            "matched" if r["item_id"] else ("bank_fee" if r["fee_lines"] else "unmatched")
        )
    return rows


@holds_connection
def nightly_report(rt: Runtime, window: Window) -> dict[str, str]:
    """Write reports/daily/<day>/reconciliation.html and .csv; return their paths."""
    raw = rt.warehouse.schema
    cfg = rt.company
    lines = window_reconciliation(rt, window)
    unmatched = [r for r in lines if r["outcome"] == "unmatched"]
    keys = [window.run_key(s) for s in ("ingest", "bank", "post", "reconcile")]
    review = rt.warehouse.query(
        f"SELECT item_type, item_id, reason, details FROM {raw}.review_queue "
        f"WHERE created_run_id IN (:a, :b, :c, :d) ORDER BY item_type, item_id",
        dict(zip("abcd", keys, strict=True)),
    ).to_pylist()
    for r in review:
        r["label"] = review_label(r)
    files = rt.warehouse.scalar(
        f"SELECT count(*) FROM {raw}.file_manifest WHERE run_id = :r", {"r": keys[0]}
    )
    posted = rt.warehouse.scalar(
        f"SELECT count(DISTINCT source_id) FROM {raw}.journal_lines WHERE run_id = :r",
        {"r": keys[2]},
    )
    tb_diff = rt.warehouse.scalar(f"SELECT COALESCE(SUM(amount), 0) FROM {raw}.journal_lines")
    unreconciled = unreconciled_amount(rt, lines)
    n = len(lines)
    matched = sum(r["outcome"] == "matched" for r in lines)
    fees = sum(r["outcome"] == "bank_fee" for r in lines)
    k = {
        "bank_lines": n,
        "matched": matched,
        "fees": fees,
        "unmatched": len(unmatched),
        "match_rate": f"{(matched + fees) / n:.1%}" if n else "n/a",
        "unreconciled": f"{unreconciled:,}",
        "files": files,
        "posted": posted,
        "review": len(review),
        "tb_zero": tb_diff == 0,
        "tb_diff": tb_diff,
    }
    chart = bar_chart_svg(
        [
            ("Matched", matched, "#3e9c35"),
            ("Bank fees", fees, "#7b93db"),
            ("Unmatched", len(unmatched), "#d64545"),
        ]
    )
    out = rt.reports / "daily" / window.key
    out.mkdir(parents=True, exist_ok=True)
    html = _env.get_template("nightly.html.j2").render(
        company=cfg.company.name,
        day=window.key,
        currency=cfg.company.functional_currency,
        run_key=keys[3],
        k=k,
        chart=chart,
        unmatched=unmatched,
        review=review,
    )
    (out / "reconciliation.html").write_text(html, encoding="utf-8")
    cols = [
        "booking_date",
        "account_id",
        "line_id",
        "amount",
        "currency",
        "counterparty_name",
        "remittance_info",
        "outcome",
        "invoice_number",
        "supplier_name",
    ]
    with (out / "reconciliation.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(lines)
    log.info(
        "report %s: %d bank lines, %d matched, %d fees, %d unmatched, %d to review",
        window.key,
        n,
        matched,
        fees,
        len(unmatched),
        len(review),
    )
    return {"html": str(out / "reconciliation.html"), "csv": str(out / "reconciliation.csv")}
