"""Turn extracted invoices into journal entries with the posting rules, a batch at a time.

Each invoice becomes one entry: its net lines (per account and dimensions, after splits),
one input-tax line per tax rate, a rounding line when the document's total differs from
net + tax by a few cents (to the rules' rounding account), and the credit of the total to
accounts payable. Amounts are converted to the functional currency at the invoice date's
rate, each line rounded half-up to the cent, and accounts payable takes what makes the
entry sum to exactly zero (the FX conversion's rounding). Credit notes post the reverse.
What cannot be posted goes to the review queue with the reason, the whole invoice: an
entry is never half posted.

The work is columnar. Invoices and lines are Arrow tables; each line knows its invoice by
row number. The rules are matched with a boolean column per rule
(closeflow.posting.match). The entries are built in DuckDB with exact DECIMAL arithmetic
over integer keys and codes (accounts, dimensions, rules), and the journal's text
columns are assembled as Arrow dictionary arrays from those codes, so a million invoices
never become millions of Python objects. Python touches single rows only to word the
review reasons.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import string
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.config import FxRates
from closeflow.posting.match import Frame, match_rules, rule_chains
from closeflow.posting.rules import RuleSet
from closeflow.review import review_item
from closeflow.schemas import INVOICE_LINES, INVOICES, JOURNAL_LINES, MONEY, RATE

INVOICE_INPUT = pa.schema(list(INVOICES) + [pa.field("source_uri", pa.string())])
# cost_center: a dimension the line may already carry (from a purchase order, say)
LINE_INPUT = pa.schema(list(INVOICE_LINES) + [pa.field("cost_center", pa.string())])
DICT = pa.dictionary(pa.int32(), pa.string())
# the engine's journal lines: the contract, text columns dictionary-encoded
ENGINE_JOURNAL = pa.schema(
    [pa.field(f.name, DICT if f.type == pa.string() else f.type) for f in JOURNAL_LINES]
)
# what the dry run explains: per posting line, the rules that fired and the account
MATCHED_LINES = pa.schema(
    [
        ("invoice_id", DICT),
        ("line_no", pa.int32()),
        ("description", DICT),
        ("amount", MONEY),
        ("tax_rate", RATE),
        ("rule_id", DICT),
        ("account", DICT),
    ]
)
FRAC = pa.decimal128(38, 10)
# a chunk of invoices at a time (post_parquet reads the next one while it posts this
# one): 200,000 keeps a million invoices' posting well under 2 GiB, as fast as 250,000
CHUNK_INVOICES = int(os.environ.get("CLOSEFLOW_POSTING_CHUNK", "200000"))
_DUCK_LIMITS = {"memory_limit": os.environ.get("CLOSEFLOW_POSTING_MEMORY", "1GB")}


@dataclass
class PostingResult:
    journal: pa.Table = field(default_factory=ENGINE_JOURNAL.empty_table)
    review: list[dict] = field(default_factory=list)
    posted_ids: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    matched: pa.Table = field(default_factory=MATCHED_LINES.empty_table)

    @cached_property
    def journal_lines(self) -> list[dict]:
        """The journal lines as dict rows (for small batches and tests)."""
        return self.journal.select(JOURNAL_LINES.names).cast(JOURNAL_LINES).to_pylist()

    @cached_property
    def posted(self) -> list[str]:
        return self.posted_ids.to_pylist()


def entry_id_for(source_type: str, source_id: str) -> str:
    """A deterministic entry id: the same source always gives the same entry."""
    return f"{source_type[:3].upper()}-{hashlib.sha256(source_id.encode()).hexdigest()[:16]}"


def first_open_date(d: dt.date, closed_through: str | None) -> tuple[dt.date, str | None]:
    """The posting date for document date `d`: itself, or the first day after a closed period."""
    if closed_through and d.strftime("%Y-%m") <= closed_through:
        moved = _first_open_day(closed_through)
        return moved, f"period {d:%Y-%m} is closed; posted to {moved:%Y-%m}"
    return d, None


def _first_open_day(closed_through: str) -> dt.date:
    first = dt.date.fromisoformat(closed_through + "-01")
    return (first + dt.timedelta(days=32)).replace(day=1)


# the columns the engine reads: a batch read from Parquet needs no others
INVOICE_COLUMNS = (
    "invoice_id",
    "supplier_id",
    "supplier_name",
    "supplier_tax_id",
    "buyer_name",
    "buyer_tax_id",
    "invoice_number",
    "invoice_date",
    "currency",
    "subtotal",
    "tax_amount",
    "total",
    "document_type",
    "source_uri",
)
LINE_COLUMNS = (
    "invoice_id",
    "line_no",
    "description",
    "amount",
    "tax_rate",
    "tax_amount",
    "cost_center",
)


def read_batch(invoices_path, lines_path=None) -> tuple[pa.Table, pa.Table]:
    """Invoices and lines from Parquet, only the columns posting reads; the lines'
    descriptions (few distinct texts) stay dictionary-encoded."""
    import pyarrow.parquet as pq

    def columns(path, wanted):
        names = pq.read_schema(path).names
        return [c for c in wanted if c in names]

    inv = pq.read_table(invoices_path, columns=columns(invoices_path, INVOICE_COLUMNS))
    if lines_path is None:
        return inv, pa.table({})
    ln = pq.read_table(
        lines_path,
        columns=columns(lines_path, LINE_COLUMNS),
        read_dictionary=["description"],
    )
    return inv, ln


def as_table(rows: list[dict] | pa.Table, schema: pa.Schema) -> pa.Table:
    """`rows` with exactly `schema`'s columns: missing ones null, the rest cast (text
    columns may stay dictionary-encoded)."""
    if isinstance(rows, list):
        return pa.Table.from_pylist(rows, schema=schema)
    cols, fields = [], []
    for f in schema:
        if f.name not in rows.column_names:
            cols.append(pa.nulls(rows.num_rows, f.type))
            fields.append(f)
            continue
        col = rows[f.name]
        typ = col.type
        if f.type == pa.string() and pa.types.is_dictionary(typ) and typ.value_type == f.type:
            cols.append(col.unify_dictionaries() if col.num_chunks > 1 else col)
            fields.append(pa.field(f.name, typ))
        else:
            cols.append(col.cast(f.type))
            fields.append(f)
    return pa.Table.from_arrays(cols, schema=pa.schema(fields))


def _index_in(col: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.Array:
    """Each row's position in `values` (null if absent); on a dictionary column, looked
    up once per distinct value."""
    col = _array(col)
    if pa.types.is_dictionary(col.type):
        at = pc.index_in(col.dictionary, value_set=values)
        return pc.take(at, col.indices)
    return pc.index_in(col, value_set=values)


def _rows_of(col: pa.ChunkedArray, values: pa.ChunkedArray) -> pa.Array:
    """As _index_in; but when the distinct values of `col`, run by run, are `values`
    one by one and those strictly increase (a chunk of a batch in invoice id order,
    every invoice with lines), each row's position is its run's number: no hashing (nor
    a copy of `col` into one chunk)."""
    if isinstance(col, pa.Array):
        col = pa.chunked_array([col])
    values = _array(values)
    n = len(values)
    if (
        n == 0
        or len(col) < n
        or col.type != values.type
        or pa.types.is_dictionary(col.type)
        or col.null_count
        or values.null_count
    ):
        return _index_in(col, values)
    change = pc.not_equal(col[1:], col[:-1]).to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.r_[True, change])
    if len(starts) != n:
        return _index_in(col, values)
    if n > 1 and not pc.all(pc.less(values[:-1], values[1:])).as_py():
        return _index_in(col, values)
    heads = col.filter(pa.array(np.r_[True, change]))  # chunk by chunk: no copy of col
    if not pc.all(pc.equal(heads, pa.chunked_array([values]))).as_py():
        return _index_in(col, values)
    rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(np.r_[starts, len(col)]))
    return pa.array(rows, pa.int32())


def _array(a: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(a, pa.ChunkedArray):
        if a.num_chunks == 1:
            return a.chunk(0)
        return a.combine_chunks() if a.num_chunks else pa.array([], a.type)
    return a


def _pct(rate: Decimal) -> str:
    return f"{(Decimal(rate) * 100).normalize():f} %"


def _dict(indices: np.ndarray, values: list | pa.Array) -> pa.DictionaryArray:
    """A dictionary array; negative indices are nulls."""
    idx = np.asarray(indices, dtype=np.int32)
    mask = idx < 0
    ind = pa.array(np.where(mask, 0, idx), pa.int32(), mask=mask if mask.any() else None)
    vals = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    if len(vals) == 0:
        vals = pa.array([""], pa.string())
    return pa.DictionaryArray.from_arrays(ind, vals.cast(pa.string()))


class _Codes:
    """Text values (accounts, dimensions) as small integer codes."""

    def __init__(self) -> None:
        self.values: list[str] = []
        self._index: dict[str, int] = {}

    def code(self, value: str | None) -> int:
        if value is None:
            return -1
        if value not in self._index:
            self._index[value] = len(self.values)
            self.values.append(value)
        return self._index[value]


# ---------------------------------------------------------------- SQL

_HEADERS = """
CREATE TEMP TABLE h AS
WITH ls AS (
    SELECT inv_row, count(*) AS n, count(amount) AS n_amt, sum(amount) AS s_amt,
           count(tax_rate) AS n_rate, min(tax_rate) AS r_lo, max(tax_rate) AS r_hi,
           count(CASE WHEN tax_rate IS NOT NULL AND tax_amount IS NOT NULL THEN 1 END)
               AS n_tax,
           sum(tax_amount) AS s_tax
    FROM ln GROUP BY inv_row
), docs AS (
    SELECT i.inv_row, i.invoice_date, i.cur,
        i.subtotal IS NULL AS no_subtotal, i.total IS NULL AS no_total,
        CASE WHEN i.credit THEN -1 ELSE 1 END AS sign,
        CASE WHEN i.credit THEN abs(i.subtotal) ELSE i.subtotal END AS net_doc,
        CASE WHEN i.credit THEN abs(i.tax_amount) ELSE i.tax_amount END AS tax_doc,
        CASE WHEN i.credit THEN abs(i.total) ELSE i.total END AS total_doc,
        ls.n, ls.n_amt, ls.s_amt, ls.n_rate, ls.r_lo, ls.r_hi, ls.n_tax, ls.s_tax
    FROM inv i LEFT JOIN ls USING (inv_row)
), flipped AS (
    SELECT *,
        -- credit notes may print their lines negative: read them as the header does
        CASE WHEN s_amt = -net_doc AND s_amt <> 0 THEN -1 ELSE 1 END AS lflip,
        -- the header's rate to the percent, in integers (no float): round(tax / net, 2)
        CASE WHEN coalesce(tax_doc, 0) = 0 THEN CAST(0 AS DECIMAL(18, 6))
             WHEN net_doc IS NULL OR net_doc = 0 THEN NULL
             ELSE CAST((200 * CAST(abs(tax_doc) * 100 AS BIGINT) + CAST(abs(net_doc) * 100
                        AS BIGINT)) // (2 * CAST(abs(net_doc) * 100 AS BIGINT))
                       AS DECIMAL(18, 0)) * CAST(0.01 AS DECIMAL(18, 6))
        END AS header_rate
    FROM docs
)
SELECT *,
    coalesce(n, 0) > 0 AND n_amt = n AND s_amt * lflip = net_doc AS use_lines,
    coalesce(n, 0) > 0 AND n_tax = n AND s_tax * lflip = tax_doc AS line_taxes,
    CASE WHEN n_rate = n AND r_lo = r_hi THEN r_lo ELSE header_rate END AS synth_rate
