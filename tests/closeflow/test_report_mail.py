"""The nightly report reaches finance: a real SMTP server on localhost receives the HTML
mail with the XLSX and CSV attached, accounts masked, the 30-night chart drawn from the
nights the sample company really ran; a mail server that is down fails nothing."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from closeflow.pipeline import run_night
from closeflow.report import nightly_report, report_paths
from closeflow.report_data import history
from closeflow.report_mail import deliveries, mail_report
from closeflow.runtime import Runtime, Window
from closeflow.sample import generate
from tests.smtp import SmtpServer, airflow_connection

FIRST = dt.date(2026, 1, 1)
NIGHTS = 12
LAST = FIRST + dt.timedelta(days=NIGHTS - 1)
FINANCE = "finance@example.com, controller@example.com"


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    """The sample company run night by night (no dbt); each night's report figures are
    kept as that night wrote them."""
    home = tmp_path_factory.mktemp("report-home")
    generate(home, start=FIRST, months=1, seed=7, days=NIGHTS)
    rt = Runtime(home=home, warehouse_url=f"duckdb:///{home / 'warehouse.duckdb'}")
    _unexplained_receipt(rt, dt.date(2026, 1, 3))
    as_written = {}
    for n in range(NIGHTS):
        day = FIRST + dt.timedelta(days=n)
        run_night(rt, day, build_marts_too=False)
        as_written[day] = json.loads(report_paths(rt, str(day))["json"].read_text())
    rt.as_written = as_written
    yield rt
    rt.warehouse.dispose()


def _unexplained_receipt(rt: Runtime, night: dt.date) -> None:
    """A CNY statement download, arriving on `night`, with a payment no invoice and no
    bank rule explains: the unreconciled amount has something to show from that night."""
    acct = next(a for a in rt.company.company.bank_accounts if a.currency == "CNY")
    path = rt.bank_inbox / f"cny_{acct.account_id}_{night}.csv"
    path.write_text(
        "booking_date,value_date,amount,currency,counterparty_name,counterparty_account,"
        "remittance_info,bank_reference\n"
        f"{night},{night},888.00,CNY,Unbekannt Handels GmbH,GB29NWBK60161331926819,"
        f'=HYPERLINK("http://x") unclear payment,ICBC{night:%Y%m%d}999999\n',
        encoding="utf-8",
    )
    at = dt.datetime.combine(night, dt.time(21), tzinfo=dt.UTC).timestamp()
    os.utime(path, (at, at))


@pytest.fixture
def mail_env(monkeypatch):
    def setup(port: int) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_CLOSEFLOW_SMTP", airflow_connection(port))
        monkeypatch.setenv("CLOSEFLOW_REPORT_TO", FINANCE)
        monkeypatch.delenv("CLOSEFLOW_ALERT_TO", raising=False)  # no on-call mail

    return setup


def _account_ids(rt: Runtime) -> set[str]:
    """Every account identifier the warehouse holds, compact: none may be in clear."""
    raw = rt.warehouse.query(
        "SELECT account_id AS a FROM raw.bank_statements UNION "
        "SELECT counterparty_account FROM raw.bank_lines UNION "
        "SELECT supplier_iban FROM raw.invoices"
    ).to_pylist()
    ids = {"".join(r["a"].split()) for r in raw if r["a"] and len("".join(r["a"].split())) > 8}
    return ids | {"".join(a.account_id.split()) for a in rt.company.company.bank_accounts}


def _in_clear(text: str, ids: set[str]) -> list[str]:
    compact = "".join(text.split())
    return sorted(i for i in ids if i in compact)


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_the_mail_brings_the_report_with_xlsx_csv_and_chart(company, mail_env):
    rt = company
    with SmtpServer() as smtp:
        mail_env(smtp.port)
        summary = mail_report(rt, Window.day(LAST))
    assert summary.counts["mail"] == "sent"
    [mail] = smtp.messages
    day = str(LAST)
    assert mail["To"] == "finance@example.com, controller@example.com"
    assert mail["From"] == "closeflow@example.com"
    subject = mail["Subject"]
    assert subject.startswith(f"Closeflow Demo GmbH: bank reconciliation {day} · match rate ")

    parts = {p.get_filename(): p for p in mail.walk() if p.get_filename()}
    assert set(parts) == {f"reconciliation_{day}.xlsx", f"reconciliation_{day}.csv"}
    [body] = [p for p in mail.walk() if p.get_content_type() == "text/html"]
    html = body.get_content()
    assert f"Bank reconciliation · {day}" in html
    for section in (
        "Statement balance checks",
        "Ledger vs bank, per account",
        "New matches tonight, by rule",
        "Suggestions awaiting a decision",
        "Write-offs proposed",
        "Unmatched bank lines, by age",
        "Open items, by age",
        "Match rate and unreconciled amount, last 30 nights",
    ):
        assert section in html, section
    assert "<svg" not in html and "<img" not in html  # the chart is a table of bars

    # the chart: one row per night since go-live, with that night's figures
    series = history(rt, LAST)
    assert [r["night"] for r in series] == [FIRST + dt.timedelta(days=n) for n in range(NIGHTS)]
    chart = html.split("last 30 nights")[1].split("Statement balance checks")[0]
    rows = chart.split('<tr><td style="white-space:nowrap">')[1:]
    assert len(rows) == NIGHTS  # a row a night
    for row, r in zip(rows, series, strict=True):
        rate = "n/a" if r["rate_count"] is None else f"{r['rate_count']} %"
        assert str(r["night"]) in row and f" {rate}</td>" in row
        assert f" {r['unreconciled']:,.2f}</td>" in row

    # the XLSX holds real values, numbers as numbers
    data = parts[f"reconciliation_{day}.xlsx"].get_content()
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames[0] == "Summary" and "History" in wb.sheetnames
    summary_rows = {r[0]: r[1] for r in wb["Summary"].iter_rows(values_only=True)}
    assert summary_rows["Night"].date() == LAST
    unmatched = rt.as_written[LAST]["unmatched"]
    assert summary_rows["Unmatched bank lines (all)"] == unmatched
    assert Decimal(str(summary_rows["Unreconciled amount"])) == Decimal(
        rt.as_written[LAST]["unreconciled"]
    )
    hist = list(wb["History"].iter_rows(min_row=2, values_only=True))
    assert len(hist) == NIGHTS
    for row, r in zip(hist, series, strict=True):
        assert row[0].date() == r["night"] and row[1] == r["lines"]
        assert Decimal(str(row[6])).quantize(Decimal("0.01")) == r["unreconciled"]
    assert wb["History"]._charts  # a native Excel chart beside the figures
    bank = list(wb["Bank lines tonight"].iter_rows(min_row=2, values_only=True))
    tonight = rt.warehouse.query(
        "SELECT line_id, amount FROM raw.bank_lines WHERE run_id = :r ORDER BY line_id",
        {"r": f"bank:{day}"},
    ).to_pylist()
    assert sorted((r[2], Decimal(str(r[3])).quantize(Decimal("0.01"))) for r in bank) == [
        (t["line_id"], t["amount"]) for t in tonight
    ]
    accounts = {r[1] for r in bank}
    assert accounts and all(a.startswith("****") and len(a) == 8 for a in accounts)

    # the CSV attachment is the archived one
    sent_csv = parts[f"reconciliation_{day}.csv"].get_payload(decode=True)
    assert sent_csv == report_paths(rt, day)["csv"].read_bytes()
    got_csv = sent_csv.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(got_csv)))
    assert [r["line_id"] for r in rows] == [t["line_id"] for t in tonight]

    # masked everywhere: subject, body, workbook, CSV
    ids = _account_ids(rt)
    assert ids
    for where, text in (
        ("subject", subject),
        ("html", html),
        ("xlsx", _xlsx_text(data)),
        ("csv", got_csv),
    ):
        assert _in_clear(text, ids) == [], where
    assert "****" in html

    # what was sent is recorded, and a re-run does not send it again
    [sent] = deliveries(rt, day)
    assert sent["status"] == "sent" and sent["to"] == FINANCE.split(", ")
    assert set(sent["files"]) == {
        "reconciliation.html",
        f"reconciliation_{day}.xlsx",
        f"reconciliation_{day}.csv",
    }
    with SmtpServer() as smtp:
        mail_env(smtp.port)
        again = mail_report(rt, Window.day(LAST))
        assert again.counts["mail"].startswith("already sent at ") and smtp.messages == []
        corrected = mail_report(rt, Window.day(LAST), resend=True)
        [mail] = smtp.messages
    assert corrected.counts["mail"] == "sent" and mail["Subject"].endswith("(corrected)")
    assert [d["status"] for d in deliveries(rt, day)] == ["sent", "sent"]


def test_a_mail_server_that_is_down_does_not_fail_the_night(company, mail_env):
    rt = company
    night = LAST - dt.timedelta(days=1)
    day = str(night)
    mail_env(1)  # nothing listens on port 1
    lines = run_night(rt, night, build_marts_too=False)  # the whole night, re-run
    assert lines[-1].startswith(f"mail {day}: mail failed: ConnectionRefusedError")
    status = rt.warehouse.scalar(
        "SELECT status FROM raw.step_runs WHERE run_id = :r", {"r": f"report:{day}"}
    )
    assert status == "success"  # the books and their report stand
    assert report_paths(rt, day)["xlsx"].exists()
    [failed] = deliveries(rt, day)
    assert failed["status"] == "failed" and "Connection refused" in failed["error"]
    alerts = [json.loads(line) for line in (rt.home / "alerts" / "report_mail.jsonl").open()]
    assert alerts[-1]["subject"] == f"nightly report {day} not mailed to finance"

    # once the server is back, running the step again sends it (it was never sent)
    with SmtpServer() as smtp:
        mail_env(smtp.port)
        assert mail_report(rt, Window.day(night)).counts["mail"] == "sent"
        assert len(smtp.messages) == 1
    assert [d["status"] for d in deliveries(rt, day)] == ["failed", "sent"]


def test_an_undefined_connection_or_no_recipients_fail_nothing(company, monkeypatch):
    rt = company
    night = LAST - dt.timedelta(days=2)
    monkeypatch.delenv("CLOSEFLOW_REPORT_TO", raising=False)
    assert mail_report(rt, Window.day(night)).counts["mail"].startswith("not configured")
    monkeypatch.setenv("CLOSEFLOW_REPORT_TO", "finance@example.com")
    monkeypatch.setenv("CLOSEFLOW_SMTP_CONN_ID", "no_such_connection")
    got = mail_report(rt, Window.day(night)).counts["mail"]
    assert got.startswith("failed: ") and "connection" in got.lower()


def test_the_30_night_series_is_what_each_night_reported(company):
    """Drawn at the last night, each point equals the figures that night's own report
    wrote when it ran: the history is the warehouse as of each night, not as of now."""
    rt = company
    with rt.warehouse.connected():
        series = history(rt, LAST)
    assert len(series) == NIGHTS
    for r in series:
        then = rt.as_written[r["night"]]
        assert str(r["unreconciled"]) == then["unreconciled"], r["night"]
        assert str(r["rate_count"]) == then["match_rate_count"], r["night"]
        assert str(r["rate_amount"]) == then["match_rate_amount"], r["night"]
    # the nights differ: lines arrive and are explained as the days go by
    assert len({r["lines"] for r in series}) > 3
    assert series[-1]["lines"] == rt.warehouse.scalar(
        "SELECT count(*) FROM raw.bank_lines WHERE booking_date <= :d", {"d": LAST}
    )
    # a series drawn at an earlier night stops there, with the same figures
    with rt.warehouse.connected():
        earlier = history(rt, LAST - dt.timedelta(days=4))
    assert earlier == series[:-4]


def test_re_running_an_earlier_report_gives_that_nights_figures(company):
    rt = company
    night = FIRST + dt.timedelta(days=4)
    nightly_report(rt, Window.day(night))
    again = json.loads(report_paths(rt, str(night))["json"].read_text())
    assert again == rt.as_written[night]


def test_the_unexplained_receipt_shows_from_its_night_on(company):
    rt = company
    with rt.warehouse.connected():
        series = {r["night"]: r for r in history(rt, LAST)}
    before, on = series[dt.date(2026, 1, 2)], series[dt.date(2026, 1, 3)]
    rate = rt.company.fx.rate("CNY", dt.date(2026, 1, 3), "EUR")
    assert on["unreconciled"] - before["unreconciled"] == (Decimal("888.00") * rate).quantize(
        Decimal("0.01")
    )
    assert on["unmatched"] == before["unmatched"] + 1
    assert all(series[d]["unreconciled"] >= on["unreconciled"] for d in series if d >= on["night"])


def test_a_formula_in_a_remittance_text_stays_text(company):
    rt = company
    day = "2026-01-03"
    paths = report_paths(rt, day)
    rows = list(csv.DictReader(paths["csv"].open(encoding="utf-8", newline="")))
    [line] = [r for r in rows if r["counterparty_name"] == "Unbekannt Handels GmbH"]
    assert line["remittance_info"] == '\'=HYPERLINK("http://x") unclear payment'
    assert line["account_id"].startswith("****") and line["outcome"] == "unmatched"
    wb = load_workbook(paths["xlsx"])
    cells = [c for row in wb["Unmatched lines"].iter_rows() for c in row]
    [cell] = [c for c in cells if str(c.value).startswith("=HYPERLINK")]
    assert cell.data_type == "s"  # a string, not a formula
    [acct] = [c.value for c in cells if c.value == "****6819"]  # the sender's IBAN, masked
    assert acct
