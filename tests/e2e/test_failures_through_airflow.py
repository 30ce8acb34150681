"""Bad input through real DAG runs: a broken rules file fails its step loudly (named file
and line, a mail to the on-call address, nothing already written lost); a garbled bank
statement goes to the review queue and the night goes on."""

from __future__ import annotations

import json
import os
import shutil
import time

import duckdb
import pytest

from tests.e2e.harness import Installation
from tests.smtp import SmtpServer, airflow_connection, text_of


@pytest.fixture(scope="module")
def broken_night(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("failures")
    inst = Installation(root, airflow_db=f"sqlite:///{root / 'airflow.db'}")
    inst.closeflow("sample", "generate", "--home", str(inst.home), "--days", "6")
    garbled = inst.home / "bank_inbox" / "garbled.xml"
    shutil.copy(shared_data / "bank" / "camt" / "camt053_garbled_amount.xml", garbled)
    noon_jan_2 = 1767351600  # 2026-01-02 12:00 Europe/Berlin
    os.utime(garbled, (noon_jan_2, noon_jan_2))
    inst.migrate()
    with SmtpServer() as smtp:
        mail = {
            "AIRFLOW_CONN_CLOSEFLOW_SMTP": airflow_connection(smtp.port),
            "CLOSEFLOW_ALERT_TO": "oncall@example.com",
        }
        good = inst.closeflow(
            "airflow", "nights", "--from", "2026-01-02", "--to", "2026-01-04", "--no-close", **mail
        )
        rules = inst.home / "company" / "posting_rules.yml"
        text = rules.read_text()
        rules.write_text(text.replace("debit_account", "debit_acount", 1))
        bad = inst.closeflow(
            "airflow",
            "nights",
            "--from",
            "2026-01-05",
            "--to",
            "2026-01-05",
            "--no-close",
            check=False,
            **mail,
        )
        for _ in range(50):  # the notifier runs in the task process; give the mail a moment
            if any(" failed for " in m["Subject"] for m in smtp.messages):
                break
            time.sleep(0.1)
        messages = list(smtp.messages)
    return inst, good, bad, messages, text


def _query(inst: Installation, sql: str):
    con = duckdb.connect(str(inst.home / "warehouse.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_broken_rules_file_fails_the_night_naming_file_and_line(broken_night):
    inst, good, bad, _, text = broken_night
    assert good.returncode == 0
    assert bad.returncode == 1
    assert "ledger_nightly for 2026-01-05 ended failed" in bad.stderr
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "debit_account" in row)
    record = json.loads((inst.home / "alerts" / "failures.jsonl").read_text().splitlines()[-1])
    assert record["dag_id"] == "ledger_nightly" and record["task_id"] == "post"
    assert f"posting_rules.yml:{line}: unknown field" in record["error"]
    assert "did you mean 'debit_account'?" in record["error"]


def test_the_failure_is_mailed_to_the_on_call_address(broken_night):
    *_, messages, _ = broken_night
    [mail] = [m for m in messages if " failed for " in m["Subject"]]
    assert mail["To"] == "oncall@example.com"
    assert mail["Subject"] == "[closeflow] ledger_nightly.post failed for 2026-01-05"
    assert "posting_rules.yml" in text_of(mail)


def test_quarantined_files_are_mailed_naming_file_and_reason(broken_night):
    *_, messages, _ = broken_night
    by_subject = {m["Subject"]: text_of(m) for m in messages}
    garbled = by_subject["[closeflow] 1 file(s) quarantined by bank:2026-01-02"]
    assert "garbled.xml: garbled.xml:17:" in garbled and "'12..34' is not a number" in garbled
    assert all(m["To"] == "oncall@example.com" for m in messages)


def test_nothing_already_written_is_lost(broken_night):
    inst, *_ = broken_night
    runs = dict(_query(inst, "SELECT run_id, count(*) FROM raw.journal_lines GROUP BY run_id"))
    assert runs.get("post:2026-01-02", 0) > 0  # the good night's postings stand
    assert "post:2026-01-05" not in runs  # the failed step wrote nothing
    ingested = _query(
        inst, "SELECT count(*) FROM raw.file_manifest WHERE run_id = 'ingest:2026-01-05'"
    )[0][0]
    assert ingested > 0  # that night's ingest ran before the failing step, and stands


def test_garbled_statement_goes_to_review_and_the_night_goes_on(broken_night):
    inst, *_ = broken_night
    [(reason,)] = _query(inst, "SELECT reason FROM raw.review_queue WHERE item_type = 'statement'")
    assert "garbled.xml:17" in reason and "'12..34' is not a number" in reason
    lines = _query(inst, "SELECT count(*) FROM raw.bank_lines WHERE booking_date = '2026-01-02'")
    assert lines[0][0] > 0
