"""Vectorised rule matching: every rule's condition as one boolean column over the batch.

Rules are tried in priority order over the whole batch of posting lines at once. A
running mask keeps the lines no ending rule has taken yet; each action field (account,
cost center, ...) is taken by the first matching rule that sets it.

String conditions are evaluated on the column's dictionary (its distinct values) and
spread to the rows by index, so a regex runs once per distinct description, not once per
line, and invoice-level columns are encoded per invoice, not per line. Consecutive rules
that test one and the same column (the common "supplier -> account" list) are resolved
together: per distinct value, the first rule of the run that matches it, then one gather
over the rows for the whole run. No Python loop runs per row.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.posting.rules import Condition, Range, Rule

# the action fields a rule can set, each taken by the first matching rule that sets it
ACTIONS = ("account", "cost_center", "project", "tax_code", "ap_account", "approval", "desc")
# condition field -> the column it reads
_COLUMN_OF = {
    "supplier_id": "supplier_id",
    "supplier_name_regex": "supplier_name",
    "supplier_tax_id": "supplier_tax_id",
    "description_keywords": "description",
    "description_regex": "description",
    "amount": "amount",
    "total": "total",
    "currency": "currency",
    "tax_rate": "tax_rate",
    "document_type": "document_type",
    "buyer_tax_id": "buyer_tax_id",
    "buyer_name_regex": "buyer_name",
}
_CATEGORICAL = {
    "supplier_id",
    "supplier_name",
    "supplier_tax_id",
    "description",
    "currency",
    "tax_rate",
    "document_type",
    "buyer_tax_id",
    "buyer_name",
}


def sets(rule: Rule) -> set[str]:
    t = rule.then
    out = set()
    if t.sets_account():
        out.add("account")
    for name, value in (
        ("cost_center", t.cost_center),
        ("project", t.project),
        ("tax_code", t.tax_code),
        ("ap_account", t.ap_account),
        ("desc", t.description),
    ):
        if value is not None:
            out.add(name)
    if t.approval_above is not None or not t.auto_post:
        out.add("approval")
    return out


def columns_of(cond: Condition) -> set[str] | None:
    """The columns a condition reads; None if it depends on the matching state."""
    if cond.has_cost_center is not None:
        return None
    cols = {_COLUMN_OF[k] for k in _COLUMN_OF if getattr(cond, k) is not None}
    subs = [*(cond.all or []), *(cond.any or []), *([cond.not_] if cond.not_ else [])]
    for sub in subs:
        got = columns_of(sub)
        if got is None:
            return None
        cols |= got
    return cols


class Frame:
    """The posting lines being matched. Invoice-level columns live in `invoices` and are
    reached through `inv_row` (each line's row in it), so they are encoded once per
    invoice."""

    def __init__(
        self, lines: pa.Table, invoices: pa.Table | None = None, inv_row: np.ndarray | None = None
    ) -> None:
        self.lines, self.invoices, self.inv_row = lines, invoices, inv_row
        self.n = lines.num_rows
        self._codes: dict[str, tuple[pa.Array, np.ndarray]] = {}
        self._cache: dict[tuple, np.ndarray] = {}
        self.cost_center_given = self._not_null("cost_center")
        self.cost_center_set = np.zeros(self.n, dtype=bool)  # by a rule so far

    def _not_null(self, col: str) -> np.ndarray:
        if col not in self.lines.column_names:
            return np.zeros(self.n, dtype=bool)
        return pc.is_valid(self.lines[col]).to_numpy(zero_copy_only=False)

    @staticmethod
    def _encode(arr: pa.ChunkedArray | pa.Array) -> tuple[pa.Array, np.ndarray]:
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks else pa.array([], arr.type)
        enc = arr if pa.types.is_dictionary(arr.type) else pc.dictionary_encode(arr)
        idx = enc.indices.fill_null(len(enc.dictionary)).to_numpy(zero_copy_only=False)
        return enc.dictionary, idx.astype(np.int32, copy=False)

    def codes(self, col: str) -> tuple[pa.Array, np.ndarray]:
        """The distinct values of a column and each row's index into them (nulls point
        one past the end)."""
        if col not in self._codes:
            if col in self.lines.column_names:
                self._codes[col] = self._encode(self.lines[col])
            else:
                values, inv_idx = self._encode(self.invoices[col])
                self._codes[col] = (values, inv_idx[self.inv_row])
        return self._codes[col]

    def on_values(self, col: str, key: tuple, fn) -> np.ndarray:
        """Evaluate `fn` (Arrow array -> boolean Arrow array) on the distinct values."""
        k = (col,) + key
        values, idx = self.codes(col)
        if k not in self._cache:  # cached per distinct value, not per row
            hit = fn(values).fill_null(False).to_numpy(zero_copy_only=False)
            self._cache[k] = np.append(hit, False)
        return self._cache[k][idx]

    def compare(self, col: str, op: str, value: object) -> np.ndarray:
        k = (col, op, value)
        if k not in self._cache:
            on_lines = col in self.lines.column_names
            arr = self.lines[col] if on_lines else self.invoices[col]
            got = getattr(pc, op)(arr, pa.scalar(value, type=arr.type))
            got = got.fill_null(False).to_numpy(zero_copy_only=False)
            self._cache[k] = got if on_lines else got[self.inv_row]
        return self._cache[k]


def _isin(values: pa.Array, wanted: list) -> pa.Array:
    return pc.is_in(values, value_set=pa.array(wanted, type=values.type))


def _in_range(f: Frame, col: str, r: Range) -> np.ndarray:
    out = np.ones(f.n, dtype=bool)
    if r.min is not None:
        out &= f.compare(col, "greater_equal", r.min)
    if r.max is not None:
        out &= f.compare(col, "less_equal", r.max)
    return out


def evaluate(cond: Condition, f: Frame) -> np.ndarray:
    """The rows of `f` for which `cond` holds (a numpy bool array)."""
    out = np.ones(f.n, dtype=bool)
    for field_, col in (
        ("supplier_id", "supplier_id"),
        ("supplier_tax_id", "supplier_tax_id"),
        ("buyer_tax_id", "buyer_tax_id"),
        ("currency", "currency"),
    ):
        wanted = getattr(cond, field_)
        if wanted is not None:
            ids = tuple(wanted)
            out &= f.on_values(col, ("in", ids), lambda v, ids=ids: _isin(v, list(ids)))
    if cond.document_type is not None:
        d = cond.document_type
        out &= f.on_values("document_type", ("eq", d), lambda v: pc.equal(v, d))
    for col, pattern in (
        ("supplier_name", cond.supplier_name_regex),
        ("description", cond.description_regex),
        ("buyer_name", cond.buyer_name_regex),
    ):
        if pattern is not None:
            out &= f.on_values(
                col,
                ("re", pattern),
                lambda v, p=pattern: pc.match_substring_regex(v, pattern=p, ignore_case=True),
            )
    if cond.description_keywords is not None:
        words = tuple(cond.description_keywords)

        def any_word(v: pa.Array) -> pa.Array:
            hit = pc.match_substring(v, pattern=words[0], ignore_case=True)
            for w in words[1:]:
                hit = pc.or_kleene(hit, pc.match_substring(v, pattern=w, ignore_case=True))
            return hit

        out &= f.on_values("description", ("kw", words), any_word)
    if cond.amount is not None:
        out &= _in_range(f, "amount", cond.amount)
    if cond.total is not None:
        out &= _in_range(f, "total", cond.total)
    if cond.tax_rate is not None:
        rates = tuple(Decimal(r) for r in cond.tax_rate)
        out &= f.on_values("tax_rate", ("in", rates), lambda v: _isin(v, list(rates)))
    if cond.has_cost_center is not None:
        present = f.cost_center_given | f.cost_center_set
        out &= present if cond.has_cost_center else ~present
    for sub in cond.all or []:
        out &= evaluate(sub, f)
    if cond.any:
        either = np.zeros(f.n, dtype=bool)
        for sub in cond.any:
            either |= evaluate(sub, f)
        out &= either
    if cond.not_ is not None:
        out &= ~evaluate(cond.not_, f)
    return out


def _runs(rules: list[Rule]) -> list[tuple[str | None, list[int]]]:
    """Consecutive rules testing one and the same categorical column, grouped; others
    alone (column None)."""
    runs: list[tuple[str | None, list[int]]] = []
    for i, rule in enumerate(rules):
        cols = columns_of(rule.when)
        col = None
        if cols is not None and len(cols) == 1 and rule.valid_from is rule.valid_to is None:
            (col,) = cols
            col = col if col in _CATEGORICAL else None
        if col is not None and runs and runs[-1][0] == col:
            runs[-1][1].append(i)
        else:
            runs.append((col, [i]))
    return runs


def match_rules(
    rules: list[Rule],
    lines: pa.Table,
    invoices: pa.Table | None = None,
    inv_row: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """For each action field, the index (into `rules`) of the rule that set it, or -1;
    and "final", the rule that ended the search (-1: none did).

    `lines` holds one row per posting line (description, amount, tax_rate, cost_center);
    `invoices` the invoice-level columns the conditions read (supplier_id, supplier_name,
    supplier_tax_id, buyer_name, buyer_tax_id, currency, document_type, invoice_date,
    total), reached through `inv_row`. Without `invoices`, `lines` holds every column.
    """
    f = Frame(lines, invoices, inv_row)
    n = f.n
    taken = {a: np.full(n, -1, dtype=np.int32) for a in ACTIONS}
    final = np.full(n, -1, dtype=np.int32)
    open_ = np.ones(n, dtype=bool)
    rule_sets = [sets(r) for r in rules]
    for col, members in _runs(rules):
        if not open_.any():
            break
        if col is not None and len(members) > 1:
            _apply_run(f, rules, rule_sets, col, members, taken, final, open_)
            continue
        (i,) = members
        rule = rules[i]
        hit = evaluate(rule.when, f) & open_
        if rule.valid_from is not None:
            hit &= f.compare("invoice_date", "greater_equal", rule.valid_from)
        if rule.valid_to is not None:
            hit &= f.compare("invoice_date", "less_equal", rule.valid_to)
        if not hit.any():
            continue
        for action in rule_sets[i]:
            t = taken[action]
            t[hit & (t == -1)] = i
        if "cost_center" in rule_sets[i]:
            f.cost_center_set |= hit
        if not rule.continue_:
            final[hit] = i
            open_ &= ~hit
    return {**taken, "final": final}


def _apply_run(
    f: Frame,
    rules: list[Rule],
    rule_sets: list[set[str]],
    col: str,
    members: list[int],
    taken: dict[str, np.ndarray],
    final: np.ndarray,
    open_: np.ndarray,
) -> None:
    """Apply consecutive rules that all test `col`: decide per distinct value, then
    gather once per action over the rows."""
    values, idx = f.codes(col)
    sub = Frame(pa.table({col: values}))
    m = np.stack([evaluate(rules[i].when, sub) for i in members], axis=1)  # value x rule
    m = np.vstack([m, np.zeros((1, len(members)), dtype=bool)])  # the null value
    ends = np.array([not rules[i].continue_ for i in members])
    ending = m & ends[None, :]
    first_end = np.where(ending.any(axis=1), ending.argmax(axis=1), len(members))
    within = np.arange(len(members))[None, :] <= first_end[:, None]
    members_arr = np.array(members, dtype=np.int32)
    rows = open_.copy()
    for action in ACTIONS:
        setters = np.array([action in rule_sets[i] for i in members])
        if not setters.any():
            continue
        ma = m & setters[None, :] & within
        by_value = np.where(ma.any(axis=1), members_arr[ma.argmax(axis=1)], -1)
        got = by_value[idx]
        t = taken[action]
        sel = rows & (t == -1) & (got >= 0)
        t[sel] = got[sel]
        if action == "cost_center":
            f.cost_center_set |= rows & (got >= 0)
    safe = np.minimum(first_end, len(members) - 1)
    end_by_value = np.where(first_end < len(members), members_arr[safe], -1)
    got = end_by_value[idx]
    closing = rows & (got >= 0)
    final[closing] = got[closing]
    open_ &= ~closing


def rule_chains(taken: dict[str, np.ndarray], rules: list[Rule]) -> tuple[np.ndarray, list]:
    """Per row, a code for the rules that set any of its actions (in priority order,
    ids joined by '+'), and the names of the codes; -1 where no rule set the account."""
    n = len(taken["account"])
    if n == 0:
        return np.zeros(0, dtype=np.int32), []
    used = [a for a in ACTIONS if (taken[a] >= 0).any()]
    base = len(rules) + 1
    key = np.zeros(n, dtype=np.int64)
    for a in used:  # one integer per combination: base ** 7 < 2 ** 63 for 500 rules
        key = key * base + (taken[a].astype(np.int64) + 1)
    uniq, inverse = np.unique(key, return_inverse=True)
    names: list[str] = []
    code_of: dict[str, int] = {}
    remap = np.empty(len(uniq), dtype=np.int32)
    for k, value in enumerate(uniq.tolist()):  # one per distinct combination, not per row
        idx = []
        for _ in used:
            value, digit = divmod(value, base)
            if digit:
                idx.append(digit - 1)
        name = "+".join(rules[i].id for i in sorted(set(idx)))
        remap[k] = code_of.setdefault(name, len(names))
        if remap[k] == len(names):
            names.append(name)
    codes = remap[inverse.reshape(-1)]
    return np.where(taken["account"] >= 0, codes, -1).astype(np.int32), names
