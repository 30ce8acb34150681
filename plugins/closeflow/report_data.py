"""What the nightly report shows, read from the warehouse as of one night.

"As of night D" is what the warehouse held once night D's steps had run, whatever ran
after: a row counts when the run that wrote it belongs to a night up to D (its run key,
`bank:2026-01-05` or `reconcile:2026-01-05`, names the night). So re-running the report
of an earlier night, or drawing the 30-night history, gives the figures of that night.

Sections (each a plain list of dicts or a small dict, for the HTML, the XLSX and tests):
- `statements`: the statements imported that night, opening + movements = closing;
  `balance_gaps`: statements that do not open where the account's previous one closed
  (review items of kind `statement_balance` still open);
- `ledger_vs_bank`: per bank account, the latest statement's closing balance beside the
  ledger's balance of its account on that date;
- `rates`: match rate by count and amount, of the night's new lines and of the lines
  booked in the 30 days to the night;
- `new_matches_by_rule`, `suggestions`, `write_offs`;
- `unmatched_lines` and `open_items`, each with its age buckets (0-7, 8-30, 31-60, >60 days);
- `history`: the match rate and unreconciled amount of each of the last 30 nights.

Money stays Decimal throughout; amounts in other currencies are converted at the
company's daily rate of their booking date (closeflow.config.FxRates), and a line with
no known rate is left out of the totals and counted, never given a guessed rate.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from closeflow.match_state import standing
from closeflow.money import round_money
from closeflow.runtime import Runtime

log = logging.getLogger(__name__)

HISTORY_NIGHTS = 30
RATE_DAYS = 30  # the match rate covers the bank lines booked in the 30 days to the night
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7 days", 0, 7),
    ("8-30 days", 8, 30),
    ("31-60 days", 31, 60),
    (">60 days", 61, None),
)
# journal source types that explain a bank line without an invoice
LINE_BOOKINGS = ("bank_fee", "bank_rule")
ZERO = Decimal("0.00")


def _night(col: str) -> str:
    """SQL: the night a run key names (`reconcile:2026-01-05` -> '2026-01-05'), as text."""
    return f"substr({col}, strpos({col}, ':') + 1, 10)"


def _as_of(col: str) -> str:
    """SQL: the row was written by a night up to `:asof` (ISO text). Rows whose run key
    names no night (a hand-made entry, an opening balance) always count."""
    n = _night(col)
    return f"(CASE WHEN {n} BETWEEN '1900' AND '9999' THEN {n} <= :asof ELSE TRUE END)"


def night_of(run_id: str | None) -> dt.date | None:
    """The night a run key names, or None (`post:2026-01-05` -> 2026-01-05)."""
    if not run_id or ":" not in run_id:
        return None
    try:
        return dt.date.fromisoformat(run_id.split(":", 1)[1][:10])
    except ValueError:
        return None


def age_bucket(days: int) -> str:
    """The age bucket a number of days falls in ('0-7 days' ... '>60 days')."""
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return AGE_BUCKETS[0][0]  # dated after the night (a value date ahead): the youngest


def percent(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    """`part / whole` as a percentage with one decimal, None when `whole` is 0."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


@dataclass
class Converter:
    """Amounts in the functional currency at the rate of a date; counts what it cannot."""

    rt: Runtime
    missing: int = 0

    @property
    def currency(self) -> str:
        return self.rt.company.company.functional_currency

    def __call__(self, amount: Decimal, currency: str, on: dt.date) -> Decimal | None:
        rate = self.rt.company.fx.rate(currency, on, self.currency)
        if rate is None:
            self.missing += 1
            return None
        return round_money(amount * rate)


@dataclass
class Buckets:
    """Count and functional amount per age bucket."""

    rows: dict[str, dict] = field(
        default_factory=lambda: {
            label: {"bucket": label, "count": 0, "amount": ZERO} for label, _, _ in AGE_BUCKETS
        }
    )

    def add(self, days: int, amount: Decimal | None) -> str:
        label = age_bucket(days)
        self.rows[label]["count"] += 1
        self.rows[label]["amount"] += amount or ZERO
        return label

    def table(self) -> list[dict]:
        total = {
            "bucket": "total",
            "count": sum(r["count"] for r in self.rows.values()),
            "amount": sum((r["amount"] for r in self.rows.values()), ZERO),
        }
        return [*self.rows.values(), total]


# ------------------------------------------------------------------------- bank lines


