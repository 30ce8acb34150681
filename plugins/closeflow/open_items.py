"""What the company owes per invoice: the posted accounts-payable credit less the payments
matched to it, as of a night (so re-running an earlier night gives the same answer
whatever ran after it), and raw.open_items as of everything the warehouse holds."""

from __future__ import annotations

import logging
from collections.abc import Collection

import pyarrow as pa

from closeflow.runtime import Runtime, Window
from closeflow.schemas import OPEN_ITEMS

log = logging.getLogger(__name__)


def payables_accounts(rt: Runtime) -> set[str]:
    """The accounts an invoice's payable is credited to: company.yml's AP control account
    and any a posting rule sets for its invoices (closeflow.posting.rules)."""
    return rt.company.posting_rules().payables_accounts()


def open_items_as_of(rt: Runtime, window: Window | None, undone: Collection[str] = ()) -> pa.Table:
    """What we owe per invoice before the window's payments: the payable its entry
    credited (to whichever payables account) less earlier matches, but for the matches
    `undone` (ids of matches this night undoes: they pay nothing from tonight).

    With `window=None`, what is open after everything the warehouse holds.
    """
    raw = rt.warehouse.schema
    payables = {f"ap{n}": a for n, a in enumerate(sorted(payables_accounts(rt)))}
    post_key = window.run_key("post") if window else "post:~"  # "~" sorts after any date
    rec_key = window.run_key("reconcile") if window else "reconcile:~"
    undone_keys = {f"undone{n}": m for n, m in enumerate(sorted(undone))}
    not_undone = (
        f"AND match_id NOT IN ({', '.join(':' + k for k in undone_keys)})" if undone_keys else ""
    )
    got = rt.warehouse.query(
        f"""
        WITH ap AS (
            SELECT source_id AS item_id, -SUM(amount_txn) AS posted, MIN(currency) AS currency,
                   MIN(account) AS ap_account
            FROM {raw}.journal_lines
            WHERE source_type = 'invoice' AND account IN ({", ".join(":" + k for k in payables)})
              AND run_id LIKE 'post:%' AND run_id <= :post_key
            GROUP BY source_id
        ), paid AS (
            SELECT item_id, SUM(matched_amount) AS paid FROM {raw}.matches
            WHERE run_id LIKE 'reconcile:%' AND run_id < :rec_key
              AND COALESCE(status, '') <> 'suggested'  -- a suggestion pays nothing yet
              {not_undone}
            GROUP BY item_id
        )
        SELECT ap.item_id, i.supplier_id, i.supplier_name, i.supplier_iban AS supplier_account,
               i.invoice_number, i.payment_reference, i.due_date,
               ap.posted - COALESCE(paid.paid, 0) AS amount_open, ap.currency, ap.ap_account
        FROM ap JOIN {raw}.invoices i ON i.invoice_id = ap.item_id
        LEFT JOIN paid ON paid.item_id = ap.item_id
        WHERE ap.posted - COALESCE(paid.paid, 0) <> 0
        ORDER BY ap.item_id
        """,
        {"post_key": post_key, "rec_key": rec_key, **payables, **undone_keys},
    )
    if got.num_rows == 0:
        return OPEN_ITEMS.empty_table()
    return got.select(OPEN_ITEMS.names).cast(OPEN_ITEMS)


def refresh_open_items(rt: Runtime) -> int:
    """Rewrite raw.open_items as what is open now, whichever window ran last."""
    items = open_items_as_of(rt, None)
    with rt.warehouse.transaction() as t:
        return t.replace("open_items", items, "TRUE")


# ---------------------------------------------------------------- corrections
