"""The nightly reconciliation report finance reads: HTML, XLSX and CSV per night.

`nightly_report` writes `reports/daily/<day>/reconciliation.html` (the mail's body),
`reconciliation.xlsx` (every section as a sheet), `reconciliation.csv` (the night's new
bank lines with their outcome) and `report.json` (the mail's subject and key figures),
all from the warehouse as of the night (closeflow.report_data). closeflow.report_mail
mails them to finance.

All are safe to hand around: every template autoescapes (a remittance text, a file name
or a supplier name read from a PDF is data, never markup), account identifiers show
only their last four characters and files only their names (closeflow.masking), and a
text cell of the CSV or XLSX never becomes a spreadsheet formula.

The 30-night chart is an HTML table of bars (nested tables with a width and a
background colour), not SVG or an image: most mail clients drop inline SVG, and an
image would be an attachment referenced by Content-ID that the archived HTML file could
not show, that clients may block, and that hides the figures from a screen reader. The
table shows in every mail client and browser, with the figures beside the bars.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
from collections import Counter
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, PackageLoader

from closeflow.masking import file_name, mask_account, public_text
from closeflow.match_state import standing
from closeflow.money import round_money
from closeflow.runtime import Runtime, Window
from closeflow.steps import StepSummary, warehouse_step

log = logging.getLogger(__name__)
# autoescape=True, not select_autoescape(): that one goes by the file extension and leaves
# `.html.j2` templates unescaped.
env = Environment(loader=PackageLoader("closeflow", "templates"), autoescape=True)

# Columns of window_reconciliation rows that hold an account identifier, and free text.
ACCOUNT_COLUMNS = ("account_id", "counterparty_account")
TEXT_COLUMNS = ("counterparty_name", "remittance_info", "supplier_name", "invoice_number", "name")


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
    """Every bank line booked in the window, once, with its outcome: "matched" (to one or
    more open items: the invoice numbers and suppliers joined), "bank_fee" or "bank_rule"
    (booked by a bank rule), else "unmatched"."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT b.line_id, b.booking_date, b.amount, b.currency, b.counterparty_name,
               b.counterparty_account, b.remittance_info, s.account_id, m.item_id,
               i.invoice_number, i.supplier_name,
               (SELECT min(j.source_type) FROM {raw}.journal_lines j
                 WHERE j.source_type IN ('bank_fee', 'bank_rule') AND j.source_id = b.line_id)
                 AS booked_as
        FROM {raw}.bank_lines b
        JOIN {raw}.bank_statements s ON s.statement_id = b.statement_id
        LEFT JOIN {raw}.matches m ON m.bank_line_id = b.line_id AND {standing("m", raw)}
        LEFT JOIN {raw}.invoices i ON i.invoice_id = m.item_id
        WHERE b.booking_date >= :s AND b.booking_date < :e
        ORDER BY b.booking_date, b.line_id, i.invoice_number
        """,
        {"s": window.start, "e": window.end},
    ).to_pylist()
    lines: dict[str, dict] = {}
    for r in rows:  # a payment for several invoices: one line, its invoices joined
        line = lines.get(r["line_id"])
        if line is None:
            lines[r["line_id"]] = r
            continue
        for key in ("invoice_number", "supplier_name"):
            if r[key] and r[key] not in (line[key] or "").split(", "):
                line[key] = f"{line[key]}, {r[key]}" if line[key] else r[key]
    for r in lines.values():
        r["outcome"] = "matched" if r["item_id"] else (r.pop("booked_as") or "unmatched")
        r.pop("booked_as", None)
    return list(lines.values())


# the night's bank lines as the CSV lists them (its columns stay as they were)
CSV_COLUMNS = [
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
# a spreadsheet reads a cell starting with one of these as a formula (CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A text cell a spreadsheet will not run: a leading ' before =, +, -, @ (OWASP)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def report_paths(rt: Runtime, day: str) -> dict[str, Path]:
    """Where the report of night `day` is archived."""
    out = rt.reports / "daily" / day
    return {
        "dir": out,
        "html": out / "reconciliation.html",
        "xlsx": out / "reconciliation.xlsx",
        "csv": out / "reconciliation.csv",
        "json": out / "report.json",
    }


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def _pct(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value} %"


def mail_subject(
    company: str,
    day: str,
    rates: dict,
    unmatched: int,
    unreconciled: Decimal,
    currency: str,
    alerts: list[str],
    known: tuple[str, ...],
) -> str:
    """The mail's subject: the night, its figures, and the accounts needing a look (masked)."""
    rate = rates["last_30_days"]
    parts = [
        f"{company}: bank reconciliation {day}",
        f"match rate {_pct(rate['rate_count'])}",
        f"{unmatched} unmatched",
        f"unreconciled {_money(unreconciled)} {currency}",
        *alerts,
    ]
    return public_text(" · ".join(parts), known)