FROM flipped
"""

# posting lines: the invoice's lines when they add up to its net, else one line for it
_POSTING_LINES = """
SELECT l.inv_row, l.line_no, l.src,
       CAST(l.amount * h.lflip AS DECIMAL(18, 2)) AS amount,
       CAST(coalesce(l.tax_rate, h.header_rate) AS DECIMAL(18, 6)) AS tax_rate
FROM ln l JOIN h USING (inv_row) WHERE h.use_lines
UNION ALL
SELECT inv_row, CAST(0 AS INTEGER), -1, CAST(net_doc AS DECIMAL(18, 2)),
       CAST(synth_rate AS DECIMAL(18, 6))
FROM h WHERE NOT use_lines
"""

_SYNTH_DESCRIPTIONS = """
SELECT h.inv_row, string_agg(d.description, '; ' ORDER BY d.line_no) AS description
FROM h JOIN ln_desc d USING (inv_row) WHERE NOT h.use_lines GROUP BY h.inv_row
"""

_ENTRIES = [
    """
CREATE TEMP TABLE parts AS
WITH p AS (SELECT * FROM pl WHERE acct_rule >= 0),
one AS (
    SELECT p.inv_row, p.line_no, p.src, s.split_no, s.acct,
           coalesce(s.cc, p.cc) AS cc, coalesce(s.project, p.project) AS project,
           p.chain, p.desc_rule, p.amount AS part, false AS bad_split
    FROM p JOIN splits s ON s.rule_idx = p.acct_rule WHERE s.nsplits = 1
), many AS (
    SELECT p.inv_row, p.line_no, p.src, s.split_no, s.acct,
           coalesce(s.cc, p.cc) AS cc, coalesce(s.project, p.project) AS project,
           p.chain, p.desc_rule, p.amount, s.is_last,
           CASE WHEN s.is_last THEN NULL
                WHEN s.frac IS NOT NULL THEN ROUND(CAST(p.amount AS DECIMAL(38, 2)) * s.frac, 2)
                ELSE s.fixed END AS part
    FROM p JOIN splits s ON s.rule_idx = p.acct_rule WHERE s.nsplits > 1
), many2 AS (
    SELECT inv_row, line_no, src, split_no, acct, cc, project, chain, desc_rule, amount,
           is_last,
           CASE WHEN is_last
                THEN amount - coalesce(sum(part) OVER (PARTITION BY inv_row, line_no), 0)
                ELSE part END AS part
    FROM many
)
SELECT * FROM one
UNION ALL
SELECT inv_row, line_no, src, split_no, acct, cc, project, chain, desc_rule,
       CAST(part AS DECIMAL(18, 2)), is_last AND part * amount < 0
FROM many2
""",
    """
CREATE TEMP TABLE net_legs AS
SELECT inv_row, acct, cc, project, chain, desc_rule,
       CAST(sum(part) AS DECIMAL(18, 2)) AS txn,
       CAST(min(line_no * 1000 + split_no) AS DECIMAL(38, 6)) AS ord,
       bool_or(bad_split) AS bad_split
FROM parts GROUP BY inv_row, acct, cc, project, chain, desc_rule
""",
    """
