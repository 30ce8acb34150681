"""Never lose or silently change the books: the real pipeline through Airflow, under stress.

One inbox (the sample company's, plus a hostile set of files), three installations:

- **undisturbed**: the nights of 29 January to 2 February 2026 and January's close, run
  in order. Every file ends in exactly one state with its reason; poison stays local;
  the close locks January, and what arrives for January afterwards posts to February.
  Then, on the same installation: a night re-run after the inboxes were emptied, an older
  night re-run after it, and a closed night re-run: each leaves the warehouse exactly as
  it was.
- **crashed**: the same nights, the run killed with SIGKILL at five points (while the
  night's files are recorded, before posting commits, after dbt, while January is
  locked, before a bank import commits) and started again each time; and while it runs, a
  second `closeflow airflow nights`, a `closeflow run` and a reopen are refused with who
  holds the warehouse. At the end its warehouse equals the undisturbed one, row for row,
  both ways.

The company goes live on 29 January (`go_live` in company.yml): the month's close waits
for the nights from then on, and the files dropped before then are never taken.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from tests.bad_files import pdf_image_bomb, png_bomb
from tests.e2e.harness import VENV_BIN, Installation
from tests.reliability import hostile
from tests.warehouse_state import differences, dump

TZ = ZoneInfo("Europe/Berlin")
GO_LIVE, LAST = dt.date(2026, 1, 29), dt.date(2026, 2, 2)
CNY_ACCOUNT = "9425365546169243356"


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def _truth(home: Path) -> list[dict]:
    return [json.loads(line) for line in (home / "truth" / "documents.jsonl").open()]


# ------------------------------------------------------------------ the inbox


def _prepare_inbox(home: Path) -> dict:
    """The sample company's inbox plus the hostile files (all but the links and the pipe,
    which each installation makes itself); return what the tests expect of them."""
    yml = home / "company" / "company.yml"
    yml.write_text(yml.read_text() + f'go_live: "{GO_LIVE}"\n')
    docs = _truth(home)

    def received(d: dict) -> dt.date:
        return dt.datetime.fromisoformat(d["received_at"]).date()

    # a January invoice that reaches us only on 2 February, after January is closed
    late = next(
        d
        for d in docs
        if received(d) == dt.date(2026, 1, 29)
        and d["kind"] == "digital_pdf"
        and d["expected_status"] == "extracted"
        and d["invoice"]["invoice_date"] <= "2026-01-29"
    )
    late_path = home / late["file"]
    hostile.set_received(late_path, _at(LAST, 10))

    # a copy of an invoice received before go-live, dropped as a hidden file: taken
    before = next(
        d for d in docs if received(d) == dt.date(2026, 1, 20) and d["kind"] == "digital_pdf"
    )
    hidden = home / "inbox" / ".copy_of_old_invoice.pdf"
    shutil.copyfile(home / before["file"], hidden)
    hostile.set_received(hidden, _at(GO_LIVE, 9))

    # a byte-identical re-sent copy, on 2 February, of an invoice of 30 January
    original = next(
        d
        for d in docs
        if received(d) == dt.date(2026, 1, 30)
        and d["kind"] == "digital_pdf"
        and d["expected_status"] == "extracted"
    )
    resent = home / "inbox" / f"Fwd_{Path(original['file']).name}"
    shutil.copyfile(home / original["file"], resent)
    hostile.set_received(resent, _at(LAST, 11))

    def drop(name: str, content: bytes, at: dt.datetime, folder: str = "inbox") -> str:
        path = home / folder / name
        path.write_bytes(content)
        hostile.set_received(path, at)
        return f"{folder}/{name}"

    unknown = {"supplier": "Neuer Lieferant GmbH", "number": "NL-2026-7", "date": "02.02.2026"}
    unknown |= {"net": "100.00", "tax": "19.00", "total": "119.00"}
    files = {
        "empty": drop("empty.pdf", b"", _at(GO_LIVE, 10)),
        "empty_again": drop("empty_again.pdf", b"", _at(dt.date(2026, 1, 30), 10)),
        "markup_name": drop(
            "<img src=x onerror=alert(1)>.pdf", b"<script>alert(1)</script>", _at(GO_LIVE, 11)
        ),
        "poison": drop(
            "Rechnung_RA-1.pdf",
            hostile.invoice_pdf(
                "Riesen AG",
                "RA-1",
                "29.01.2026",
                "100000000000000000000.00",
                "19000000000000000000.00",
                "119000000000000000000.00",
                iban="DE89 3704 0044 0532 0130 00",
            ),
            _at(dt.date(2026, 1, 30), 9),
        ),
        "encrypted": drop(
            "Rechnung_geschuetzt.pdf",
            hostile.invoice_pdf(
                "Geheim GmbH", "G-1", "29.01.2026", "1.00", "0.19", "1.19", password="secret"
            ),  # fmt: skip
            _at(dt.date(2026, 1, 30), 11),
        ),
        "bomb": drop("scan_bomb.png", png_bomb(40_000, 40_000), _at(dt.date(2026, 1, 31), 9)),
        "pdf_bomb": drop(
            "scan_bomb.pdf", pdf_image_bomb(20_000, 20_000), _at(dt.date(2026, 1, 31), 9, 30)
        ),
        "truncated": drop("scan_cut.jpg", hostile.truncated_jpeg(), _at(dt.date(2026, 1, 31), 10)),
        "huge": drop("huge_scan.pdf", os.urandom(8 << 20), _at(dt.date(2026, 1, 31), 11)),
        "unknown": drop(
            "Rechnung_NL-2026-7.pdf",
            hostile.invoice_pdf(**unknown, iban="GB33 BUKB 2020 1555 5555 55"),
            _at(dt.date(2026, 2, 1), 9),
        ),
        "unknown_again": drop(
            "Rechnung_NL-2026-7_Kopie.pdf",
            hostile.invoice_pdf(**unknown, iban="GB33 BUKB 2020 1555 5555 55", note="Kopie"),
            _at(LAST, 9),
        ),
        "markup_text": drop(
            "Rechnung_EV-1.pdf",
            hostile.invoice_pdf(
                "<b>Evil</b> GmbH <script>alert(2)</script>",
                "EV-1",
                "02.02.2026",
                "10.00",
                "1.90",
                "11.90",
                iban="FR14 2004 1010 0505 0001 3M02 606",
            ),  # fmt: skip
            _at(dt.date(2026, 2, 2), 10),
        ),
        "gbk": drop(
            f"cny_{CNY_ACCOUNT}_export_gbk.csv",
            hostile.gbk_csv_statement(CNY_ACCOUNT, dt.date(2026, 2, 2)),
            _at(dt.date(2026, 2, 2), 18),
            "bank_inbox",
        ),
    }
    camt = sorted((home / "bank_inbox").glob("camt053_*_2026-02-02.xml"))[0]
    copy = home / "bank_inbox" / ".camt_copy.xml"
    shutil.copyfile(camt, copy)
    hostile.set_received(copy, _at(dt.date(2026, 2, 2), 22, 30))  # after the original
    poison = (home / files["poison"]).read_bytes()
    files["truncated_pdf"] = drop(
        "Rechnung_abgeschnitten.pdf", poison[: len(poison) // 2], _at(dt.date(2026, 1, 31), 12)
    )
    files |= {"camt_copy": "bank_inbox/.camt_copy.xml", "camt": f"bank_inbox/{camt.name}"}
    files |= {"late": late["file"], "hidden": "inbox/.copy_of_old_invoice.pdf"}
    files |= {"resent": f"inbox/{resent.name}", "resent_original": original["file"]}
    return {"files": files, "late": late}


def _specials(home: Path) -> None:
    """What copying a home cannot carry: links out of the inboxes and a named pipe."""
    for link, target, day in [
        (home / "inbox" / "passwd.pdf", "/etc/passwd", GO_LIVE),
        (home / "inbox" / "etc", "/etc", dt.date(2026, 1, 30)),
        (home / "bank_inbox" / "statement_link.xml", "/etc/hostname", dt.date(2026, 2, 2)),
    ]:
        link.symlink_to(target)
        hostile.set_received(link, _at(day, 12))
    fifo = home / "inbox" / "pipe.pdf"
    os.mkfifo(fifo)
    hostile.set_received(fifo, _at(dt.date(2026, 1, 31), 12))


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> dict:
    """The inputs every installation starts from, and a migrated Airflow metadata DB."""
    root = tmp_path_factory.mktemp("stress_template")
    inst = Installation(root, airflow_db=f"sqlite:///{root / 'airflow' / 'airflow.db'}")
    inst.closeflow(
        "sample", "generate", "--home", str(inst.home), "--start", "2026-01-01",
        "--months", "2", "--days", "33", "--seed", "7",
    )  # fmt: skip
    (root / "airflow").mkdir()
    inst.migrate()
    return {"root": root, "inst": inst} | _prepare_inbox(inst.home)


def _install(template: dict, tmp_path_factory, name: str) -> Installation:
    root = tmp_path_factory.mktemp(name)
    shutil.copytree(template["inst"].home, root / "closeflow", symlinks=True)
    (root / "airflow").mkdir()
    shutil.copy(template["root"] / "airflow" / "airflow.db", root / "airflow" / "airflow.db")
    inst = Installation(root, airflow_db=f"sqlite:///{root / 'airflow' / 'airflow.db'}")
    _specials(inst.home)
    return inst


def _nights(
    inst: Installation, first: dt.date, last: dt.date, *flags: str
) -> subprocess.CompletedProcess:
    return inst.closeflow("airflow", "nights", "--from", str(first), "--to", str(last), *flags)


def _warehouse(inst: Installation) -> Path:
    return inst.home / "warehouse.duckdb"


def _query(inst: Installation, sql: str) -> list[tuple]:
    con = duckdb.connect(str(_warehouse(inst)), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


LEDGER_OF_JANUARY = (
    "raw.journal_lines",
    "raw.close_metrics",
    "analytics.fct_journal_lines",
    "analytics.general_ledger",
    "analytics.trial_balance",
)


@pytest.fixture(scope="module")
def undisturbed(template, crashed, tmp_path_factory) -> dict:
    inst = _install(template, tmp_path_factory, "undisturbed")
    january = _nights(inst, GO_LIVE, dt.date(2026, 1, 31))  # and January's close
    at_close = dump(_warehouse(inst), periods={"2026-01"})
    february = _nights(inst, dt.date(2026, 2, 1), LAST)
    return {
        "inst": inst,
        "state": dump(_warehouse(inst)),
        "january_at_close": {t: at_close[t] for t in LEDGER_OF_JANUARY},
        "out": january.stderr + february.stderr,
    }


# ------------------------------------------------------------------ every file


def _entries(home: Path) -> dict[str, dt.datetime]:
    """Every inbox entry (hidden files, links, pipes) with the time it was dropped."""
    out = {}
    for folder in ("inbox", "bank_inbox"):
        for root, dirs, files in os.walk(home / folder):
            for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
                path = Path(root) / name
                mtime = path.lstat().st_mtime_ns
                out[path.relative_to(home).as_posix()] = dt.datetime.fromtimestamp(
                    mtime // 10**9, dt.UTC
                ) + dt.timedelta(microseconds=mtime % 10**9 // 1000)
    return out


def _manifest(inst: Installation) -> dict[str, tuple]:
    rows = _query(
        inst,
        "SELECT source_uri, received_at, status, reason, run_id, kind FROM raw.file_manifest",
    )
    out: dict[str, tuple] = {}
    for uri, received, status, reason, run_id, kind in rows:
        assert uri not in out, f"{uri} is in the manifest twice"
        out[uri] = (received, status, reason, run_id, kind)
    return out


def test_every_file_of_the_nights_ends_in_exactly_one_state_with_a_reason(undisturbed):
    inst = undisturbed["inst"]
    manifest = _manifest(inst)
    start = _at(GO_LIVE, 0)
    end = _at(LAST + dt.timedelta(days=1), 0)
    expected = {uri for uri, at in _entries(inst.home).items() if start <= at < end}
    assert set(manifest) == expected  # none lost, none taken twice, none from before go-live
    for uri, (_, status, reason, run_id, kind) in manifest.items():
        assert status in ("extracted", "needs_review", "quarantined", "duplicate"), uri
        assert status == "extracted" or reason, uri
        assert kind == ("invoice" if uri.startswith("inbox/") else "bank_statement")
        assert run_id.startswith("ingest:" if kind == "invoice" else "bank:")
        assert "0x" not in (reason or ""), reason  # deterministic: no memory addresses
        assert str(inst.root) not in (reason or ""), reason  # no server paths
    files = _query(inst, "SELECT count(*) FROM raw.file_arrivals")[0][0]
    assert files == len(manifest)


def test_hostile_files_are_quarantined_with_the_reason_and_the_nights_go_on(template, undisturbed):
    manifest = _manifest(undisturbed["inst"])
    f = template["files"]

    def state(key: str) -> tuple[str, str]:
        return manifest[f[key]][1], manifest[f[key]][2] or ""

    assert state("hidden")[0] == "extracted"  # hidden files are read like any other
    for link in ("inbox/passwd.pdf", "inbox/etc", "bank_inbox/statement_link.xml"):
        assert manifest[link][1] == "quarantined"
        assert manifest[link][2].startswith("a symbolic link, not a file: closeflow never")
    assert manifest["inbox/pipe.pdf"][1:3] == (
        "quarantined",
        "a named pipe, not a file: it is never opened (put a regular file into the inbox)",
    )
    archive = undisturbed["inst"].home / "archive"
    assert not any(b"root:x:0:0" in p.read_bytes() for p in archive.rglob("*") if p.is_file())
    assert state("empty")[0] == state("empty_again")[0] == "quarantined"
    assert state("markup_name")[0] == "quarantined"
    status, reason = state("poison")
    assert status == "quarantined" and "is too large for the ledger" in reason
    assert state("encrypted")[0] == "quarantined" and "password" in state("encrypted")[1]
    assert state("bomb")[0] == "quarantined" and "decompression bomb" in state("bomb")[1]
    status, reason = state("pdf_bomb")
    assert status == "quarantined" and "image too large to read safely" in reason
    assert state("truncated_pdf")[0] == "quarantined"
    assert state("truncated")[0] == "quarantined"
    assert state("huge")[0] == "quarantined"
    assert state("unknown")[0] in ("extracted", "needs_review")
    status, reason = state("unknown_again")
    assert status == "duplicate" and reason.startswith("invoice NL-2026-7 of ")
    assert reason.endswith(f"already arrived as {f['unknown']} (received 2026-02-01)")
    assert state("resent") == (
        "duplicate",
        f"same file content as {f['resent_original']} (received 2026-01-30)",
    )
    assert state("camt_copy") == (
        "duplicate",
        f"same file content as {f['camt']} (received 2026-02-02)",
    )
    assert state("gbk")[0] == "extracted"
    names = {
        r[0] for r in _query(undisturbed["inst"], "SELECT counterparty_name FROM raw.bank_lines")
    }
    assert {"上海云帆信息技术有限公司", "中国工商银行"} <= names  # GBK read as GBK
    # the on-call engineer is told which files and why
    alerts = [
        json.loads(line)
        for line in (undisturbed["inst"].home / "alerts" / "quarantined.jsonl").open()
    ]
    named = [uri for a in alerts for uri in a["files"]]
    assert f["poison"] in named and "inbox/passwd.pdf" in named


def test_the_reports_escape_hostile_text_and_mask_accounts(undisturbed):
    daily = undisturbed["inst"].home / "reports" / "daily"
    pages = {p.parent.name: p.read_text() for p in daily.glob("*/reconciliation.html")}
    assert set(pages) == {
        str(GO_LIVE + dt.timedelta(days=i)) for i in range((LAST - GO_LIVE).days + 1)
    }
    for day, html in pages.items():
        for raw in ("<script", "<img", "<b>Evil"):
            assert raw not in html, (day, raw)
        assert str(undisturbed["inst"].root) not in html
        assert CNY_ACCOUNT not in html and "DE89370400440532013000" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in pages[str(GO_LIVE)]
    csvs = "".join(p.read_text() for p in daily.glob("*/reconciliation.csv"))
    assert CNY_ACCOUNT not in csvs and f"****{CNY_ACCOUNT[-4:]}" in csvs


# ------------------------------------------------------------------ closed means closed


def test_the_close_locks_january_and_the_late_invoice_posts_to_february(template, undisturbed):
    inst = undisturbed["inst"]
    locks = _query(inst, "SELECT period, action, acted_by, run_id FROM raw.period_locks")
    assert locks == [("2026-01", "lock", "closeflow month_end_close", "close:2026-01")]
    late = template["late"]
    entries = _query(
        inst,
        f"SELECT DISTINCT period, entry_date, description FROM raw.journal_lines "
        f"WHERE source_type = 'invoice' AND source_id = '{late['sha256']}'",
    )
    assert entries and {(p, d) for p, d, _ in entries} == {("2026-02", dt.date(2026, 2, 1))}
    assert all("(period 2026-01 is closed; posted to 2026-02)" in text for _, _, text in entries)
    # January's ledger, close metrics and marts are what the close saw
    now = dump(_warehouse(inst), periods={"2026-01"})
    assert {t: now[t] for t in LEDGER_OF_JANUARY} == undisturbed["january_at_close"]


def test_the_close_waited_for_every_night_since_go_live(undisturbed):
    inst = undisturbed["inst"]
    nights = _query(
        inst,
        "SELECT window_start FROM raw.step_runs WHERE step = 'report' AND status = 'success' "
        "AND window_start < DATE '2026-02-01' ORDER BY 1",
    )
    assert [d for (d,) in nights] == [dt.date(2026, 1, d) for d in range(29, 32)]
    # nothing from before go-live was taken
    assert _query(inst, "SELECT min(received_at) FROM raw.file_manifest")[0][0] >= _at(GO_LIVE, 0)


# ------------------------------------------------------------------ re-runs


def test_rerunning_nights_with_an_empty_inbox_and_after_later_ones_changes_nothing(
    template, undisturbed
):
    """An operator cleans the inboxes; the last night (with the re-sent copy of an
    invoice of another night), then the night before it, are run again: they read the
    archive, and the warehouse is exactly as it was."""
    inst = undisturbed["inst"]
    moved = inst.root / "cleaned"
    moved.mkdir()
    for folder in ("inbox", "bank_inbox"):
        shutil.move(inst.home / folder, moved / folder)
        (inst.home / folder).mkdir()
    _nights(inst, LAST, LAST)
    _nights(inst, LAST - dt.timedelta(days=1), LAST - dt.timedelta(days=1))
    assert differences(undisturbed["state"], dump(_warehouse(inst))) == {}
    original = template["files"]["resent_original"]
    assert _manifest(inst)[original][1] == "extracted"  # the original is still there


def test_rerunning_a_closed_night_leaves_its_period_as_it_is_and_says_so(undisturbed):
    inst = undisturbed["inst"]
    before = dump(_warehouse(inst))
    out = _nights(inst, dt.date(2026, 1, 30), dt.date(2026, 1, 30), "--no-close")
    assert differences(before, dump(_warehouse(inst))) == {}
    assert "2026-01-30: period 2026-01 is locked (closed by closeflow month_end_close" in (
        out.stderr.replace("\n", " ")
    )
    steps = _query(
        inst,
        "SELECT step, status FROM raw.step_runs WHERE window_start = DATE '2026-01-30' "
        "AND step IN ('ingest', 'bank', 'post', 'reconcile') ORDER BY step",
    )
    assert steps == [(s, "skipped") for s in ("bank", "ingest", "post", "reconcile")]


# ------------------------------------------------------------------ crashes and a second run


KILLS = [  # where the run is killed, and the night it is started again from
    ("intake:ingest:2026-01-29", GO_LIVE),
    ("post:2026-01-30", dt.date(2026, 1, 30)),
    ("marts:2026-01-31", dt.date(2026, 1, 31)),  # while this run goes, others are refused
    ("lock:2026-01", dt.date(2026, 1, 31)),
    ("bank:2026-02-02", LAST),
]


def _holding(inst: Installation, pid: int) -> bool:
    """Whether process `pid` holds the warehouse's run lock (its lock file names it; a
    holder killed earlier may have left its own name behind)."""
    lock = Path(str(_warehouse(inst)) + ".lock")
    try:
        return json.loads(lock.read_text() or "{}").get("pid") == pid
    except (OSError, ValueError):
        return False


def _start_nights(inst: Installation, first: dt.date, **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(VENV_BIN / "closeflow"), "airflow", "nights", "--from", str(first), "--to",
         str(LAST)],
        env=inst.env(**env), cwd=inst.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _crash_and_recover(inst: Installation, outcome: dict) -> None:
    """Run the nights, killed at each point in turn and started again from the night it
    died in; then to the end, undisturbed."""
    try:
        start = GO_LIVE
        for point, restart in KILLS:
            runner = _start_nights(inst, start, CLOSEFLOW_KILL_AT=point)
            if point.startswith("marts:"):
                _others_are_refused_while(inst, runner, start)
            _, err = runner.communicate(timeout=900)
            assert runner.returncode == -9, (point, err[-3000:])
            start = restart
        _nights(inst, start, LAST)
        outcome["state"] = dump(_warehouse(inst))
    except BaseException as exc:  # re-raised by the test that waits for it
        outcome["error"] = exc


@pytest.fixture(scope="module")
def crashed(template, tmp_path_factory):
    """The crashed installation's runs, on a thread beside the undisturbed ones (each is
    mostly one process on one core)."""
    inst = _install(template, tmp_path_factory, "crashed")
    outcome: dict = {}
    thread = threading.Thread(target=_crash_and_recover, args=(inst, outcome), daemon=True)
    thread.start()
    yield {"inst": inst, "thread": thread, "outcome": outcome}
    thread.join()


def test_kill_9_at_five_points_then_rerun_gives_the_undisturbed_books(crashed, undisturbed):
    crashed["thread"].join(timeout=1800)
    assert not crashed["thread"].is_alive()
    if "error" in crashed["outcome"]:
        raise crashed["outcome"]["error"]
    assert differences(undisturbed["state"], crashed["outcome"]["state"]) == {}


def _others_are_refused_while(inst: Installation, runner: subprocess.Popen, start: dt.date):
    """While `runner` holds the warehouse, a second run, a manual night and a reopen are
    each refused at once, naming the holder."""
    deadline = time.monotonic() + 120
    while not _holding(inst, runner.pid):
        assert runner.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    holder = f"closeflow airflow nights {start}..{LAST} (pid {runner.pid}"
    for args in (
        ("airflow", "nights", "--from", str(GO_LIVE), "--to", str(LAST)),
        ("run", "--date", "2026-01-30"),
        ("period", "reopen", "2026-01", "--by", "m.kraus", "--reason", "x"),
    ):
        got = inst.closeflow(*args, check=False)
        assert got.returncode == 3, (args, got.stderr)
        assert f"the warehouse is being written by {holder}" in got.stderr
