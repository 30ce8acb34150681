"""The `closeflow` command line: the same functions the DAGs call, one step at a time.

closeflow sample generate --home var --months 1
closeflow ocr extract FILE... --json
closeflow bank parse FILE [--account ID] [--currency CCY] [--mapping M.yml] --json
closeflow post --invoices I.parquet --lines L.parquet --rules R.yml --out DIR
closeflow rules test --rules R.yml --invoices I.parquet [--lines L.parquet] [--against CUR.yml]
closeflow rules accuracy [--period 2026-01]
closeflow post correct --invoice ID --account 6300 [--line 2] --reason TEXT --by USER
closeflow reconcile --bank-lines B.parquet --open-items O.parquet --out DIR
closeflow run --date 2026-01-05 | --period 2026-01      (outside Airflow)
closeflow airflow nights --from 2026-01-01 --to 2026-01-31   (real DAG runs)
closeflow period status | lock 2026-01 --by WHO | reopen 2026-01 --by WHO --reason WHY
closeflow summary --period 2026-01
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pyarrow.parquet as pq

from closeflow.config import ConfigError


def _progress(console=None):
    """A progress bar on stderr, so stdout stays clean for --json output."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
        console=console or Console(stderr=True),
    )


def cmd_sample(args: argparse.Namespace) -> int:
    from closeflow.sample import generate, rich_progress

    start = dt.date.fromisoformat(args.start)
    with rich_progress() as report:
        summary = generate(
            Path(args.home),
            start=start,
            months=args.months,
            seed=args.seed,
            days=args.days,
            progress=report,
            overwrite=args.overwrite,
        )
    print(json.dumps(summary.as_dict(), default=str, indent=2))
    return 0


def cmd_ocr_extract(args: argparse.Namespace) -> int:
    from ocr.extract import extract_files
    from ocr.validate import DEFAULT_MIN_CONFIDENCE

    suppliers, min_confidence = None, DEFAULT_MIN_CONFIDENCE
    if args.company:
        from closeflow.config import CompanyConfig

        company = CompanyConfig(args.company)
        suppliers, min_confidence = company.suppliers, company.company.ocr_min_confidence
    if args.min_confidence is not None:
        min_confidence = args.min_confidence
    with _progress() as bar:
        task = bar.add_task("extracting", total=len(args.files))
        docs = extract_files(
            args.files,
            suppliers,
            workers=args.workers,
            on_done=lambda _: bar.advance(task),
            min_confidence=min_confidence,
        )
    for d in docs:
        print(json.dumps(d.to_json(), ensure_ascii=False))
    return 0


def cmd_bank_parse(args: argparse.Namespace) -> int:
    from closeflow.bank import StatementError, parse_statements

    try:
        for st in parse_statements(
            Path(args.file),
            account_id=args.account,
            currency=args.currency,
            mapping=args.mapping,
        ):
            print(json.dumps(st.to_dict(), ensure_ascii=False))
    except StatementError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_post(args: argparse.Namespace) -> int:
    missing = [f"--{a}" for a in ("invoices", "rules", "out") if not getattr(args, a)]
    if missing:
        args.parser.error(f"the following arguments are required: {', '.join(missing)}")
    from closeflow.config import CompanyConfig, FxRates
    from closeflow.posting import load_rules
    from closeflow.posting.engine import post_parquet

    company = CompanyConfig(args.company) if args.company else None
    rules = load_rules(args.rules, accounts=company.chart.codes() if company else None)
    fx = company.fx if company else FxRates.load(args.fx_rates) if args.fx_rates else FxRates({})
    ccy = company.company.functional_currency if company else args.currency
    closed = company.company.closed_through if company else None
    suggester = None
    if rules.suggestions.enabled and rules.suggestions.history:
        from closeflow.posting.suggest import Suggester

        history = Path(args.rules).parent / rules.suggestions.history
        suggester = Suggester.train(pq.read_table(history), rules.suggestions.auto_post_above)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # a chunk of invoices at a time, written as it goes: a big batch never sits in memory
    n = post_parquet(
        args.invoices,
        args.lines,
        rules,
        fx,
        ccy,
        args.run_id,
        out / "journal_lines.parquet",
        out / "review_queue.parquet",
        closed,
        suggester=suggester,
    )
    print(
        f"{n.invoices} invoices read, {n.posted} posted "
        f"({n.journal_lines} journal lines), {n.review} to review"
    )
    return 0