CREATE TEMP TABLE tax_legs AS
WITH line_tax AS (
    SELECT l.inv_row, CAST(l.tax_rate AS DECIMAL(18, 6)) AS rate,
           sum(l.tax_amount * h.lflip) AS tax
    FROM ln l JOIN h USING (inv_row) WHERE h.line_taxes GROUP BY l.inv_row, l.tax_rate
), net_by_rate AS (
    SELECT pl.inv_row, pl.tax_rate AS rate, sum(pl.amount) AS net
    FROM pl JOIN h USING (inv_row) WHERE NOT h.line_taxes GROUP BY pl.inv_row, pl.tax_rate
), rate_tax AS (
    SELECT r.inv_row, r.rate,
           CASE WHEN count(*) OVER (PARTITION BY r.inv_row) = 1 THEN h.tax_doc
                ELSE ROUND(r.net * r.rate, 2) END AS tax
    FROM net_by_rate r JOIN h USING (inv_row)
), taxes0 AS (
    SELECT * FROM line_tax UNION ALL SELECT * FROM rate_tax
), override AS (
    SELECT inv_row, tc_rate AS rate, arg_min(tc_acct, line_no) AS acct
    FROM pl WHERE tc_rate IS NOT NULL GROUP BY inv_row, tc_rate
)
SELECT t.inv_row, t.rate, coalesce(o.acct, c.acct) AS acct, CAST(t.tax AS DECIMAL(18, 2)) AS tax
FROM taxes0 t LEFT JOIN override o USING (inv_row, rate)
LEFT JOIN taxcodes c ON c.rate = t.rate
WHERE t.tax <> 0
""",
]

# per invoice: everything the review decision and the AP line need
_STATE = """
WITH lines_state AS (
    SELECT inv_row, count(*) AS n_lines, count(*) FILTER (WHERE acct_rule < 0) AS n_unmatched,
           bool_or(appr_always) AS appr_always, min(appr_limit) AS appr_limit,
           min(appr_rule) AS appr_rule, min(ap_acct) AS ap_acct
    FROM pl GROUP BY inv_row
), tax_state AS (
    SELECT inv_row, sum(tax) AS tax_sum, count(*) FILTER (WHERE acct IS NULL) AS n_unknown
    FROM tax_legs GROUP BY inv_row
), net_state AS (
    -- the entry's rule chain: its first net leg's (legs' orders are distinct)
    SELECT inv_row, sum(txn) AS net_sum, bool_or(bad_split) AS bad_split,
           arg_min(chain, ord) AS entry_chain
    FROM net_legs GROUP BY inv_row
)
SELECT h.inv_row, h.sign, h.total_doc, h.invoice_date, h.cur,
       CASE WHEN h.cur = $functional THEN CAST(1 AS DECIMAL(38, 12)) ELSE fx.rate END AS rate,
       s.n_lines, s.n_unmatched, s.appr_always, s.appr_limit, s.appr_rule,
       coalesce(s.ap_acct, $ap) AS ap_acct,
       coalesce(t.n_unknown, 0) AS n_unknown,
       h.total_doc - coalesce(n.net_sum, 0) - coalesce(t.tax_sum, 0) AS diff,
       coalesce(n.bad_split, false) AS bad_split,
       h.invoice_date IS NULL AS no_date, h.cur IS NULL AS no_currency,
       h.no_subtotal, h.no_total,
       n.entry_chain,
       CAST(CASE WHEN h.cur = $functional THEN 1 ELSE fx.rate END AS DECIMAL(18, 6)) AS rate6
FROM h
LEFT JOIN lines_state s USING (inv_row)
LEFT JOIN tax_state t USING (inv_row)
LEFT JOIN net_state n USING (inv_row)
LEFT JOIN fx ON fx.cur = h.cur AND fx.date = h.invoice_date
"""


def _reason_sql(tolerance: Decimal) -> str:
    return f"""
    CASE WHEN n_lines IS NULL OR n_unmatched > 0 THEN 'rule'
         WHEN no_date OR no_currency OR no_subtotal OR no_total THEN 'missing'
         WHEN rate IS NULL THEN 'fx'
         WHEN n_unknown > 0 THEN 'tax'
         WHEN abs(diff) > {tolerance} THEN 'total'
         WHEN bad_split THEN 'split'
         WHEN appr_always OR ROUND(total_doc * rate, 2) > appr_limit THEN 'approval'
    END"""


_JOURNAL = """
WITH ok AS (SELECT * FROM st WHERE kind IS NULL),
x AS (
    SELECT 1 AS grp, inv_row, CAST(ord AS BIGINT) AS ordk, acct, cc, project, chain, tmpl, txn
    FROM net_t
    UNION ALL
    SELECT 2, inv_row, CAST(rate * 10000 AS BIGINT) * 4096 + coalesce(acct, 0), acct, -1, -1,
           -1, -1, tax
    FROM tax_legs
    UNION ALL
    SELECT 3, inv_row, 0, $rounding, -1, -1, -1, -1, CAST(diff AS DECIMAL(18, 2))
    FROM ok WHERE diff <> 0
), debits AS (
    SELECT x.grp, x.inv_row, x.ordk, x.acct, x.cc, x.project,
           CASE WHEN x.chain >= 0 THEN x.chain ELSE l.entry_chain END AS chain, x.tmpl,
           CAST(l.sign * x.txn AS DECIMAL(18, 2)) AS amount_txn,
           CAST(ROUND(l.sign * x.txn * l.rate, 2) AS DECIMAL(18, 2)) AS amount
    FROM x JOIN ok l USING (inv_row)
    WHERE x.txn <> 0
), dsum AS (
    SELECT inv_row, sum(amount) AS s FROM debits GROUP BY inv_row
), alll AS (
    SELECT * FROM debits
    UNION ALL
    SELECT 4, l.inv_row, 0, l.ap_acct, -1, -1, l.entry_chain, -1,
           CAST(-l.sign * l.total_doc AS DECIMAL(18, 2)),
           CAST(-coalesce(d.s, 0) AS DECIMAL(18, 2))
    FROM ok l LEFT JOIN dsum d USING (inv_row)
)
SELECT inv_row, grp, ordk, acct, cc, project, chain, tmpl, amount, amount_txn FROM alll
"""


class _Batch:
    """One posting run over a batch, holding its DuckDB connection and code tables."""

    def __init__(self, rules: RuleSet, fx: FxRates, functional: str, suggester=None) -> None:
        self.rules = rules
        self.ordered = rules.ordered()
        self.n_rules = len(self.ordered)  # rules proper; after them, suggestion accounts
        self.suggester = suggester
        if suggester is not None:
            self.ordered += suggester.pseudo_rules()
        self.con = duckdb.connect(config={"preserve_insertion_order": False, **_DUCK_LIMITS})
        self.functional = functional
        self.fx = fx
        self.accounts = _Codes()
        self.dims = _Codes()  # cost centers and projects

    def close(self) -> None:
        self.con.close()

    def rule_tables(self, currencies: pa.Array) -> None:
        rows = {k: [] for k in ("rule_idx", "split_no", "nsplits", "acct", "frac", "fixed")}
        rows |= {"is_last": [], "cc": [], "project": []}
        for i, rule in enumerate(self.ordered):
            splits = rule.then.account_splits()
            for j, s in enumerate(splits, start=1):
                last = j == len(splits)
                rows["rule_idx"].append(i)
                rows["split_no"].append(j)
                rows["nsplits"].append(len(splits))
                rows["acct"].append(self.accounts.code(s.account))
                rows["frac"].append(None if last or s.percent is None else s.percent / 100)
                rows["fixed"].append(None if last or s.amount is None else s.amount)
                rows["is_last"].append(last)
                rows["cc"].append(self.dims.code(s.cost_center) if s.cost_center else None)
                rows["project"].append(self.dims.code(s.project) if s.project else None)
        types = {"frac": FRAC, "fixed": MONEY, "is_last": pa.bool_()}
        self.splits = pa.table({k: pa.array(v, types.get(k, pa.int32())) for k, v in rows.items()})
        codes: dict[Decimal, int] = {}
        for code in self.rules.tax_codes.values():
            codes.setdefault(code.rate, self.accounts.code(code.account))
        self.taxcodes = pa.table(
            {
                "rate": pa.array(list(codes), RATE),
                "acct": pa.array(list(codes.values()), pa.int32()),
            }
        )
        cur_of = {c: i for i, c in enumerate(currencies.to_pylist())}
        # a rate per currency and day: that day's, else the latest within 7 days before
        by_cur: dict[int, dict[dt.date, Decimal]] = {}
        for c, d, r in self.fx.items():
            if c in cur_of:
                by_cur.setdefault(cur_of[c], {})[d] = r
        fx_rows = []
        for c, days in by_cur.items():  # per calendar day of the table, not per invoice
            day, last = min(days), max(days) + dt.timedelta(days=7)
            while day <= last:
                for back in range(8):
                    r = days.get(day - dt.timedelta(days=back))
                    if r is not None:
                        fx_rows.append((c, day, r))
                        break
                day += dt.timedelta(days=1)
        self.fx_table = pa.table(
            {
                "cur": pa.array([c for c, _, _ in fx_rows], pa.int32()),
                "date": pa.array([d for _, d, _ in fx_rows], pa.date32()),
                "rate": pa.array([r for _, _, r in fx_rows], pa.decimal128(38, 12)),
            }
        )
        self.functional_code = cur_of.get(self.functional, -2)
        self.ap_code = self.accounts.code(self.rules.ap_account)
        self.rounding_code = self.accounts.code(self.rules.rounding_account)
        for name in ("splits", "taxcodes"):
            self.con.register(name, getattr(self, name))
        self.con.register("fx", self.fx_table)

    def _gather(self, taken: np.ndarray, values: list, typ: pa.DataType) -> pa.Array:
        idx = np.where(taken < 0, len(values), taken)
        return pc.take(pa.array([*values, None], typ), pa.array(idx))

    def _gather_codes(self, taken: np.ndarray, codes: list[int]) -> np.ndarray:
        table = np.array([*codes, -1], dtype=np.int32)
        return table[np.where(taken < 0, len(codes), taken)]


def post_invoices(
    invoices: list[dict] | pa.Table,
    lines: list[dict] | pa.Table,
    rules: RuleSet,
    fx: FxRates,
    functional_currency: str,
    run_id: str,
    closed_through: str | None = None,
    suggester: object | None = None,
    explain: bool = False,
) -> PostingResult:
    """Post every invoice the rules (or a confident suggestion) cover; send the rest to
    review with the reason. `invoices` and `lines` follow the table contracts (dict rows
    or Arrow tables; `source_uri` and a line `cost_center` are optional). With
    `explain`, the result's `matched` holds, per posting line, the rules that fired and
    the account (what a dry run shows); otherwise it is left empty."""
    inv = as_table(invoices, INVOICE_INPUT)
    ln = as_table(lines, LINE_INPUT)
    n = inv.num_rows
    if n <= CHUNK_INVOICES:
        return _post_chunk(
            rules, fx, functional_currency, inv, ln, run_id, closed_through, suggester, explain
        )
    # a large batch goes in chunks of invoices (an entry never spans two), so the working
    # tables of one chunk at a time are in memory, beside the inputs and the results
    ln_row = _index_in(ln["invoice_id"], inv["invoice_id"])
    ln_row = pc.fill_null(ln_row, -1).to_numpy(zero_copy_only=False)
    parts = []
    for lo in range(0, n, CHUNK_INVOICES):
        hi = min(n, lo + CHUNK_INVOICES)
        mask = pa.array((ln_row >= lo) & (ln_row < hi))
        parts.append(
            _post_chunk(
                rules,
                fx,
                functional_currency,
                inv.slice(lo, hi - lo),
                ln.filter(mask),
                run_id,
                closed_through,
                suggester,
                explain,
            )
        )
    review = sorted((r for p in parts for r in p.review), key=lambda r: r["item_id"])
    return PostingResult(
        pa.concat_tables([p.journal for p in parts]),
        review,
        pa.concat_arrays([p.posted_ids for p in parts]),
        pa.concat_tables([p.matched for p in parts]),
    )


def _post_chunk(rules, fx, functional, inv, ln, run_id, closed_through, suggester, explain):  # noqa: ANN001, ANN202
    if suggester is not None:
        suggester.top = {}
    b = _Batch(rules, fx, functional, suggester)
    try:
        return _post(b, inv, ln, run_id, closed_through, suggester, explain)
    finally:
        b.close()


@dataclass
class PostingCounts:
    """What `post_parquet` wrote."""

    invoices: int = 0
    posted: int = 0
    journal_lines: int = 0
    review: int = 0


def _plain(schema: pa.Schema) -> pa.Schema:
    """`schema` with dictionary-encoded text columns as plain text (the file contract)."""
    return pa.schema(
        [
            pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
            for f in schema
        ]
    )


# columns with (nearly) a value per entry or line: a Parquet dictionary would only be
# built to be dropped (past its page size limit), at a good part of the writing's time
_DISTINCT_COLUMNS = {"entry_id", "source_id", "description", "invoice_id", "amount", "amount_txn"}


def _dictionary_columns(schema: pa.Schema) -> list[str]:
    """The columns worth writing dictionary-encoded: those with few distinct values."""
    return [f.name for f in schema if f.name not in _DISTINCT_COLUMNS]


def _invoice_chunks(path, size: int):  # noqa: ANN001, ANN202
    """The invoices file as tables of `size` rows (the last one shorter), read a batch
    at a time; only the columns posting reads."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    cols = [c for c in INVOICE_COLUMNS if c in pf.schema_arrow.names]
    held: list[pa.RecordBatch] = []
    n_held = 0
    for batch in pf.iter_batches(batch_size=min(size, 65536), columns=cols):
        held.append(batch)
        n_held += batch.num_rows
        while n_held >= size:
            table = pa.Table.from_batches(held)
            yield table.slice(0, size).combine_chunks()
            rest = table.slice(size)
            held, n_held = rest.to_batches(), rest.num_rows
    if n_held:
        yield pa.Table.from_batches(held, schema=pf.schema_arrow.empty_table().select(cols).schema)


class _Unsorted(Exception):
    """The files turned out not to be in invoice id order: post by lookup instead."""


def _in_order(ids: pa.ChunkedArray | pa.Array, last: pa.Scalar | None) -> pa.Scalar | None:
    """The last of `ids` if they never decrease (nor go below `last`, the previous
    batch's last); else raises _Unsorted. Nulls are not in order."""
    ids = _array(ids)
    if ids.null_count:
        raise _Unsorted
    if len(ids) == 0:
        return last
    if last is not None and pc.less(ids[0], last).as_py():
        raise _Unsorted
    if len(ids) > 1 and not pc.all(pc.less_equal(ids[:-1], ids[1:])).as_py():
        raise _Unsorted
    return ids[len(ids) - 1]


class _SortedLines:
    """The lines of a file sorted by invoice id, handed out in invoice id order: up to an
    id, then on from there (one pass over the file, a batch at a time). Each batch is
    checked to be in order as it is read (so the file is read once, not first to check
    it): if it is not, _Unsorted is raised."""

    BATCH = 1 << 16

    def __init__(self, path, cols: list[str]) -> None:  # noqa: ANN001
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path, read_dictionary=["description"])
        self._batches = pf.iter_batches(batch_size=self.BATCH, columns=cols)
        self._schema, self._cols = pf.schema_arrow, cols
        self._rest: pa.Table | None = None
        self._done = False
        self._last: pa.Scalar | None = None

    def _next(self) -> pa.Table | None:
        batch = None if self._done else next(self._batches, None)
        if batch is None:
            self._done = True
            return None
        self._last = _in_order(batch.column("invoice_id"), self._last)
        return pa.Table.from_batches([batch])

    def upto(self, last_id: pa.Scalar) -> pa.Table:
        """The lines not handed out yet whose invoice id is at most `last_id`."""
        held: list[pa.Table] = []
        while True:
            if self._rest is None:
                self._rest = self._next()
                if self._rest is None:
                    break
            ids = self._rest["invoice_id"]
            n = pc.sum(pc.less_equal(ids, last_id)).as_py() or 0  # sorted: a prefix
            if n < self._rest.num_rows:
                held.append(self._rest.slice(0, n))
                self._rest = self._rest.slice(n)
                break
            held.append(self._rest)
            self._rest = None
        if not held:
            return self._schema.empty_table().select(self._cols)
        return pa.concat_tables(held, promote_options="permissive")

    def check_rest(self) -> None:
        """Read what was not handed out (the lines after the last invoice), only to check
        it is in order too: a line out of order there could belong to an invoice."""
        while self._next() is not None:
            pass