def _line_nights_sql(raw: str) -> str:
    """The nights each bank line was first matched (auto or confirmed, not a suggestion,
    not undone by a night up to `:asof`) and first booked by a fee or bank-line rule."""
    return f"""
        m AS (
            SELECT bank_line_id AS line_id, MIN({_night("mm.run_id")}) AS matched_night
            FROM {raw}.matches mm WHERE {standing("mm", raw, _as_of("u.run_id"))}
            GROUP BY bank_line_id
        ), j AS (
            SELECT source_id AS line_id,
                   MIN(CASE WHEN source_type = 'bank_fee' THEN {_night("run_id")} END)
                       AS fee_night,
                   MIN(CASE WHEN source_type = 'bank_rule' THEN {_night("run_id")} END)
                       AS rule_night
            FROM {raw}.journal_lines WHERE source_type IN ('bank_fee', 'bank_rule')
            GROUP BY source_id
        )"""


def _outcome(row: dict, night: dt.date) -> str:
    """How a bank line stood after night `night`: matched, bank_fee, bank_rule or
    unmatched (the earliest explanation wins)."""
    asof = night.isoformat()
    found = [
        (row[k], name)
        for k, name in (
            ("matched_night", "matched"),
            ("fee_night", "bank_fee"),
            ("rule_night", "bank_rule"),
        )
        if row.get(k) and row[k] <= asof
    ]
    return min(found)[1] if found else "unmatched"


def bank_lines_as_of(rt: Runtime, night: dt.date) -> list[dict]:
    """Every bank line known after night `night` (imported by a night up to it, booked up
    to it), with `known_night` (the night it was imported) and its `outcome` then."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        WITH {_line_nights_sql(raw)}
        SELECT b.line_id, b.statement_id, b.booking_date, b.value_date, b.amount, b.currency,
               b.counterparty_name, b.counterparty_account, b.remittance_info, b.run_id,
               s.account_id, m.matched_night, j.fee_night, j.rule_night
        FROM {raw}.bank_lines b
        JOIN {raw}.bank_statements s ON s.statement_id = b.statement_id
        LEFT JOIN m ON m.line_id = b.line_id
        LEFT JOIN j ON j.line_id = b.line_id
        WHERE b.booking_date <= :d AND (b.run_id IS NULL OR {_as_of("b.run_id")})
        ORDER BY b.booking_date, b.line_id
        """,
        {"d": night, "asof": night.isoformat()},
    ).to_pylist()
    for r in rows:
        r["known_night"] = night_of(r["run_id"]) or r["booking_date"]
        r["outcome"] = _outcome(r, night)
        r["age_days"] = (night - r["booking_date"]).days
    return rows


def rates(lines: list[dict], night: dt.date, fx: Converter) -> dict:
    """Match rate by count and by amount (functional currency) of the night's new lines
    and of the lines booked in the RATE_DAYS days to the night."""
    since = night - dt.timedelta(days=RATE_DAYS - 1)
    out = {}
    for key, chosen in (
        ("tonight", [r for r in lines if r["known_night"] == night]),
        ("last_30_days", [r for r in lines if r["booking_date"] >= since]),
    ):
        explained = [r for r in chosen if r["outcome"] != "unmatched"]
        amount = sum(
            (a for r in chosen if (a := fx(abs(r["amount"]), r["currency"], r["booking_date"]))),
            ZERO,
        )
        amount_explained = sum(
            (a for r in explained if (a := fx(abs(r["amount"]), r["currency"], r["booking_date"]))),
            ZERO,
        )
        out[key] = {
            "lines": len(chosen),
            "explained": len(explained),
            "rate_count": percent(len(explained), len(chosen)),
            "amount": amount,
            "amount_explained": amount_explained,
            "rate_amount": percent(amount_explained, amount),
        }
    return out


def unmatched_lines(lines: list[dict], fx: Converter) -> tuple[list[dict], list[dict]]:
    """The lines still unmatched after the night, oldest first, with their age bucket and
    functional amount; and the count and amount per age bucket."""
    buckets = Buckets()
    out = []
    for r in lines:
        if r["outcome"] != "unmatched":
            continue
        amount = fx(abs(r["amount"]), r["currency"], r["booking_date"])
        out.append(r | {"bucket": buckets.add(r["age_days"], amount), "amount_functional": amount})
    return out, buckets.table()


# ------------------------------------------------------------------------- statements


