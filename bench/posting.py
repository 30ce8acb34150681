"""Benchmark: the posting engine on 1,000,000 invoices (3,000,000 lines) and 200 rules.

Generates the batch deterministically (seeded numpy; EUR and CNY, credit notes, 7 % and
19 % lines, 2,000 suppliers of which 2 % have no rule) into Parquet, then, each in a
fresh process so the peak memory is the step's own:

- the engine: `post_parquet` from the Parquet files to Parquet files, as `closeflow post`
  runs it (rule matching, splits, tax lines, FX, balanced entries, review reasons), a
  chunk of invoices at a time, each chunk's journal written as soon as it is made; here
  also the per-line accounts (for the comparison below);
- the baseline: a hand-written DuckDB SQL join that assigns the same accounts (a CASE
  over the description / tax-rate rules, then a join to the supplier -> account map).

Prints the seconds and the peak resident memory (getrusage) of each, the ratio, whether
both assigned the same account to every line, and an md5 over all journal lines, which
for the seeded 100,000 and 1,000,000 invoice batches must equal the recorded reference
(the journal as the engine made it before it streamed). Never fails: it prints.

    python bench/posting.py [--invoices 1000000] [--rules 200] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

LINES_PER_INVOICE = 3
SUPPLIERS = 2000
UNCOVERED = 40  # suppliers without a rule: their invoices go to review
WORDS = [
    "cloud server",
    "backup storage",
    "hotel night",
    "flight",
    "taxi",
    "train ticket",
    "licence pro",
    "license seats",
    "consulting day",
    "audit fee",
    "legal advice",
    "printer paper",
    "toner",
    "office chairs",
    "desk lamp",
    "coffee beans",
    "cleaning",
    "window cleaning",
    "electricity",
    "water",
    "gas",
    "internet fibre",
    "mobile plan",
    "ads campaign",
    "trade fair booth",
    "flyers",
    "courier",
    "freight",
    "postage",
    "training workshop",
    "online course",
    "conference ticket",
    "domain renewal",
    "ssl certificate",
    "cdn traffic",
    "support hours",
    "maintenance",
    "spare parts",
]
KEYWORD_RULES = [  # (keyword, account): description keyword rules, priority 20..
    ("hotel", "6400"),
    ("flight", "6400"),
    ("taxi", "6400"),
    ("train ticket", "6400"),
    ("audit", "6500"),
    ("legal", "6500"),
    ("toner", "6300"),
    ("paper", "6300"),
    ("coffee", "6300"),
    ("electricity", "6700"),
    ("water", "6700"),
    ("gas", "6700"),
    ("fibre", "6600"),
    ("mobile", "6600"),
    ("flyers", "6800"),
    ("trade fair", "6800"),
    ("courier", "6350"),
    ("freight", "6350"),
    ("postage", "6350"),
    ("workshop", "6450"),
]
REGEX_RULES = [  # (RE2 pattern, account), case-insensitive, priority 40..
    (r"^licen[cs]e", "6200"),
    (r"\bssl\b", "6200"),
    (r"^domain", "6200"),
    (r"course$", "6450"),
    (r"conference", "6450"),
    (r"^window", "6110"),
    (r"^cleaning", "6110"),
    (r"spare", "6300"),
    (r"chairs?$", "6300"),
    (r"lamp", "6300"),
]
EXPENSE = ["6100", "6110", "6200", "6300", "6350", "6400", "6450", "6500", "6600", "6700"]


def supplier_ids() -> list[str]:
    return [f"SUP-{n:05d}" for n in range(SUPPLIERS)]


def rules_yaml(n_rules: int) -> tuple[str, dict[str, str], list[tuple]]:
    """The rules file, the supplier -> account map and the reduced-rate rules, so the
    baseline SQL can be written against the same facts."""
    head = [
        "version: 1",
        'ap_account: "2000"',
        'rounding_account: "8999"',
        "tax_codes:",
        '  DE19: {rate: "0.19", account: "1400"}',
        '  DE7: {rate: "0.07", account: "1400"}',
        '  CN13: {rate: "0.13", account: "1401"}',
        "rules:",
    ]
    body = []
    for n in range(10):  # continue rules: dimensions only, never the account
        body += [
            f"  - id: cc-buyer-{n}",
            "    priority: 1",
            "    continue: true",
            f'    when: {{buyer_tax_id: "BUYER-{n}"}}',
            f'    then: {{cost_center: "CC{n}"}}',
        ]
    for n, (word, acct) in enumerate(KEYWORD_RULES):
        body += [
            f"  - id: kw-{n:02d}",
            f"    priority: {20 + n}",
            f"    when: {{description_keywords: [{json.dumps(word)}]}}",
            f'    then: {{debit_account: "{acct}"}}',
        ]
    for n, (pattern, acct) in enumerate(REGEX_RULES):
        body += [
            f"  - id: re-{n:02d}",
            f"    priority: {40 + n}",
            f"    when: {{description_regex: {json.dumps(pattern)}}}",
            f'    then: {{debit_account: "{acct}"}}',
        ]
    reduced = []
    sups = supplier_ids()[: SUPPLIERS - UNCOVERED]
    for n in range(10):  # 7 % lines of some suppliers, above an amount, go to training
        ids = sups[n * 20 : n * 20 + 20]
        reduced.append((ids, "6450"))
        body += [
            f"  - id: reduced-{n:02d}",
            f"    priority: {60 + n}",
            f'    when: {{tax_rate: "0.07", amount: {{min: "50.00"}}, currency: EUR, '
            f"supplier_id: {json.dumps(ids)}}}",
            '    then: {debit_account: "6450"}',
        ]
    n_sup_rules = n_rules - 10 - len(KEYWORD_RULES) - len(REGEX_RULES) - 10
    mapping = {}
    for n in range(n_sup_rules):  # the covered suppliers spread over exactly n_sup_rules
        ids = sups[n * len(sups) // n_sup_rules : (n + 1) * len(sups) // n_sup_rules]
        acct = EXPENSE[n % len(EXPENSE)]
        for s in ids:
            mapping[s] = acct
        if n % 29 == 0:  # a few split rules: 60/40 between two cost centers
            then = (
                f'{{splits: [{{account: "{acct}", percent: "60", cost_center: "A"}}, '
                f'{{account: "{acct}", percent: "40", cost_center: "B"}}]}}'
            )
        else:
            then = f'{{debit_account: "{acct}"}}'
        body += [
            f"  - id: sup-{n:03d}",
            f"    priority: {100 + n}",
            f"    when: {{supplier_id: {json.dumps(ids)}}}",
            f"    then: {then}",
        ]
    return "\n".join(head + body) + "\n", mapping, reduced


def generate(folder: Path, n_invoices: int, n_rules: int, seed: int = 7) -> dict:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from closeflow.posting.engine import as_table
    from closeflow.schemas import INVOICE_LINES, INVOICES

    rng = np.random.default_rng(seed)
    n_lines = n_invoices * LINES_PER_INVOICE
    sups = np.array(supplier_ids())
    sup_idx = rng.integers(0, SUPPLIERS, n_invoices)
    cny = sup_idx % 10 == 3  # a tenth of the suppliers bill in CNY
    credit = rng.random(n_invoices) < 0.02
    days = rng.integers(0, 90, n_invoices)
    dates = (np.datetime64("2026-01-01") + days).astype("datetime64[D]")
    ids = [hashlib.sha256(f"bench-{seed}-{i}".encode()).hexdigest() for i in range(n_invoices)]
    ids.sort()
    inv_ids = pa.array(ids, pa.string())

    cents = rng.integers(100, 500_000, n_lines)  # 1.00 .. 5,000.00 a line
    rate_pct = np.where(rng.random(n_lines) < 0.15, 7, 19)
    rate_pct = np.where(np.repeat(cny, LINES_PER_INVOICE), 13, rate_pct)
    tax_cents = (cents * rate_pct + 50) // 100  # half up, exact integers
    desc_idx = rng.integers(0, len(WORDS), n_lines)
    words = pa.array(WORDS + [w.title() + " Q1" for w in WORDS], pa.string())
    desc_idx = np.where(rng.random(n_lines) < 0.5, desc_idx, desc_idx + len(WORDS))

    def money(c):
        return pa.array(c, pa.int64()).cast(pa.decimal128(19, 0))

    def scaled(c):  # integer cents -> decimal128(18, 2), exactly
        import pyarrow.compute as pc

        d = pc.multiply(money(c), pa.scalar(Decimal("0.01"), pa.decimal128(3, 2)))
        return d.cast(pa.decimal128(18, 2))

    sub = cents.reshape(n_invoices, LINES_PER_INVOICE).sum(axis=1)
    tax = tax_cents.reshape(n_invoices, LINES_PER_INVOICE).sum(axis=1)
    invoices = pa.table(
        {
            "invoice_id": inv_ids,
            "supplier_id": pa.array(sups[sup_idx]),
            "supplier_name": pa.array(np.char.add("Supplier ", sups[sup_idx])),
            "supplier_tax_id": pa.array(np.char.add("TAX-", sups[sup_idx])),
            "buyer_name": pa.array(np.full(n_invoices, "Closeflow Demo GmbH")),
            "buyer_tax_id": pa.array(np.char.add("BUYER-", (sup_idx % 13).astype(str))),
            "invoice_number": pa.array(np.char.add("N-", np.arange(n_invoices).astype(str))),
            "invoice_date": pa.array(dates, pa.date32()),
            "currency": pa.array(np.where(cny, "CNY", "EUR")),
            "subtotal": scaled(sub),
            "tax_amount": scaled(tax),
            "total": scaled(sub + tax),
            "document_type": pa.array(np.where(credit, "credit_note", "invoice")),
            "status": pa.array(np.full(n_invoices, "extracted")),
        }
    )
    invoices = as_table(invoices, INVOICES)
    lines = pa.table(
        {
            "invoice_id": pa.array(np.repeat(np.array(ids, dtype=object), LINES_PER_INVOICE)),
            "line_no": pa.array(np.tile(np.arange(1, LINES_PER_INVOICE + 1), n_invoices)),
            "description": words.take(pa.array(desc_idx)),
            "amount": scaled(cents),
            "tax_rate": pa.array(
                [Decimal(r) / 100 for r in (7, 13, 19)], pa.decimal128(18, 6)
            ).take(pa.array(np.searchsorted([7, 13, 19], rate_pct))),
            "tax_amount": scaled(tax_cents),
        }
    )
    lines = as_table(lines, INVOICE_LINES)
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(invoices, folder / "invoices.parquet")
    pq.write_table(lines, folder / "invoice_lines.parquet")
    text, mapping, reduced = rules_yaml(n_rules)
    (folder / "rules.yml").write_text(text)
    start = dt.date(2025, 12, 20)
    fx = ["date,currency,rate"] + [
        f"{start + dt.timedelta(days=d)},CNY,{Decimal('0.128') + Decimal(d % 17) / 10**5:.6f}"
        for d in range(120)
    ]
    (folder / "fx_rates.csv").write_text("\n".join(fx) + "\n")
    (folder / "facts.json").write_text(json.dumps({"mapping": mapping, "reduced": reduced}))
    return {"invoices": n_invoices, "lines": n_lines}


# the journal's hash (journal_hash) for the seeded batches, as posted before the engine
# wrote its output a chunk at a time: a change to the engine must not change a line
REFERENCE_JOURNAL = {
    100_000: (513_009, "39529dc2fabec0603df66be233ff8535"),
    1_000_000: (5_126_561, "bd4e9e0739b4c66cf12a248b7f6dbed8"),
}
HASHED = (
    "entry_id line_no entry_date period account amount currency amount_txn fx_rate "
    "cost_center supplier_id source_type source_id rule_id rule_version description run_id "
    "project"
).split()


def journal_hash(con, relation: str) -> tuple[int, str]:
    """Row count and an md5 over every journal line (the columns HASHED, in entry and line
    order), so two runs can be compared line for line without holding both."""
    cols = ", ".join(f"coalesce(CAST({c} AS VARCHAR), '\\N')" for c in HASHED)
    [(n, digest)] = con.execute(
        f"SELECT count(*), md5(string_agg(md5(concat_ws('|', {cols})), '' "
        f"ORDER BY entry_id, line_no)) FROM {relation}"
    ).fetchall()
    return n, digest


def run_engine(folder: Path) -> dict:
    """`closeflow post`'s work: post_parquet reads the Parquet a chunk of invoices at a
    time and writes the journal as it goes (and, here, the per-line accounts, for the
    comparison with the baseline)."""
    from closeflow.config import FxRates
    from closeflow.posting import load_rules
    from closeflow.posting.engine import post_parquet

    t0 = time.perf_counter()
    rules = load_rules(folder / "rules.yml")
    fx = FxRates.load(folder / "fx_rates.csv")
    counts = post_parquet(
        folder / "invoices.parquet",
        folder / "invoice_lines.parquet",
        rules,
        fx,
        "EUR",
        "post:bench",
        folder / "journal_lines.parquet",
        folder / "review_queue.parquet",
        explain_path=folder / "explain.parquet",
    )
    t1 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the checks
    import duckdb

    con = duckdb.connect()
    journal = f"read_parquet('{folder / 'journal_lines.parquet'}')"
    unbalanced = con.execute(
        f"SELECT count(*) FROM (SELECT entry_id FROM {journal} GROUP BY entry_id "
        f"HAVING sum(amount) <> 0)"
    ).fetchall()[0][0]
    n_hashed, digest = journal_hash(con, journal)
    con.execute(
        f"COPY (SELECT invoice_id, line_no, account FROM '{folder / 'explain.parquet'}' "
        f"ORDER BY invoice_id, line_no) TO '{folder / 'engine.parquet'}'"
    )
    return {
        "post_s": t1 - t0,
        "invoices": counts.invoices,
        "journal_lines": counts.journal_lines,
        "entries": counts.posted,
        "review": counts.review,
        "unbalanced": unbalanced,
        "rules": len(rules.rules),
        "maxrss_mib": peak,
        "journal_hash": [n_hashed, digest],
    }


def run_baseline(folder: Path) -> dict:
    """Hand-written SQL: the description and reduced-rate rules as one CASE in priority
    order, then the supplier -> account map as a join."""
    import duckdb
    import pyarrow as pa

    facts = json.loads((folder / "facts.json").read_text())
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.register(
        "supplier_map",
        pa.table(
            {
                "supplier_id": list(facts["mapping"]),
                "account": list(facts["mapping"].values()),
            }
        ),
    )
    kw = " ".join(
        f"WHEN contains(lower(l.description), '{w}') THEN '{a}'" for w, a in KEYWORD_RULES
    )
    rx = " ".join(
        f"WHEN regexp_matches(l.description, '{p}', 'i') THEN '{a}'" for p, a in REGEX_RULES
    )
    red = " ".join(
        f"WHEN l.tax_rate = 0.07 AND l.amount >= 50 AND i.currency = 'EUR' "
        f"AND i.supplier_id IN ({', '.join(repr(s) for s in ids)}) THEN '{a}'"
        for ids, a in facts["reduced"]
    )
    sql = f"""
        SELECT l.invoice_id, l.line_no,
               CASE {kw} {rx} {red} ELSE m.account END AS account
        FROM read_parquet('{folder / "invoice_lines.parquet"}') l
        JOIN read_parquet('{folder / "invoices.parquet"}') i USING (invoice_id)
        LEFT JOIN supplier_map m ON m.supplier_id = i.supplier_id
    """
    got = con.sql(sql).to_arrow_table()
    t1 = time.perf_counter()
    con.register("b", got)
    con.execute(
        f"COPY (SELECT * FROM b ORDER BY invoice_id, line_no) TO '{folder / 'baseline.parquet'}'"
    )
    return {
        "assign_s": t1 - t0,
        "lines": got.num_rows,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _child(step: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", step, "--keep", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        return {}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--invoices", type=int, default=1_000_000)
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--keep", help="folder for the generated batch (default: a temp dir)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = run_engine if args.child == "engine" else run_baseline
        print(json.dumps(fn(Path(args.keep))))
        return
    tmp = None
    if args.keep:
        folder = Path(args.keep)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="closeflow-bench-")
        folder = Path(tmp.name)
    t = time.perf_counter()
    size = generate(folder, args.invoices, args.rules)
    print(
        f"generated {size['invoices']:,} invoices, {size['lines']:,} lines, "
        f"{args.rules} rules in {time.perf_counter() - t:.1f} s"
    )
    eng = _child("engine", folder)
    base = _child("baseline", folder)
    if eng:
        print(
            f"engine:   {eng['post_s']:.2f} s to post (Parquet in, Parquet out, included), "
            f"peak {eng['maxrss_mib']:,.0f} MiB (process, inputs included); "
            f"{eng['entries']:,} entries, "
            f"{eng['journal_lines']:,} journal lines, {eng['review']:,} to review, "
            f"{eng['unbalanced']} unbalanced"
        )
        n_hashed, digest = eng["journal_hash"]
        ref = REFERENCE_JOURNAL.get(args.invoices) if args.rules == 200 else None
        verdict = (
            "no reference for this size"
            if ref is None
            else "identical to the reference"
            if tuple(ref) == (n_hashed, digest)
            else f"DIFFERENT from the reference {ref[1]} ({ref[0]:,} lines)"
        )
        print(f"journal:  {n_hashed:,} lines, md5 {digest}: {verdict}")
    if base:
        print(
            f"baseline: {base['assign_s']:.2f} s (hand-written DuckDB SQL join, accounts only, "
            f"reading Parquet included), peak {base['maxrss_mib']:,.0f} MiB"
        )
    if eng and base:
        import duckdb

        con = duckdb.connect()
        [(same, total)] = con.execute(
            f"SELECT count(*) FILTER (WHERE e.account IS NOT DISTINCT FROM b.account), count(*) "
            f"FROM '{folder / 'engine.parquet'}' e JOIN '{folder / 'baseline.parquet'}' b "
            f"USING (invoice_id, line_no)"
        ).fetchall()
        print(f"same account on {same:,} of {total:,} lines")
        print(
            f"ratio engine / baseline: {eng['post_s'] / base['assign_s']:.2f} "
            f"(target: <= 20 s and <= 2,048 MiB on 2 cores)"
        )
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