def _lines_of(lines_ds, cols: list[str], ids: pa.Array) -> pa.Table:  # noqa: ANN001
    """The lines of the invoices `ids`, in file order. The id range is given too, so a
    file written in invoice order is read only in the row groups that hold them."""
    import pyarrow.dataset as ds

    key = ds.field("invoice_id")
    flt = key.isin(ids)
    lo_hi = pc.min_max(ids)
    if lo_hi["min"].is_valid:
        flt = (key >= lo_hi["min"]) & (key <= lo_hi["max"]) & flt
    return lines_ds.to_table(columns=cols, filter=flt)


def post_parquet(
    invoices_path,  # noqa: ANN001
    lines_path,  # noqa: ANN001
    rules: RuleSet,
    fx: FxRates,
    functional_currency: str,
    run_id: str,
    journal_path,  # noqa: ANN001
    review_path,  # noqa: ANN001
    closed_through: str | None = None,
    suggester: object | None = None,
    explain_path=None,  # noqa: ANN001
) -> PostingCounts:
    """`post_invoices` over Parquet files (what `closeflow post` runs), a chunk of
    invoices at a time: each chunk's journal lines are written as soon as they are made,
    so only one chunk's inputs, working tables and results are in memory, never the
    whole batch. The files hold the same rows as `post_invoices` would return: the
    journal in the same order, the review queue sorted by invoice; `explain_path`, if
    given, gets the matched posting lines (the dry run's per-line rule and account).

    Both files in invoice id order (as the warehouse exports them) are read in one pass
    each, the order checked as they are read; if it turns out they are not, the batch
    is posted again from the start (the files rewritten), each chunk's lines looked up
    by id."""
    args = (invoices_path, lines_path, rules, fx, functional_currency, run_id)
    args += (journal_path, review_path, closed_through, suggester, explain_path)
    if lines_path is not None:
        try:
            return _post_files(*args, in_order=True)
        except _Unsorted:
            pass
    return _post_files(*args, in_order=False)