def cmd_rules_test(args: argparse.Namespace) -> int:
    """A dry run of a rules file over invoices: which rule fires, the entry, the changes."""
    from closeflow.config import CompanyConfig, FxRates
    from closeflow.posting import load_rules
    from closeflow.posting.engine import read_batch
    from closeflow.posting.preview import dry_run

    company = CompanyConfig(args.company) if args.company else None
    accounts = company.chart.codes() if company else None
    rules = load_rules(args.rules, accounts=accounts)
    against = load_rules(args.against, accounts=accounts) if args.against else None
    fx = company.fx if company else FxRates.load(args.fx_rates) if args.fx_rates else FxRates({})
    ccy = company.company.functional_currency if company else args.currency
    invoices, lines = read_batch(args.invoices, args.lines)
    text, _ = dry_run(
        rules,
        invoices,
        lines,
        fx,
        ccy,
        against=against,
        closed_through=company.company.closed_through if company else None,
        only_changes=args.only_changes,
    )
    sys.stdout.write(text)
    return 0


def _fmt_pct(rate) -> str:  # noqa: ANN001
    from closeflow.pipeline import _pct

    return "n/a" if rate is None else _pct(rate)


def cmd_rules_accuracy(args: argparse.Namespace) -> int:
    """How often the learned suggestions are right on held-back approved postings."""
    from closeflow.close import suggestion_accuracy
    from closeflow.runtime import Runtime, Window

    rt = Runtime.from_env()
    if args.period:
        before, through = f"post:{Window.month(args.period).end.isoformat()}", args.period
    else:
        before, through = "post:~", "everything posted"  # "~" sorts after any date
    with rt.warehouse.connected():
        got = suggestion_accuracy(rt, before, fraction=args.fraction)
    print(f"learned suggestions on held-back history ({through})")
    print(
        f"  history: {got['history']} approved invoice lines; held back "
        f"{got['held_back']} ({args.fraction:.0%}, seeded)"
    )
    if got["accuracy"] is None:
        print("  no model: the history names fewer than two accounts")
        return 0
    print(
        f"  right {got['right']} of {got['held_back']} (held-back accuracy "
        f"{_fmt_pct(got['accuracy'])})"
    )
    print(
        f"  above the auto-post threshold {got['threshold']}: {got['auto_posted']} would "
        f"post, {got['auto_posted_right']} right, {got['wrong_postings']} wrong"
    )
    print(f"  model version {got['model_version']}")
    return 0


def cmd_post_correct(args: argparse.Namespace) -> int:
    """Move an auto-posted invoice's line (or all its lines) to another account."""
    from closeflow.corrections import CorrectionError, correct_posting
    from closeflow.runtime import Runtime

    rt = Runtime.from_env()
    try:
        got = correct_posting(
            rt, args.invoice, args.account, args.reason, args.by, line_no=args.line
        )
    except CorrectionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    inv = got["invoice_id"][:12]
    if got["status"] == "unchanged":
        print(f"invoice {inv}: already on {args.account}; nothing corrected")
        return 0
    moved = ", ".join(
        f"line {r['line_no']} {r['from_account']} -> {r['to_account']}" for r in got["lines"]
    )
    print(f"correction {got['correction_id']} by {args.by}: invoice {inv}, {moved}")
    print(f"entry {got['entry_id']} ({got['run_id']}) re-posted:")
    for line_no, account, amount, rule in got["after"]:
        print(f"  {line_no:>3} {account:<6} {amount:>14} {rule or ''}")
    print("the marts follow with the next dbt build (closeflow run --date, or the night)")
    return 0