def statements_of_night(rt: Runtime, night: dt.date) -> list[dict]:
    """The statements the night imported: opening + the lines kept = closing?"""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT s.statement_id, s.account_id, s.currency, s.opening_balance, s.closing_balance,
               s.from_date, s.to_date, s.source_format,
               COUNT(b.line_id) AS lines, COALESCE(SUM(b.amount), 0) AS movements
        FROM {raw}.bank_statements s
        LEFT JOIN {raw}.bank_lines b ON b.statement_id = s.statement_id
        WHERE s.run_id = :r
        GROUP BY s.statement_id, s.account_id, s.currency, s.opening_balance,
                 s.closing_balance, s.from_date, s.to_date, s.source_format
        ORDER BY s.account_id, s.from_date, s.statement_id
        """,
        {"r": f"bank:{night.isoformat()}"},
    ).to_pylist()
    for r in rows:
        r["movements"] = round_money(Decimal(r["movements"]))
        if r["opening_balance"] is None or r["closing_balance"] is None:
            r["difference"] = None
            r["check"] = "no balances in the file: completeness cannot be checked"
            r["ok"] = None
            continue
        r["difference"] = r["closing_balance"] - r["opening_balance"] - r["movements"]
        r["ok"] = r["difference"] == 0
        r["check"] = (
            "opening + movements = closing"
            if r["ok"]
            else "the lines kept do not add up to the closing balance: lines shared with an "
            "overlapping download are kept under the earlier statement"
        )
    return rows


def balance_gaps(rt: Runtime, night: dt.date, end_utc: dt.datetime) -> list[dict]:
    """Statements that do not open where the account's previous statement closed, still
    open after the night (review items of kind `statement_balance`)."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT item_id, reason, created_run_id FROM {raw}.review_queue
        WHERE item_type = 'statement_balance' AND {_as_of("created_run_id")}
          AND (resolved_at IS NULL OR resolved_at >= :e)
        ORDER BY created_run_id, item_id
        """,
        {"asof": night.isoformat(), "e": end_utc},
    ).to_pylist()
    for r in rows:
        r["since"] = night_of(r["created_run_id"])
    return rows


def ledger_vs_bank(rt: Runtime, night: dt.date) -> list[dict]:
    """Per bank account of company.yml: the closing balance of its latest statement known
    after the night, and its ledger account's balance on that statement's date.

    The ledger side is shown only once the account's opening balance is booked (journal
    lines of source type `opening`): before that the ledger holds only the movements since
    go-live, and a difference would say nothing."""
    raw = rt.warehouse.schema
    wh = rt.warehouse
    params = {"asof": night.isoformat(), "d": night}
    statements = wh.query(
        f"""
        SELECT statement_id, account_id, currency, closing_balance, to_date
        FROM {raw}.bank_statements
        WHERE closing_balance IS NOT NULL AND to_date <= :d
          AND (run_id IS NULL OR {_as_of("run_id")})
        ORDER BY to_date, statement_id
        """,
        params,
    ).to_pylist()
    latest: dict[str, dict] = {}
    for s in statements:
        acct = rt.company.bank_account(s["account_id"])
        if acct is not None and s["currency"] == acct.currency:
            latest[acct.account_id] = s
    out = []
    for acct in rt.company.company.bank_accounts:
        st = latest.get(acct.account_id)
        on = st["to_date"] if st else night
        got = wh.query(
            f"""
            SELECT COALESCE(SUM(CASE WHEN currency = :c THEN amount_txn END), 0) AS balance,
                   COUNT(CASE WHEN source_type = 'opening' THEN 1 END) AS opening_lines,
                   COUNT(CASE WHEN currency <> :c THEN 1 END) AS other_currency
            FROM {raw}.journal_lines
            WHERE account = :a AND entry_date <= :on AND {_as_of("run_id")}
            """,
            params | {"a": acct.ledger_account, "c": acct.currency, "on": on},
        ).to_pylist()[0]
        row = {
            "account_id": acct.account_id,
            "name": acct.name,
            "currency": acct.currency,
            "ledger_account": acct.ledger_account,
            "statement_date": st["to_date"] if st else None,
            "statement_balance": st["closing_balance"] if st else None,
            "ledger_balance": None,
            "difference": None,
        }
        if st is None:
            row["note"] = "no statement with a closing balance yet"
        elif not got["opening_lines"]:
            row["note"] = (
                "ledger side not available yet: the account's opening balance is not booked "
                "in the ledger, which holds only the movements since go-live"
            )
        elif got["other_currency"]:
            row["note"] = (
                f"the ledger account holds entries in other currencies than {acct.currency}"
            )
        else:
            row["ledger_balance"] = round_money(Decimal(got["balance"]))
            row["difference"] = st["closing_balance"] - row["ledger_balance"]
            row["note"] = "agrees" if row["difference"] == 0 else "the ledger differs from the bank"
        out.append(row)
    return out


# ------------------------------------------------------------------------- matches


def matches_as_of(rt: Runtime, night: dt.date) -> list[dict]:
    """Every match written by a night up to `night`, with its bank line and invoice."""
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"""
        SELECT m.match_id, m.bank_line_id, m.item_id, m.matched_amount, m.rule, m.score,
               m.difference, m.difference_account, m.status, m.run_id,
               i.invoice_number, i.supplier_name, i.currency AS item_currency,
               b.booking_date, b.amount, b.currency, b.counterparty_name,
               b.counterparty_account, b.remittance_info, s.account_id,
               EXISTS (SELECT 1 FROM {raw}.match_decisions d
                       WHERE d.bank_line_id = m.bank_line_id AND d.item_id = m.item_id
                       AND d.decision = 'reject') AS rejected
        FROM {raw}.matches m
        LEFT JOIN {raw}.invoices i ON i.invoice_id = m.item_id
        LEFT JOIN {raw}.bank_lines b ON b.line_id = m.bank_line_id
        LEFT JOIN {raw}.bank_statements s ON s.statement_id = b.statement_id
        WHERE {_as_of("m.run_id")}
        ORDER BY b.booking_date, m.bank_line_id, m.item_id
        """,
        {"asof": night.isoformat()},
    ).to_pylist()
    for r in rows:
        r["night"] = night_of(r["run_id"])
        r["item_currency"] = r["item_currency"] or r["currency"]
    return rows


def new_matches_by_rule(matches: list[dict], night: dt.date) -> list[dict]:
    """The night's new matches per rule, status and currency: matches, lines, amount."""
    groups: dict[tuple, dict] = {}
    for m in matches:
        if m["night"] != night:
            continue
        key = (m["rule"] or "", m["status"] or "", m["item_currency"] or "")
        g = groups.setdefault(
            key,
            {
                "rule": key[0],
                "status": key[1],
                "currency": key[2],
                "matches": 0,
                "lines": set(),
                "amount": ZERO,
            },
        )
        g["matches"] += 1
        g["lines"].add(m["bank_line_id"])
        g["amount"] += m["matched_amount"] or ZERO
    out = []
    for key in sorted(groups):
        g = groups[key]
        out.append(g | {"lines": len(g["lines"])})
    return out