def _post_files(
    invoices_path,  # noqa: ANN001
    lines_path,  # noqa: ANN001
    rules: RuleSet,
    fx: FxRates,
    functional_currency: str,
    run_id: str,
    journal_path,  # noqa: ANN001
    review_path,  # noqa: ANN001
    closed_through: str | None,
    suggester: object | None,
    explain_path,  # noqa: ANN001
    in_order: bool,
) -> PostingCounts:
    """post_parquet's pass over the files; with `in_order`, the files are taken to be
    in invoice id order (_Unsorted is raised as soon as they are seen not to be)."""
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from closeflow.schemas import REVIEW_QUEUE

    lines_ds, line_cols, sorted_lines = None, [], None
    if lines_path is not None:
        fmt = ds.ParquetFileFormat(read_options={"dictionary_columns": ["description"]})
        lines_ds = ds.dataset(str(lines_path), format=fmt)
        line_cols = [c for c in LINE_COLUMNS if c in lines_ds.schema.names]
        if in_order:
            sorted_lines = _SortedLines(lines_path, line_cols)
    counts = PostingCounts()
    reviews: list[pa.Table] = []

    def writer(path, schema: pa.Schema) -> pq.ParquetWriter:  # noqa: ANN001
        # the dictionary-encoded text columns go to Parquet's dictionary pages as they
        # are (no text materialized, nothing hashed); without the Arrow schema stored in
        # the file, it reads back with plain text columns, as the contract has them
        return pq.ParquetWriter(
            str(path), schema, use_dictionary=_dictionary_columns(schema), store_schema=False
        )

    jw = writer(journal_path, ENGINE_JOURNAL)
    xw = writer(explain_path, MATCHED_LINES) if explain_path else None

    def write(w: pq.ParquetWriter, table: pa.Table, step: int | None) -> None:
        step = step or max(table.num_rows, 1)
        for lo in range(0, table.num_rows, step):
            w.write_table(table.slice(lo, step))

    from concurrent.futures import ThreadPoolExecutor

    chunks = _invoice_chunks(invoices_path, CHUNK_INVOICES)
    last_invoice = None

    def read_next() -> tuple[pa.Table, pa.Table] | None:
        """The next chunk's invoices and lines (on the reader thread, one at a time)."""
        nonlocal last_invoice
        chunk = next(chunks, None)
        if chunk is None:
            return None
        inv = as_table(chunk, INVOICE_INPUT)
        if sorted_lines is not None:
            last_invoice = _in_order(inv["invoice_id"], last_invoice)
        if sorted_lines is not None and inv.num_rows:
            ln = as_table(sorted_lines.upto(inv["invoice_id"][-1]), LINE_INPUT)
        elif lines_ds is not None:
            ln = as_table(_lines_of(lines_ds, line_cols, inv["invoice_id"]), LINE_INPUT)
        else:
            ln = as_table(pa.table({}), LINE_INPUT)
        return inv, ln

    # the next chunk is read on a thread while this one is posted, and a chunk's journal
    # and explanation are written on two others (Arrow and DuckDB release the GIL); at
    # most one chunk waits to be posted and one to be written
    writing: list = []
    try:
        with ThreadPoolExecutor(2) as pool, ThreadPoolExecutor(1) as reader:
            reading = reader.submit(read_next)
            while (got := reading.result()) is not None:
                reading = reader.submit(read_next)
                inv, ln = got
                del got
                counts.invoices += inv.num_rows
                _tick("read chunk")
                res = _post_chunk(
                    rules,
                    fx,
                    functional_currency,
                    inv,
                    ln,
                    run_id,
                    closed_through,
                    suggester,
                    xw is not None,
                )
                del inv, ln
                for done in writing:
                    done.result()
                _tick("wait for the writer")
                writing = [pool.submit(write, jw, res.journal, 1 << 18)]
                if xw is not None:
                    writing.append(pool.submit(write, xw, res.matched, None))
                counts.posted += len(res.posted_ids)
                counts.journal_lines += res.journal.num_rows
                counts.review += len(res.review)
                if res.review:
                    reviews.append(pa.Table.from_pylist(res.review, schema=REVIEW_QUEUE))
                del res
            if sorted_lines is not None:
                sorted_lines.check_rest()
            for done in writing:
                done.result()
            _tick("last write")
    finally:
        jw.close()
        if xw is not None:
            xw.close()
    review = pa.concat_tables(reviews) if reviews else REVIEW_QUEUE.empty_table()
    # the order post_invoices gives (stable: a chunk's rows are already in item order)
    review = review.take(pc.sort_indices(review, [("item_id", "ascending")]))
    pq.write_table(review, str(review_path))
    return counts