def cmd_match(args: argparse.Namespace) -> int:
    """Confirm or reject a bank line's suggested match, or undo a match; the night books
    a confirmation and reverses an undone match."""
    from closeflow.match_decisions import (
        MatchDecisionError,
        confirm_match,
        reject_match,
        undo_match,
    )
    from closeflow.runtime import Runtime

    rt = Runtime.from_env()
    try:
        if args.what == "undo":
            got = undo_match(rt, args.line, args.by, args.reason)
        else:
            decide = confirm_match if args.what == "confirm" else reject_match
            got = decide(rt, args.line, args.item, args.by, args.reason)
    except MatchDecisionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    items = ", ".join(f"{r['item_id'][:12]} ({r['rule']}, {r['score']:.2f})" for r in got["rows"])
    verb = {"confirm": "confirmed", "reject": "rejected", "undo": "undone"}[args.what]
    print(f"decision {got['decision_id']} by {args.by}: bank line {got['bank_line_id']} {verb}")
    print(f"  invoices: {items}")
    if args.what == "confirm":
        print("the night of today books the payment (closeflow run --date, or the night)")
    elif args.what == "undo":
        print(
            "the night of today reverses the payment entry, opens the invoices again and "
            "tries the line again without them"
        )
    else:
        print("no night suggests these pairs again; the line stays in review")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    from closeflow.reconcile import reconcile

    result = reconcile(pq.read_table(args.bank_lines), pq.read_table(args.open_items), args.run_id)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(result.matches, out / "matches.parquet")
    pq.write_table(result.unmatched_lines, out / "unmatched_lines.parquet")
    pq.write_table(result.review_table(), out / "review_queue.parquet")
    print(f"{result.matches.num_rows} lines matched, {result.unmatched_lines.num_rows} unmatched")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from closeflow import run_lock
    from closeflow.pipeline import run_close, run_night
    from closeflow.runtime import Runtime

    rt = Runtime.from_env()
    if args.period:
        print(json.dumps(run_close(rt, args.period), default=str, indent=2))
        return 0
    first = dt.date.fromisoformat(args.date)
    last = dt.date.fromisoformat(args.to) if args.to else first
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    with (
        run_lock.hold(rt.warehouse, f"closeflow run --date {first}..{last}", wait=rt.lock_wait),
        _progress() as bar,
    ):
        task = bar.add_task("nights", total=len(days))
        for day in days:
            for line in run_night(rt, day):
                bar.console.print(line)
            bar.advance(task)
    return 0


def cmd_report_mail(args: argparse.Namespace) -> int:
    """Mail a night's archived report to finance (once; --resend sends it again)."""
    from closeflow.report_mail import mail_report
    from closeflow.runtime import Runtime, Window

    rt = Runtime.from_env()
    summary = mail_report(
        rt, Window.day(dt.date.fromisoformat(args.date), rt.tz), resend=args.resend
    )
    print(summary.line())
    return 0 if str(summary.counts.get("mail", "")).startswith(("sent", "already")) else 1


def cmd_period(args: argparse.Namespace) -> int:
    """Lock, reopen or show the closed periods."""
    from closeflow.close import lock_period, reopen_period
    from closeflow.periods import period_locks
    from closeflow.runtime import Runtime, Window

    rt = Runtime.from_env()
    if args.what == "status":
        with rt.warehouse.connected():
            locks = period_locks(rt)
        print(f"closed through: {locks.closed_through or 'nothing closed'}")
        for e in locks.events:
            extra = f" ({e.reason})" if e.reason else ""
            print(f"  {e.acted_at:%Y-%m-%d %H:%M} UTC {e.action} {e.period} by {e.acted_by}{extra}")
        return 0
    if args.what == "lock":
        summary = lock_period(rt, Window.month(args.period, rt.tz), by=args.by)
        print(summary.line())
        return 0
    got = reopen_period(rt, args.period, args.by, args.reason)
    e = got["event"]
    print(
        f"period {e.period} reopened by {e.acted_by} at {e.acted_at:%Y-%m-%d %H:%M} UTC: {e.reason}"
    )
    print(f"close metrics of {e.period} recomputed; the next close locks it again")
    return 0


def cmd_airflow_nights(args: argparse.Namespace) -> int:
    from rich.console import Console

    from closeflow import run_lock
    from closeflow.airflow.local_runs import run_nights
    from closeflow.pipeline import night_line
    from closeflow.runtime import Runtime

    rt = Runtime.from_env()
    first, last = dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last)
    n = (last - first).days + 1
    log_path = Path(args.log or rt.home / "logs" / f"airflow-{first}-{last}.log")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Airflow prints every task's log; those go to the log file, the terminal shows progress.
    terminal = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    console = Console(file=terminal)
    console.print(f"Airflow task logs: {log_path}")
    closes = sum(1 for i in range(n) if (first + dt.timedelta(days=i + 1)).day == 1)
    with _progress(console) as bar:
        task = bar.add_task("Airflow DAG runs", total=n * 2 + (0 if args.no_close else closes))

        def on_run(dag_id: str, label: str, state: str) -> None:
            if dag_id == "ledger_nightly" and state == "success":
                bar.console.print(night_line(rt, dt.date.fromisoformat(label)))
            elif state != "success" or dag_id == "month_end_close":
                bar.console.print(f"{dag_id} {label}: {state}")
            bar.advance(task)

        with (
            run_lock.hold(rt.warehouse, f"closeflow airflow nights {first}..{last}"),
            _redirect_output(log_path),
        ):
            try:
                run_nights(first, last, rt.tz, close=not args.no_close, on_run=on_run)
            except RuntimeError as exc:
                failure = exc
            else:
                failure = None
    if failure is not None:
        console.print(f"[red]error: {failure}[/red] (task logs: {log_path})")
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


