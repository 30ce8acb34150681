"""The nightly reconciliation report finance reads: one HTML page and one CSV per day.

Numbers come from the warehouse after the night's steps; the HTML carries a small
chart of bank lines by outcome, the unmatched lines and what went to review.

Both are safe to hand around: every template autoescapes (a remittance text, a file name
or a supplier name read from a PDF is data, never markup), account identifiers show
only their last four characters and files only their names (closeflow.masking).
"""

from __future__ import annotations

import csv
import json
import logging
from decimal import Decimal

from jinja2 import Environment, PackageLoader
from markupsafe import Markup, escape

from closeflow.masking import file_name, mask_account, public_text
from closeflow.money import round_money
from closeflow.runtime import Runtime, Window
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)
# autoescape=True, not select_autoescape(): that one goes by the file extension and leaves
# `.html.j2` templates unescaped.
env = Environment(loader=PackageLoader("closeflow", "templates"), autoescape=True)

# Columns of window_reconciliation rows that hold an account identifier, and free text.
ACCOUNT_COLUMNS = ("account_id", "counterparty_account")
TEXT_COLUMNS = ("counterparty_name", "remittance_info", "supplier_name")


def bar_chart_svg(parts: list[tuple[str, int, str]], width: int = 480) -> Markup:
    """A horizontal bar per (label, count, colour), as inline SVG, every value escaped."""
    top = max((n for _, n, _ in parts), default=0) or 1
    rows = []
    for i, (label, n, colour) in enumerate(parts):
        w = int((width - 160) * n / top)
        y = i * 28
        rows.append(
            f'<text x="0" y="{y + 17}" font-size="13">{escape(label)}</text>'
            f'<rect x="130" y="{y + 4}" width="{w}" height="18" fill="{escape(colour)}"/>'
            f'<text x="{136 + w}" y="{y + 17}" font-size="13">{escape(n)}</text>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{int(width)}" '
        f'height="{28 * len(parts)}" role="img" aria-label="bank lines by outcome">'
        f"{''.join(rows)}</svg>"
    )


def public_line(row: dict, known: tuple[str, ...] = ()) -> dict:
    """A window_reconciliation row fit for a report: account identifiers masked, free text
    without account numbers or server paths. `known` are account ids to mask in text."""
    out = dict(row)
    mine = (*known, *(row.get(c) for c in ACCOUNT_COLUMNS))
    for c in ACCOUNT_COLUMNS:
        if c in out:
            out[c] = mask_account(out[c])
    for c in TEXT_COLUMNS:
        if c in out:
            out[c] = public_text(out[c], mine)
    return out


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


def review_label(item: dict, known: tuple[str, ...] = ()) -> str:
    """What a finance user recognises a review item by: the file (by its name, never its
    directory), the invoice, the payment; account numbers masked (`known` too)."""
    return public_text(_review_label(item), known)


def _review_label(item: dict) -> str:
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
        name = file_name(d["file"]) if d.get("file") else ""
        return " · ".join(str(p) for p in (d.get("supplier"), d.get("invoice_number"), name) if p)
    if d.get("file"):
        return file_name(d["file"])
    return item["item_id"][:16]


def window_reconciliation(rt: Runtime, window: Window) -> list[dict]:
    """Every bank line booked in the window with its outcome."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT b.line_id, b.booking_date, b.amount, b.currency, b.counterparty_name,
               b.counterparty_account, b.remittance_info, s.account_id, m.item_id,
               i.invoice_number, i.supplier_name,
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


@warehouse_step("report", respects_lock=False)
def nightly_report(rt: Runtime, window: Window) -> StepSummary:
    """Write reports/daily/<day>/reconciliation.html and .csv; return what they show and
    their paths (`counts["html"]`, `counts["csv"]`)."""
    raw = rt.warehouse.schema
    cfg = rt.company
    own = tuple(a.account_id for a in cfg.company.bank_accounts)
    lines = window_reconciliation(rt, window)
    unmatched = [r for r in lines if r["outcome"] == "unmatched"]
    keys = [window.run_key(s) for s in ("ingest", "bank", "post", "reconcile")]
    review = rt.warehouse.query(
        f"SELECT item_type, item_id, reason, details FROM {raw}.review_queue "
        f"WHERE created_run_id IN (:a, :b, :c, :d) ORDER BY item_type, item_id",
        dict(zip("abcd", keys, strict=True)),
    ).to_pylist()
    for r in review:
        r["label"] = review_label(r, own)
        r["reason"] = public_text(r["reason"], own)
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
    shown = [public_line(r, own) for r in lines]
    html = env.get_template("nightly.html.j2").render(
        company=cfg.company.name,
        day=window.key,
        currency=cfg.company.functional_currency,
        run_key=keys[3],
        k=k,
        chart=chart,
        unmatched=[r for r in shown if r["outcome"] == "unmatched"],
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
        w.writerows(shown)
    log.info(
        "report %s: %d bank lines, %d matched, %d fees, %d unmatched, %d to review",
        window.key,
        n,
        matched,
        fees,
        len(unmatched),
        len(review),
    )
    return StepSummary(
        "report",
        window.key,
        {
            "bank lines": n,
            "matched": matched,
            "bank fees": fees,
            "unmatched": len(unmatched),
            "to review": len(review),
            "html": str(out / "reconciliation.html"),
            "csv": str(out / "reconciliation.csv"),
        },
    )