_PROFILE = bool(os.environ.get("CLOSEFLOW_PROFILE_POSTING"))
_T0 = [0.0, 0.0]


def _tick(label: str) -> None:
    if _PROFILE:
        import resource
        import time

        now, cpu = time.perf_counter(), time.process_time()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(
            f"  {label}: {now - _T0[0]:.2f} s (cpu {cpu - _T0[1]:.2f} s), peak {rss} MiB",
            flush=True,
        )
        _T0[0], _T0[1] = now, cpu


def _post(
    b: _Batch,
    inv: pa.Table,
    ln: pa.Table,
    run_id: str,
    closed_through: str | None,
    suggester: object | None,
    explain: bool = False,
) -> PostingResult:
    con = b.con
    n_inv = inv.num_rows
    _tick("in")
    # each line's invoice, by row; lines of unknown invoices cannot post and are left out
    ln_row = _rows_of(ln["invoice_id"], inv["invoice_id"])
    if ln_row.null_count:
        keep = pc.is_valid(ln_row)
        ln, ln_row = ln.filter(keep), ln_row.filter(keep)
    ln_row = ln_row.to_numpy(zero_copy_only=False).astype(np.int32)
    cur_values, cur_idx = Frame._encode(inv["currency"])
    cur = np.where(cur_idx >= len(cur_values), -1, cur_idx)
    b.rule_tables(cur_values)
    credit = pc.fill_null(pc.equal(inv["document_type"], "credit_note"), False)
    con.register(
        "inv",
        pa.table(
            {
                "inv_row": pa.array(np.arange(n_inv, dtype=np.int32)),
                "credit": credit,
                "subtotal": inv["subtotal"],
                "tax_amount": inv["tax_amount"],
                "total": inv["total"],
                "invoice_date": inv["invoice_date"],
                "cur": pa.array(cur, pa.int32(), mask=cur < 0),
            }
        ),
    )
    con.register(
        "ln",
        pa.table(
            {
                "inv_row": pa.array(ln_row),
                "src": pa.array(np.arange(ln.num_rows, dtype=np.int32)),
                "line_no": ln["line_no"],
                "amount": ln["amount"],
                "tax_rate": ln["tax_rate"],
                "tax_amount": ln["tax_amount"],
            }
        ),
    )
    _tick("start")
    con.execute(_HEADERS)
    total_doc = con.sql("SELECT total_doc FROM h ORDER BY inv_row").to_arrow_table().column(0)
    _tick("headers")
    pl = con.sql(_POSTING_LINES).to_arrow_table()
    src = pl["src"].to_numpy()
    pl_row = pl["inv_row"].to_numpy()
    real = src >= 0

    # the posting lines' descriptions: the lines' own (dictionary-encoded once); for a
    # whole-invoice line, its lines' descriptions joined
    desc_values, desc_idx = Frame._encode(ln["description"])
    pl_desc = np.full(pl.num_rows, -1, dtype=np.int32)
    pl_desc[real] = desc_idx[src[real]]
    pl_desc[pl_desc >= len(desc_values)] = -1
    if (~real).any():
        con.register(
            "ln_desc",
            pa.table(
                {
                    "inv_row": pa.array(ln_row),
                    "line_no": ln["line_no"],
                    "description": ln["description"],
                }
            ),
        )
        synth = con.sql(_SYNTH_DESCRIPTIONS).to_arrow_table()
        at = np.full(n_inv, -1, dtype=np.int32)
        at[synth["inv_row"].to_numpy()] = np.arange(synth.num_rows, dtype=np.int32)
        got = at[pl_row[~real]]
        pl_desc[~real] = np.where(got >= 0, got + len(desc_values), -1)
        desc_values = pa.concat_arrays(
            [desc_values.cast(pa.string()), synth["description"].combine_chunks()]
        )
    description = _dict(pl_desc, desc_values)
    given_cc = (
        pc.take(ln["cost_center"], pa.array(np.where(real, src, 0)))
        if ln["cost_center"].null_count < ln.num_rows
        else pa.nulls(pl.num_rows, pa.string())
    )
    if (~real).any() and ln["cost_center"].null_count < ln.num_rows:
        given_cc = pc.if_else(pa.array(real), given_cc, pa.scalar(None, pa.string()))

    # match the rules
    inv_cols = inv.select(
        [
            "supplier_id",
            "supplier_name",
            "supplier_tax_id",
            "buyer_name",
            "buyer_tax_id",
            "currency",
            "document_type",
            "invoice_date",
        ]
    ).append_column("total", total_doc)
    line_cols = pa.table(
        {
            "line_no": pl["line_no"],  # null on a line posting a whole invoice
            "description": description,
            "amount": pl["amount"],
            "tax_rate": pl["tax_rate"],
            "cost_center": given_cc,
        }
    )
    rules = b.ordered
    _tick("descriptions")
    taken = match_rules(rules[: b.n_rules], line_cols, inv_cols, pl_row)
    if suggester is not None:
        taken = suggester.apply(taken, line_cols, inv_cols, pl_row, b.n_rules)
    chain, chain_names = rule_chains(taken, rules)
    t = [r.then for r in rules]
    codes = b.rules.tax_codes
    cc_given_codes = np.full(pl.num_rows, -1, dtype=np.int32)
    if given_cc.null_count < len(given_cc):
        vals, idx = Frame._encode(given_cc)
        vc = np.array([b.dims.code(v) for v in vals.to_pylist()] + [-1], dtype=np.int32)
        cc_given_codes = vc[idx]
    cc_rule = b._gather_codes(taken["cost_center"], [b.dims.code(x.cost_center) for x in t])
    first_acct = [
        b.accounts.code(x.account_splits()[0].account) if x.sets_account() else -1 for x in t
    ]
    pl_acct = b._gather_codes(taken["account"], first_acct)
    cols = {
        "inv_row": pl["inv_row"],
        "line_no": pl["line_no"],
        "src": pl["src"],
        "amount": pl["amount"],
        "tax_rate": pl["tax_rate"],
        "acct_rule": pa.array(taken["account"]),
        "cc": pa.array(np.where(cc_given_codes >= 0, cc_given_codes, cc_rule)),
        "project": pa.array(b._gather_codes(taken["project"], [b.dims.code(x.project) for x in t])),
        "desc_rule": pa.array(taken["desc"]),
        "chain": pa.array(chain),
    }
    # the actions no line took are constant NULL columns of a view, not arrays
    nulls = []
    if (taken["tax_code"] >= 0).any():
        cols["tc_rate"] = b._gather(
            taken["tax_code"], [codes[x.tax_code].rate if x.tax_code else None for x in t], RATE
        )
        cols["tc_acct"] = pa.array(
            b._gather_codes(
                taken["tax_code"],
                [b.accounts.code(codes[x.tax_code].account) if x.tax_code else -1 for x in t],
            )
        )
    else:
        nulls += ["CAST(NULL AS DECIMAL(18, 6)) AS tc_rate", "CAST(NULL AS INTEGER) AS tc_acct"]
    if (taken["ap_account"] >= 0).any():
        cols["ap_acct"] = pa.array(
            b._gather_codes(taken["ap_account"], [b.accounts.code(x.ap_account) for x in t]),
            mask=taken["ap_account"] < 0,
        )
    else:
        nulls.append("CAST(NULL AS INTEGER) AS ap_acct")
    if (taken["approval"] >= 0).any():
        cols["appr_limit"] = b._gather(
            taken["approval"], [x.approval_above if x.auto_post else None for x in t], MONEY
        )
        cols["appr_always"] = pc.fill_null(
            b._gather(taken["approval"], [not x.auto_post for x in t], pa.bool_()), False
        )
        cols["appr_rule"] = pa.array(taken["approval"], mask=taken["approval"] < 0)
    else:
        nulls += [
            "CAST(NULL AS DECIMAL(18, 2)) AS appr_limit",
            "false AS appr_always",
            "CAST(NULL AS INTEGER) AS appr_rule",
        ]
    con.register("pl_base", pa.table(cols))
    con.execute(
        "CREATE TEMP VIEW pl AS SELECT *" + "".join(", " + n for n in nulls) + " FROM pl_base"
    )
    _tick("match")

    for sql in _ENTRIES:
        con.execute(sql)
    names = chain_names
    reason = _reason_sql(b.rules.rounding_tolerance)
    _tick("codes")
    con.execute(
        f"CREATE TEMP TABLE st AS SELECT *, {reason} AS kind FROM ({_STATE})",
        {"functional": b.functional_code, "ap": b.ap_code},
    )
    con.execute("DROP TABLE h")
    _tick("entries")
    review = _review_rows(con, inv, b, run_id)

    # descriptions: per invoice the default; per net line of a templated rule, its text
    default = pc.utf8_trim_whitespace(
        pc.binary_join_element_wise(
            pc.fill_null(inv["supplier_name"], ""), pc.fill_null(inv["invoice_number"], ""), " "
        )
    )
    dates = inv["invoice_date"]
    if closed_through:
        moved_day = _first_open_day(closed_through)
        period_in = pc.strftime(dates, "%Y-%m")
        moved = pc.fill_null(pc.less_equal(period_in, closed_through), False)
        note = pc.binary_join_element_wise(
            " (period ", period_in, f" is closed; posted to {moved_day:%Y-%m})", ""
        )
        note = pc.if_else(moved, note, pa.scalar(None, pa.string()))
        default = pc.binary_join_element_wise(default, pc.fill_null(note, ""), "")
        dates = pc.if_else(moved, pa.scalar(moved_day, pa.date32()), dates)
    else:
        note = None
    net = _net_with_templates(con, b, inv, ln, dates, chain_names, note)
    con.execute("DROP TABLE parts")
    _tick("review+descs")
    j = con.sql(_JOURNAL.replace("$rounding", str(b.rounding_code))).to_arrow_table()
    _tick("journal query")
    j, line_no = _in_entry_order(j)
    _tick("entry order")
    jrow = j["inv_row"].to_numpy()
    con.execute("DROP VIEW net_t; DROP TABLE net_legs; DROP TABLE tax_legs")

    con.register(
        "inv_ids",
        pa.table({"inv_row": pa.array(np.arange(n_inv, dtype=np.int32)), "id": inv["invoice_id"]}),
    )
    entry_ids = con.sql(
        "SELECT 'INV-' || substr(sha256(id), 1, 16) AS e FROM inv_ids ORDER BY inv_row"
    ).to_arrow_table()
    entry_ids = entry_ids.column(0).combine_chunks()
    _tick("entry ids")
    st = con.sql("SELECT rate6 FROM st ORDER BY inv_row").to_arrow_table()
    rate6 = pc.take(st["rate6"].cast(RATE), pa.array(jrow))
    per_values, per_idx = Frame._encode(pc.strftime(dates, "%Y-%m"))
    sup_values, sup_idx = Frame._encode(inv["supplier_id"])
    sup_idx = np.where(sup_idx >= len(sup_values), -1, sup_idx)
    tmpl = j["tmpl"].to_numpy()
    desc_dict = pa.concat_arrays([_array(default), _array(net["texts"])])
    desc_codes = np.where(tmpl >= 0, tmpl + n_inv, jrow)
    zeros = np.zeros(len(jrow), dtype=np.int32)
    _tick("journal sql")
    journal = pa.Table.from_arrays(
        [
            _dict(jrow, entry_ids),
            pa.array(line_no),
            pc.take(dates, pa.array(jrow)),
            _dict(per_idx[jrow], per_values),
            _dict(j["acct"].to_numpy(), b.accounts.values),
            j["amount"],
            _dict(np.where(cur[jrow] >= 0, cur[jrow], -1), cur_values),
            j["amount_txn"],
            rate6,
            _dict(j["cc"].to_numpy(), b.dims.values),
            _dict(sup_idx[jrow], sup_values),
            _dict(zeros, ["invoice"]),
            _dict(jrow, inv["invoice_id"].combine_chunks()),
            _dict(j["chain"].to_numpy(), names),
            _dict(zeros, [b.rules.content_hash]),
            _dict(desc_codes, desc_dict),
            _dict(zeros, [run_id]),
            _dict(j["project"].to_numpy(), b.dims.values),
        ],
        schema=ENGINE_JOURNAL,
    )
    posted_rows = con.sql("SELECT inv_row FROM st WHERE kind IS NULL ORDER BY inv_row")
    posted_rows = posted_rows.to_arrow_table().column(0)
    posted_ids = pc.take(inv["invoice_id"], posted_rows).combine_chunks()
    _tick("assembly")
    if not explain:
        return PostingResult(journal, review, posted_ids)
    matched = pa.Table.from_arrays(
        [
            _dict(pl_row, inv["invoice_id"].combine_chunks()),
            pl["line_no"],
            description,
            pl["amount"],
            pl["tax_rate"],
            _dict(chain, chain_names),
            _dict(pl_acct, b.accounts.values),
        ],
        schema=MATCHED_LINES,
    )
    key = (pl_row.astype(np.int64) << 31) | pc.fill_null(pl["line_no"], 0).to_numpy().astype(
        np.int64
    )
    matched = matched.take(pa.array(np.argsort(key, kind="stable")))
    return PostingResult(journal, review, posted_ids, matched)