def suggestions(matches: list[dict], lines: list[dict]) -> list[dict]:
    """Suggested matches awaiting a person's decision: their line is not explained yet
    and no one rejected them.
    Best candidates first per line."""
    open_lines = {r["line_id"] for r in lines if r["outcome"] == "unmatched"}
    got = [
        m
        for m in matches
        if m["status"] == "suggested" and m["bank_line_id"] in open_lines and not m["rejected"]
    ]
    return sorted(got, key=lambda m: (m["booking_date"], m["bank_line_id"], -(m["score"] or 0)))


def write_offs(matches: list[dict], night: dt.date, pending: list[dict]) -> list[dict]:
    """Differences written off (or proposed to be): the night's matches with a difference,
    and suggested ones still awaiting a decision."""
    waiting = {m["match_id"] for m in pending}
    return [
        m | {"booked": m["status"] != "suggested"}
        for m in matches
        if m["difference"] and (m["night"] == night or m["match_id"] in waiting)
    ]


# ------------------------------------------------------------------------- open items


def open_items_as_of(rt: Runtime, night: dt.date) -> tuple[list[dict], list[dict]]:
    """What is owed per invoice after the night (posted payable less matched payments,
    suggestions not counted), aged from the invoice date; and the age buckets.

    The functional amount is the posted payable's share still open, at the rate it was
    posted with."""
    from closeflow.open_items import payables_accounts

    raw = rt.warehouse.schema
    payables = {f"ap{n}": a for n, a in enumerate(sorted(payables_accounts(rt)))}
    rows = rt.warehouse.query(
        f"""
        WITH ap AS (
            SELECT source_id AS item_id, -SUM(amount_txn) AS posted_txn,
                   -SUM(amount) AS posted, MIN(currency) AS currency
            FROM {raw}.journal_lines
            WHERE source_type = 'invoice' AND account IN ({", ".join(":" + k for k in payables)})
              AND run_id LIKE 'post:%' AND {_as_of("run_id")}
            GROUP BY source_id
        ), paid AS (
            SELECT item_id, SUM(matched_amount) AS paid FROM {raw}.matches
            WHERE COALESCE(status, '') <> 'suggested' AND {_as_of("run_id")}
            GROUP BY item_id
        )
        SELECT ap.item_id, i.supplier_name, i.invoice_number, i.invoice_date, i.due_date,
               ap.currency, ap.posted_txn, ap.posted,
               ap.posted_txn - COALESCE(paid.paid, 0) AS amount_open
        FROM ap JOIN {raw}.invoices i ON i.invoice_id = ap.item_id
        LEFT JOIN paid ON paid.item_id = ap.item_id
        WHERE ap.posted_txn - COALESCE(paid.paid, 0) <> 0
        ORDER BY i.invoice_date, ap.item_id
        """,
        {"asof": night.isoformat(), **payables},
    ).to_pylist()
    buckets = Buckets()
    for r in rows:
        since = r["invoice_date"] or r["due_date"] or night
        r["age_days"] = (night - since).days
        share = r["amount_open"] / r["posted_txn"] if r["posted_txn"] else Decimal(0)
        r["amount_functional"] = round_money(Decimal(r["posted"]) * share)
        r["bucket"] = buckets.add(r["age_days"], r["amount_functional"])
    return rows, buckets.table()