@warehouse_step("report", respects_lock=False)
def nightly_report(rt: Runtime, window: Window) -> StepSummary:
    """Write the night's report (HTML, XLSX, CSV, report.json) under reports/daily/<day>/;
    return what it shows and the paths (`counts["html"]`, `["xlsx"]`, `["csv"]`)."""
    from closeflow import report_data as data
    from closeflow.report_xlsx import write_workbook

    raw = rt.warehouse.schema
    cfg = rt.company
    currency = cfg.company.functional_currency
    night = window.end - dt.timedelta(days=1)
    own = tuple(a.account_id for a in cfg.company.bank_accounts)
    fx = data.Converter(rt)

    lines = data.bank_lines_as_of(rt, night)
    matches = data.matches_as_of(rt, night)
    by_line: dict[str, list[dict]] = {}
    for m in matches:
        if m["status"] != "suggested" and m["night"] and m["night"] <= night:
            by_line.setdefault(m["bank_line_id"], []).append(m)
    tonight = [r for r in lines if r["known_night"] == night]
    for r in tonight:
        mine = by_line.get(r["line_id"], [])
        r["invoice_number"] = ", ".join(m["invoice_number"] or "" for m in mine) or None
        r["supplier_name"] = ", ".join(sorted({m["supplier_name"] or "" for m in mine})) or None
    unmatched, unmatched_buckets = data.unmatched_lines(lines, fx)
    rates = data.rates(lines, night, fx)
    pending = data.suggestions(matches, lines)
    items, item_buckets = data.open_items_as_of(rt, night)
    statements = data.statements_of_night(rt, night)
    gaps = data.balance_gaps(rt, night, window.end_utc)
    ledger = data.ledger_vs_bank(rt, night)
    series = data.history(rt, night)
    unreconciled = next(b["amount"] for b in unmatched_buckets if b["bucket"] == "total")

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

    shown = {
        "statements": [public_line(r, own) for r in statements],
        "balance_gaps": [r | {"reason": public_text(r["reason"], own)} for r in gaps],
        "ledger_vs_bank": [public_line(r, own) for r in ledger],
        "new_matches_by_rule": data.new_matches_by_rule(matches, night),
        "suggestions": [public_line(r, own) for r in pending],
        "write_offs": [public_line(r, own) for r in data.write_offs(matches, night, pending)],
        "unmatched_buckets": unmatched_buckets,
        "unmatched_lines": [public_line(r, own) for r in unmatched],
        "open_item_buckets": item_buckets,
        "open_items": [public_line(r, own) for r in items],
        "review": review,
        "tonight": [public_line(r, own) for r in tonight],
        "history": series,
    }
    counts_tonight = Counter(r["outcome"] for r in tonight)
    alerts = [f"balance gap on {mask_account(a)}" for a in _gap_accounts(rt, gaps)]
    alerts += [
        f"ledger differs from bank on {mask_account(r['account_id'])}"
        for r in ledger
        if r["difference"]
    ]
    alerts += [
        f"statement not adding up on {mask_account(r['account_id'])}"
        for r in statements
        if r["ok"] is False
    ]
    k = {
        "bank_lines": len(tonight),
        "matched": counts_tonight["matched"],
        "fees": counts_tonight["bank_fee"],
        "rules": counts_tonight["bank_rule"],
        "unmatched_tonight": counts_tonight["unmatched"],
        "unmatched": len(unmatched),
        "unreconciled": _money(unreconciled),
        "files": files,
        "posted": posted,
        "review": len(review),
        "suggestions": len(pending),
        "tb_zero": tb_diff == 0,
        "tb_diff": tb_diff,
        "no_rate": fx.missing,
    }
    subject = mail_subject(
        cfg.company.name, window.key, rates, len(unmatched), unreconciled, currency, alerts, own
    )
    paths = report_paths(rt, window.key)
    paths["dir"].mkdir(parents=True, exist_ok=True)
    html = env.get_template("nightly.html.j2").render(
        company=cfg.company.name,
        day=window.key,
        currency=currency,
        run_key=keys[3],
        k=k,
        rates=rates,
        alerts=[public_text(a, own) for a in alerts],
        chart=data.chart_rows(series),
        money=_money,
        pct=_pct,
        **shown,
    )
    paths["html"].write_text(html, encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        w.writerows({c: csv_safe(r.get(c)) for c in CSV_COLUMNS} for r in shown["tonight"])
    r30 = rates["last_30_days"]
    summary = [
        ("Company", cfg.company.name),
        ("Night", night),
        ("Amounts in", currency),
        ("Bank lines new tonight", len(tonight)),
        ("  matched to invoices", counts_tonight["matched"]),
        ("  bank fees booked", counts_tonight["bank_fee"]),
        ("  booked by bank-line rules", counts_tonight["bank_rule"]),
        ("  unmatched", counts_tonight["unmatched"]),
        ("Bank lines booked in the 30 days to tonight", r30["lines"]),
        ("  explained (matched or booked)", r30["explained"]),
        ("Match rate by count (%)", r30["rate_count"]),
        ("Bank line amount, 30 days", r30["amount"]),
        ("  explained", r30["amount_explained"]),
        ("Match rate by amount (%)", r30["rate_amount"]),
        ("Unmatched bank lines (all)", len(unmatched)),
        ("Unreconciled amount", unreconciled),
        ("Suggestions awaiting a decision", len(pending)),
        ("Open items", len(items)),
        ("Waiting for review (new tonight)", len(review)),
        ("Trial balance", "balanced" if tb_diff == 0 else f"OUT BY {tb_diff}"),
        *[("Alert", public_text(a, own)) for a in alerts],
    ]
    write_workbook(paths["xlsx"], summary, shown)
    paths["json"].write_text(
        json.dumps(
            {
                "night": window.key,
                "subject": subject,
                "files": [paths[x].name for x in ("html", "xlsx", "csv")],
                "unmatched": len(unmatched),
                "unreconciled": str(unreconciled),
                "currency": currency,
                "match_rate_count": str(r30["rate_count"]),
                "match_rate_amount": str(r30["rate_amount"]),
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    log.info(
        "report %s: %d new bank lines, %d matched, %d fees, %d unmatched in all, %d to review",
        window.key,
        len(tonight),
        counts_tonight["matched"],
        counts_tonight["bank_fee"],
        len(unmatched),
        len(review),
    )
    return StepSummary(
        "report",
        window.key,
        {
            "bank lines": len(tonight),
            "matched": counts_tonight["matched"],
            "bank fees": counts_tonight["bank_fee"],
            "unmatched": len(unmatched),
            "to review": len(review),
            "html": str(paths["html"]),
            "xlsx": str(paths["xlsx"]),
            "csv": str(paths["csv"]),
        },
    )


def _gap_accounts(rt: Runtime, gaps: list[dict]) -> list[str]:
    """The accounts of the statements with a balance gap, in order, once each."""
    if not gaps:
        return []
    raw = rt.warehouse.schema
    ids = {f"s{n}": g["item_id"] for n, g in enumerate(gaps)}
    got = rt.warehouse.query(
        f"SELECT DISTINCT account_id FROM {raw}.bank_statements "
        f"WHERE statement_id IN ({', '.join(':' + k for k in ids)}) ORDER BY account_id",
        ids,
    ).to_pylist()
    return [r["account_id"] for r in got]