def _in_entry_order(j: pa.Table) -> tuple[pa.Table, np.ndarray]:
    """The journal rows sorted by invoice, then net, tax, rounding and AP lines (each in
    line / rate order), and their line numbers; one integer sort, no per-row Python."""
    inv_row = j["inv_row"].to_numpy().astype(np.int64)
    grp = j["grp"].to_numpy().astype(np.int64)
    ordk = j["ordk"].to_numpy().astype(np.int64)
    if len(ordk) and (ordk.max() >= 1 << 26 or ordk.min() < 0):
        order = np.lexsort((ordk, grp, inv_row))
    else:
        order = np.argsort((inv_row << 29) | (grp << 26) | ordk, kind="stable")
    rows = inv_row[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]) if len(rows) else rows
    first = np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    line_no = (np.arange(len(rows)) - first + 1).astype(np.int32)
    keep = ["inv_row", "acct", "cc", "project", "chain", "tmpl", "amount", "amount_txn"]
    return j.select(keep).take(pa.array(order)), line_no


def _net_with_templates(
    con: duckdb.DuckDBPyConnection,
    b: _Batch,
    inv: pa.Table,
    ln: pa.Table,
    dates: pa.ChunkedArray,
    chain_names: list[str],
    note: pa.ChunkedArray | None,
) -> dict:
    """The net legs with `tmpl`: the index of the leg's own description in `texts` (the
    rendered templates), or -1 for the invoice's default description."""
    with_tmpl = [i for i, r in enumerate(b.ordered) if r.then.description is not None]
    if not with_tmpl:
        con.execute("CREATE TEMP VIEW net_t AS SELECT *, -1 AS tmpl FROM net_legs")
        return {"texts": pa.array([], pa.string())}
    con.register(
        "ln_desc2",
        pa.table(
            {
                "src": pa.array(np.arange(ln.num_rows, dtype=np.int32)),
                "description": ln["description"],
            }
        ),
    )
    tm = con.sql(
        """
        SELECT n.inv_row, n.ord, n.acct, n.cc, n.project, n.chain, n.desc_rule,
               string_agg(d.description, '; ' ORDER BY p.line_no, p.split_no) AS description
        FROM net_legs n
        JOIN parts p ON p.inv_row = n.inv_row AND p.acct = n.acct AND p.cc = n.cc
             AND p.project = n.project AND p.chain = n.chain AND p.desc_rule = n.desc_rule
        LEFT JOIN ln_desc2 d ON d.src = p.src
        WHERE n.desc_rule >= 0
        GROUP BY ALL
        ORDER BY n.inv_row, n.ord
        """
    ).to_arrow_table()
    con.register(
        "tm_idx",
        pa.table(
            {
                "inv_row": tm["inv_row"],
                "ord": tm["ord"],
                "k": pa.array(np.arange(tm.num_rows, dtype=np.int32)),
            }
        ),
    )
    con.execute(
        "CREATE TEMP VIEW net_t AS SELECT n.*, coalesce(t.k, -1) AS tmpl FROM net_legs n "
        "LEFT JOIN tm_idx t USING (inv_row, ord)"
    )
    rows = pa.array(tm["inv_row"].to_numpy())

    def inv_col(name: str) -> pa.Array:
        return pc.take(inv[name], rows).cast(pa.string())

    acct = tm["acct"].to_numpy()
    fields = {
        "supplier_name": inv_col("supplier_name"),
        "supplier_id": inv_col("supplier_id"),
        "invoice_number": inv_col("invoice_number"),
        "invoice_date": pc.strftime(pc.take(inv["invoice_date"], rows), "%Y-%m-%d"),
        "period": pc.strftime(pc.take(dates, rows), "%Y-%m"),
        "currency": inv_col("currency"),
        "description": tm["description"].combine_chunks(),
        "account": _dict(acct, b.accounts.values).cast(pa.string()),
        "cost_center": _dict(tm["cc"].to_numpy(), b.dims.values).cast(pa.string()),
        "project": _dict(tm["project"].to_numpy(), b.dims.values).cast(pa.string()),
        "rule_id": _dict(tm["chain"].to_numpy(), chain_names).cast(pa.string()),
    }
    texts = pa.nulls(tm.num_rows, pa.string())
    desc_rule = tm["desc_rule"].to_numpy()
    for i in with_tmpl:  # one vectorised render per templated rule
        mask = desc_rule == i
        if not mask.any():
            continue
        parts = []
        for literal, name, _, _ in string.Formatter().parse(b.ordered[i].then.description):
            if literal:
                parts.append(pa.scalar(literal, pa.string()))
            if name is not None:
                parts.append(pc.fill_null(fields[name], ""))
        if not parts:
            parts = [pa.scalar("", pa.string())]
        text = pc.binary_join_element_wise(*parts, pa.array([""] * tm.num_rows, pa.string()), "")
        texts = pc.if_else(pa.array(mask), text, texts)
    if note is not None:
        texts = pc.binary_join_element_wise(texts, pc.fill_null(pc.take(note, rows), ""), "")
    return {"texts": texts}


