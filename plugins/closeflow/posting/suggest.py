"""Learned suggestions: the account for invoice lines no rule covers, from history.

A classifier (scikit-learn, multinomial naive Bayes over hashed tokens) is trained on
previously approved postings: one sample per invoice line of an entry whose net lines
all went to one account, with the supplier, the line's description words and its amount
band (powers of ten, compared as decimals) as features, the account as label. Lines that
suggestions posted themselves are not history: only rules' and people's postings teach.

Above the configured confidence a suggestion posts, marked `rule_id =
suggested:<model version>`; below it the invoice waits in review with the top three
suggestions. `holdout_accuracy` reports how often suggestions were right on held-back
history. The confidence is a probability (a float), never money.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from closeflow.posting.rules import Condition, Rule, Then

BANDS = tuple(Decimal(10) ** k for k in range(1, 7))  # 10, 100, ... 1,000,000
HISTORY = pa.schema(
    [
        ("supplier_id", pa.string()),
        ("description", pa.string()),
        ("amount", pa.decimal128(18, 2)),
        ("account", pa.string()),
    ]
)


def features(supplier_id: pa.Array, description: pa.Array, amount: pa.Array) -> list[str]:
    """One token text per line: supplier, description words, amount band."""
    amount = pc.abs(amount.cast(pa.decimal128(18, 2)))
    band = pa.array(np.zeros(len(amount), dtype=np.int64))
    for edge in BANDS:
        ge = pc.fill_null(pc.greater_equal(amount, pa.scalar(edge, amount.type)), False)
        band = pc.add(band, pc.cast(ge, pa.int64()))
    text = pc.binary_join_element_wise(
        pc.binary_join_element_wise("sup=", pc.fill_null(supplier_id.cast(pa.string()), "?"), ""),
        pc.utf8_lower(pc.fill_null(description.cast(pa.string()), "")),
        pc.binary_join_element_wise("band=", band.cast(pa.string()), ""),
        " ",
    )
    return text.to_pylist()


class Suggester:
    """A trained model and what it needs to post or suggest."""

    def __init__(self, model, vectorizer, version: str, threshold: float) -> None:
        self.model, self.vectorizer = model, vectorizer
        self.version, self.threshold = version, threshold
        self.accounts = [str(c) for c in model.classes_]
        self.top: dict[int, list[dict]] = {}  # invoice row -> top three, for review

    @classmethod
    def train(cls, history: pa.Table, threshold: float = 0.9) -> Suggester | None:
        """A model from approved postings (HISTORY columns); None with under two accounts."""
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.naive_bayes import MultinomialNB

        history = history.select(HISTORY.names).cast(HISTORY)
        history = history.filter(pc.is_valid(history["account"]))
        if len(set(history["account"].to_pylist())) < 2:
            return None
        vec = HashingVectorizer(
            n_features=2**18, alternate_sign=False, token_pattern=r"[^\s;,.:()]+", norm=None
        )
        texts = features(history["supplier_id"], history["description"], history["amount"])
        labels = history["account"].to_pylist()
        model = MultinomialNB(alpha=0.05).fit(vec.transform(texts), labels)
        digest = hashlib.sha256()
        for t, y in zip(texts, labels, strict=True):
            digest.update(f"{t}\t{y}\n".encode())
        return cls(model, vec, digest.hexdigest()[:12], threshold)

    def predict(self, supplier_id, description, amount) -> np.ndarray:
        """Class probabilities, one row per line (columns: self.accounts)."""
        texts = features(supplier_id, description, amount)
        return self.model.predict_proba(self.vectorizer.transform(texts))

    def pseudo_rules(self) -> list[Rule]:
        """One rule per account the model can suggest, so suggested lines post through
        the same entry building as rules (never matched as rules themselves)."""
        never = Condition(supplier_id=["\x00suggestions only"])
        return [
            Rule(id=f"suggested:{self.version}", when=never, then=Then(debit_account=a))
            for a in self.accounts
        ]

    def apply(self, taken: dict, lines: pa.Table, invoices: pa.Table, inv_row, n_rules: int):  # noqa: ANN201
        """Fill the lines no rule took: confident suggestions post (rule index
        n_rules + account), the rest keep -1 and their invoice's top three are kept."""
        open_ = np.flatnonzero(taken["account"] < 0)
        if len(open_) == 0:
            return taken
        rows = pa.array(open_)
        inv_of = inv_row[open_]
        proba = self.predict(
            pc.take(invoices["supplier_id"], pa.array(inv_of)),
            pc.take(lines["description"], rows),
            pc.take(lines["amount"], rows),
        )
        best = proba.argmax(axis=1)
        conf = proba[np.arange(len(open_)), best]
        sure = conf >= self.threshold
        for action in ("account", "final"):
            taken[action][open_[sure]] = n_rules + best[sure]
        order = np.argsort(-proba, axis=1)[:, :3]
        unsure = np.flatnonzero(~sure)
        first_of_invoice = {}
        for k in unsure.tolist():  # the review queue's lines only
            first_of_invoice.setdefault(int(inv_of[k]), k)
        for inv, k in first_of_invoice.items():
            self.top[inv] = [
                {"account": self.accounts[c], "confidence": round(float(proba[k, c]), 3)}
                for c in order[k]
            ]
        return taken