@contextmanager
def _redirect_output(path: Path):
    """Send this process's stdout and stderr (file descriptors too) to `path`."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a") as fh:
        os.dup2(fh.fileno(), 1)
        os.dup2(fh.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def cmd_status(args: argparse.Namespace) -> int:
    """The last nights: done or not, time, files, postings, matches, review, alerts."""
    from closeflow.runtime import Runtime
    from closeflow.status import night_statuses, status_lines

    for line in status_lines(night_statuses(Runtime.from_env(), args.nights)):
        print(line)
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    from closeflow.pipeline import summary_lines
    from closeflow.runtime import Runtime

    for line in summary_lines(Runtime.from_env(), args.period):
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="closeflow", description=__doc__.split("\n")[0])
    p.add_argument("-v", "--verbose", action="store_true", help="log every step")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("sample", help="the sample company").add_subparsers(
        dest="what", required=True
    )
    g = s.add_parser("generate", help="generate the sample company into HOME")
    g.add_argument("--home", default="var")
    g.add_argument("--start", default="2026-01-01")
    g.add_argument("--months", type=int, default=3)
    g.add_argument("--days", type=int, default=None, help="only the first N days")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--overwrite", action="store_true", help="replace an earlier sample")
    g.set_defaults(func=cmd_sample)

    o = sub.add_parser("ocr", help="invoice extraction").add_subparsers(dest="what", required=True)
    e = o.add_parser("extract", help="extract invoices from files")
    e.add_argument("files", nargs="+")
    e.add_argument("--json", action="store_true", help="one JSON object per file (default)")
    e.add_argument("--company", help="company folder: suppliers, templates, review threshold")
    e.add_argument(
        "--min-confidence",
        type=float,
        help="fields read with less confidence need review (default: company.yml's "
        "ocr_min_confidence, else 0.6)",
    )
    e.add_argument("--workers", type=int, help="files read at once (default: one per core)")
    e.set_defaults(func=cmd_ocr_extract)

    b = sub.add_parser("bank", help="bank statements").add_subparsers(dest="what", required=True)
    bp = b.add_parser(
        "parse",
        help="parse one statement file (camt.052/053/054, MT940/MT942, OFX/QFX, BAI2, CSV)",
    )
    bp.add_argument("file")
    bp.add_argument("--account", help="the account, for files that do not name it")
    bp.add_argument("--currency", help="the currency, for files that do not say it")
    bp.add_argument(
        "--mapping",
        help="a CSV mapping file (YAML) to read the file with (see closeflow.bank.mappings)",
    )
    bp.add_argument("--json", action="store_true", help="JSON output (default)")
    bp.set_defaults(func=cmd_bank_parse)

    po = sub.add_parser("post", help="post invoices with rules; correct a posted entry")
    po.add_argument("--invoices", help="invoices Parquet (required to post)")
    po.add_argument("--lines")
    po.add_argument("--rules", help="the rules file (required to post)")
    po.add_argument("--out", help="output folder (required to post)")
    po.add_argument("--company", help="company folder (chart of accounts, FX rates)")
    po.add_argument("--fx-rates")
    po.add_argument("--currency", default="EUR", help="functional currency")
    po.add_argument("--run-id", default="post:cli")
    po.set_defaults(func=cmd_post, parser=po)
    pos = po.add_subparsers(dest="what")
    pc = pos.add_parser(
        "correct",
        help="move an auto-posted invoice (or one line) to another account, audited",
    )
    pc.add_argument("--invoice", required=True, help="invoice id, id prefix or number")
    pc.add_argument("--account", required=True, help="the account it belongs on")
    pc.add_argument("--line", type=int, help="only this invoice line (default: all)")
    pc.add_argument("--reason", required=True, help="why: kept in the audit trail")
    pc.add_argument("--by", required=True, help="who corrects: kept in the audit trail")
    pc.set_defaults(func=cmd_post_correct)

    ma = sub.add_parser(
        "match", help="a person's decision on a match or a suggestion"
    ).add_subparsers(dest="what", required=True)
    for what, helps in (
        ("confirm", "confirm a bank line's suggestion (or name the invoices it pays)"),
        ("reject", "reject a bank line's suggestions: never suggested again"),
    ):
        mc = ma.add_parser(what, help=helps)
        mc.add_argument("line", help="the bank line id (or the bank's reference)")
        mc.add_argument(
            "--item",
            action="append",
            help="invoice id, id prefix or number (repeat for several; default: the suggestion)",
        )
        mc.add_argument("--by", required=True, help="who decides: kept in the audit trail")
        mc.add_argument("--reason", help="why: kept in the audit trail")
        mc.set_defaults(func=cmd_match)
    mu = ma.add_parser("undo", help="undo a bank line's match (auto or confirmed): reversed")
    mu.add_argument("line", help="the bank line id (or the bank's reference)")
    mu.add_argument("--by", required=True, help="who decides: kept in the audit trail")
    mu.add_argument("--reason", required=True, help="why the match is wrong: kept")
    mu.set_defaults(func=cmd_match)

    st = sub.add_parser("status", help="the last nights: state, time, files, postings, alerts")
    st.add_argument("--nights", type=int, default=7, help="how many nights (default 7)")
    st.set_defaults(func=cmd_status)

    ru = sub.add_parser("rules", help="posting rules").add_subparsers(dest="what", required=True)
    rt = ru.add_parser("test", help="dry run: which rule fires, the entry, the changes")
    rt.add_argument("--rules", required=True, help="the rules file to try")
    rt.add_argument("--invoices", required=True)
    rt.add_argument("--lines")
    rt.add_argument("--against", help="the current rules file: show what would change")
    rt.add_argument("--company", help="company folder (chart of accounts, FX rates)")
    rt.add_argument("--fx-rates")
    rt.add_argument("--currency", default="EUR", help="functional currency")
    rt.add_argument("--only-changes", action="store_true", help="only invoices that change")
    rt.set_defaults(func=cmd_rules_test)
    ra = ru.add_parser(
        "accuracy", help="how often learned suggestions are right on held-back history"
    )
    ra.add_argument("--period", help="history through this period YYYY-MM (default: all)")
    ra.add_argument("--fraction", type=float, default=0.2, help="share held back (0.2)")
    ra.set_defaults(func=cmd_rules_accuracy)

    r = sub.add_parser("reconcile", help="match bank lines to open items")
    r.add_argument("--bank-lines", required=True)
    r.add_argument("--open-items", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--run-id", default="reconcile:cli")
    r.set_defaults(func=cmd_reconcile)

    rn = sub.add_parser("run", help="one window's work outside Airflow")
    grp = rn.add_mutually_exclusive_group(required=True)
    grp.add_argument("--date", help="nightly window YYYY-MM-DD")
    grp.add_argument("--period", help="month-end close YYYY-MM")
    rn.add_argument("--to", help="last night of a range (with --date)")
    rn.set_defaults(func=cmd_run)

    rp = sub.add_parser("report", help="the nightly report").add_subparsers(
        dest="what", required=True
    )
    rm = rp.add_parser("mail", help="mail a night's archived report to finance")
    rm.add_argument("--date", required=True, help="the night YYYY-MM-DD")
    rm.add_argument(
        "--resend", action="store_true", help="send it again though it was sent (a correction)"
    )
    rm.set_defaults(func=cmd_report_mail)

    a = sub.add_parser("airflow", help="run the DAGs").add_subparsers(dest="what", required=True)
    an = a.add_parser("nights", help="real DAG runs for a range of nights (dag.test)")
    an.add_argument("--from", dest="first", required=True)
    an.add_argument("--to", dest="last", required=True)
    an.add_argument("--no-close", action="store_true")
    an.add_argument("--log", help="where Airflow's task logs go (default HOME/logs/)")
    an.set_defaults(func=cmd_airflow_nights)

    pe = sub.add_parser("period", help="the period lock").add_subparsers(dest="what", required=True)
    pst = pe.add_parser("status", help="what is closed, and every lock and reopen")
    pst.set_defaults(func=cmd_period)
    plk = pe.add_parser("lock", help="lock a period (the month-end close does this)")
    plk.add_argument("period", help="YYYY-MM")
    plk.add_argument("--by", required=True, help="who locks it: kept in the lock log")
    plk.set_defaults(func=cmd_period)
    pro = pe.add_parser("reopen", help="reopen the latest closed period, logged")
    pro.add_argument("period", help="YYYY-MM")
    pro.add_argument("--by", required=True, help="who reopens it: kept in the lock log")
    pro.add_argument("--reason", required=True, help="why: kept in the lock log")
    pro.set_defaults(func=cmd_period)

    sm = sub.add_parser("summary", help="what a period's runs did")
    sm.add_argument("--period", required=True)
    sm.set_defaults(func=cmd_summary)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from closeflow.close import CloseNotReady
    from closeflow.periods import PeriodError
    from closeflow.run_lock import WarehouseBusy

    try:
        return args.func(args)
    except (ConfigError, PeriodError, CloseNotReady) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except WarehouseBusy as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