def _review_rows(
    con: duckdb.DuckDBPyConnection, inv: pa.Table, b: _Batch, run_id: str
) -> list[dict]:
    rows = con.sql(
        """
        SELECT inv_row, kind, n_lines, n_unmatched, total_doc, diff, appr_limit, appr_rule,
               ROUND(total_doc * rate, 2) AS total_functional,
               no_date, no_currency, no_subtotal, no_total
        FROM st WHERE kind IS NOT NULL ORDER BY inv_row
        """
    ).to_arrow_table()
    if rows.num_rows == 0:
        return []
    which = rows["inv_row"]
    head = inv.select(
        ["invoice_id", "source_uri", "supplier_name", "invoice_number", "currency", "invoice_date"]
    ).take(which)
    partial = con.sql(
        "SELECT inv_row, list(line_no ORDER BY line_no) AS nos FROM pl "
        "WHERE acct_rule < 0 AND inv_row IN (SELECT inv_row FROM st WHERE kind = 'rule' "
        "AND n_unmatched < n_lines) GROUP BY inv_row"
    ).to_arrow_table()
    unmatched = dict(zip(partial["inv_row"].to_pylist(), partial["nos"].to_pylist(), strict=True))
    unknown = con.sql(
        "SELECT inv_row, list(DISTINCT rate ORDER BY rate) AS rates FROM tax_legs "
        "WHERE acct IS NULL AND inv_row IN (SELECT inv_row FROM st WHERE kind = 'tax') "
        "GROUP BY inv_row"
    ).to_arrow_table()
    rates = dict(zip(unknown["inv_row"].to_pylist(), unknown["rates"].to_pylist(), strict=True))
    out = []
    for r, i in zip(rows.to_pylist(), head.to_pylist(), strict=True):  # the review queue only
        kind, details = r["kind"], {}
        if kind == "rule":
            if r["inv_row"] in unmatched:
                nums = ", ".join(str(n) for n in unmatched[r["inv_row"]])
                text = f"no posting rule matches line {nums}"
            else:
                text = "no posting rule matches this supplier"
            top = b.suggester.top.get(r["inv_row"]) if b.suggester is not None else None
            if top:
                details["suggestions"] = top
                text += (
                    " (suggested: "
                    + ", ".join(f"{s['account']} {s['confidence']:.0%}" for s in top)
                    + ")"
                )
        elif kind == "missing":
            flags = ("no_date", "no_currency", "no_subtotal", "no_total")
            names = ("invoice_date", "currency", "subtotal", "total")
            text = "cannot post without " + ", ".join(
                n for f, n in zip(flags, names, strict=True) if r[f]
            )
        elif kind == "fx":
            text = (
                f"no {b.functional} rate for {i['currency']} on {i['invoice_date']}: "
                "add it to fx_rates.csv"
            )
        elif kind == "tax":
            text = "no tax code for VAT rate " + ", ".join(_pct(x) for x in rates[r["inv_row"]])
        elif kind == "total":
            text = (
                f"total {r['total_doc']:.2f} differs from net + tax by {r['diff']:.2f}, "
                "more than rounding: check the amounts"
            )
        elif kind == "split":
            text = "the fixed split amounts are more than the line: check the rule's splits"
        else:
            rule = b.ordered[r["appr_rule"]].id if r["appr_rule"] is not None else "?"
            if r["appr_limit"] is None:
                text = f"needs approval: rule {rule} never posts on its own"
            else:
                text = (
                    f"needs approval: total {r['total_functional']:.2f} is above "
                    f"{r['appr_limit']:.2f} (rule {rule})"
                )
        out.append(
            review_item(
                "invoice",
                i["invoice_id"],
                text,
                run_id,
                file=i["source_uri"],
                supplier=i["supplier_name"],
                invoice_number=i["invoice_number"],
                **details,
            )
        )
    out.sort(key=lambda x: x["item_id"])
    return out