# ------------------------------------------------------------------------- history


def history(rt: Runtime, night: dt.date, nights: int = HISTORY_NIGHTS) -> list[dict]:
    """For each of the `nights` nights to `night` (from the warehouse's first night on):
    the match rate by count and amount of the lines booked in the RATE_DAYS days to it,
    and the unreconciled amount then (every line known and not yet explained), each as the
    warehouse held it after that night."""
    from closeflow.steps import first_night

    raw = rt.warehouse.schema
    first = night - dt.timedelta(days=nights - 1)
    go_live = first_night(rt)
    if go_live is not None:
        first = max(first, go_live)
    # one row per booking date, currency, import run and explanation nights: as many
    # rows as distinct nights, not as lines
    groups = rt.warehouse.query(
        f"""
        WITH {_line_nights_sql(raw)}
        SELECT b.booking_date, b.currency, b.run_id, m.matched_night, j.fee_night,
               j.rule_night, COUNT(*) AS n, SUM(ABS(b.amount)) AS amount
        FROM {raw}.bank_lines b
        LEFT JOIN m ON m.line_id = b.line_id
        LEFT JOIN j ON j.line_id = b.line_id
        WHERE b.booking_date <= :d AND (b.run_id IS NULL OR {_as_of("b.run_id")})
        GROUP BY b.booking_date, b.currency, b.run_id, m.matched_night, j.fee_night,
                 j.rule_night
        """,
        {"d": night, "asof": night.isoformat()},
    ).to_pylist()
    fx = Converter(rt)
    for g in groups:
        g["known_night"] = night_of(g["run_id"]) or g["booking_date"]
        g["functional"] = fx(Decimal(g["amount"]), g["currency"], g["booking_date"])
        explained = [g[k] for k in ("matched_night", "fee_night", "rule_night") if g[k]]
        g["explained_night"] = dt.date.fromisoformat(min(explained)) if explained else None
    out = []
    day = first
    while day <= night:
        since = day - dt.timedelta(days=RATE_DAYS - 1)
        count = {"lines": 0, "explained": 0, "unmatched": 0}
        amount = {"lines": ZERO, "explained": ZERO, "unmatched": ZERO}
        for g in groups:
            if g["known_night"] > day or g["booking_date"] > day:
                continue
            done = g["explained_night"] is not None and g["explained_night"] <= day
            money = g["functional"] or ZERO
            if not done:
                count["unmatched"] += g["n"]
                amount["unmatched"] += money
            if g["booking_date"] >= since:
                count["lines"] += g["n"]
                amount["lines"] += money
                if done:
                    count["explained"] += g["n"]
                    amount["explained"] += money
        out.append(
            {
                "night": day,
                "lines": count["lines"],
                "explained": count["explained"],
                "rate_count": percent(count["explained"], count["lines"]),
                "rate_amount": percent(amount["explained"], amount["lines"]),
                "unmatched": count["unmatched"],
                "unreconciled": amount["unmatched"],
            }
        )
        day += dt.timedelta(days=1)
    if fx.missing:
        log.warning(
            "history to %s: %d line group(s) without an exchange rate left out", night, fx.missing
        )
    return out


def chart_rows(series: list[dict], width: int = 220) -> list[dict]:
    """The history as bar widths in pixels (floats are fine for pixels; the figures shown
    stay Decimal): match rate on a 0-100 % scale, unreconciled amount on its own maximum."""
    top = max((r["unreconciled"] for r in series), default=ZERO)
    out = []
    for r in series:
        rate = r["rate_count"]
        out.append(
            r
            | {
                "rate_px": int(round(float(rate) / 100 * width)) if rate is not None else 0,
                "amount_px": int(round(float(r["unreconciled"] / top) * width)) if top else 0,
            }
        )
    return out