def holdout_accuracy(history: pa.Table, fraction: float = 0.2, threshold: float = 0.9) -> dict:
    """Train on the rest, test on a seeded `fraction` of the history: how often the top
    suggestion is the approved account, overall and above the threshold."""
    n = history.num_rows
    rng = np.random.default_rng(0)
    test = np.zeros(n, dtype=bool)
    test[rng.permutation(n)[: max(1, int(n * fraction))]] = True
    sug = Suggester.train(history.filter(pa.array(~test)), threshold)
    held = history.filter(pa.array(test))
    if sug is None or held.num_rows == 0:
        return {"held_back": held.num_rows, "accuracy": None}
    proba = sug.predict(held["supplier_id"], held["description"], held["amount"])
    best = proba.argmax(axis=1)
    conf = proba[np.arange(len(best)), best]
    guess = np.array(sug.accounts, dtype=object)[best]
    right = guess == np.array(held["account"].to_pylist(), dtype=object)
    sure = conf >= threshold
    return {
        "held_back": held.num_rows,
        "right": int(right.sum()),
        "accuracy": float(right.mean()),
        "auto_posted": int(sure.sum()),
        "auto_posted_right": int((right & sure).sum()),
        "wrong_postings": int((~right & sure).sum()),
        "model_version": sug.version,
    }


def history_from_ledger(rt, rules, before_run: str) -> pa.Table:
    """Approved postings in the warehouse as suggestion history: each line of an invoice
    whose net lines went to one account (not AP, tax or rounding), with that account;
    entries posted by suggestions are left out. A controller's correction
    (raw.posting_corrections) is approved too: the corrected lines of an invoice whose
    entry still has several accounts, or other lines from a suggestion, are history with
    the account they were corrected to. Only runs before `before_run` count, so
    re-running a night trains the same model and posts the same entries."""
    raw = rt.warehouse.schema
    skip = {rules.ap_account, rules.rounding_account, rt.company.company.ap_account}
    skip |= {t.account for t in rules.tax_codes.values()}
    names = ", ".join(f":s{n}" for n in range(len(skip)))
    params = {f"s{n}": a for n, a in enumerate(sorted(skip))} | {"before": before_run}
    got = rt.warehouse.query(
        f"""
        WITH net AS (
            SELECT source_id, min(account) AS account
            FROM {raw}.journal_lines
            WHERE source_type = 'invoice' AND account NOT IN ({names})
              AND run_id LIKE 'post:%' AND run_id < :before
            GROUP BY source_id
            HAVING count(DISTINCT account) = 1
               AND count(*) FILTER (WHERE rule_id LIKE 'suggested:%') = 0
        )
        , corrected AS (
            SELECT invoice_id, line_no, to_account FROM (
                SELECT invoice_id, line_no, to_account, row_number() OVER (
                    PARTITION BY invoice_id, line_no
                    ORDER BY corrected_at DESC, correction_id DESC) AS k
                FROM {raw}.posting_corrections WHERE posting_run_id < :before
            ) c WHERE k = 1 AND invoice_id NOT IN (SELECT source_id FROM net)
        )
        SELECT * FROM (
            SELECT i.supplier_id, l.description, l.amount, net.account,
                   net.source_id AS src, l.line_no
            FROM net JOIN {raw}.invoices i ON i.invoice_id = net.source_id
            JOIN {raw}.invoice_lines l ON l.invoice_id = net.source_id
            UNION ALL
            SELECT i.supplier_id, l.description, l.amount, c.to_account, c.invoice_id,
                   l.line_no
            FROM corrected c JOIN {raw}.invoices i ON i.invoice_id = c.invoice_id
            JOIN {raw}.invoice_lines l ON l.invoice_id = c.invoice_id
                AND (c.line_no = 0 OR l.line_no = c.line_no)
        ) h
        ORDER BY src, line_no
        """,
        params,
    )
    if got.num_rows == 0:
        return HISTORY.empty_table()
    return got.select(HISTORY.names).cast(HISTORY)
