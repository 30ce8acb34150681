"""What a window received: archived by content, recorded once, read from the archive on
every re-run; hidden files taken, links and devices refused unopened, late drops taken by
the next window that runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest

from closeflow.intake import INVOICE, receive, recorded
from closeflow.runtime import Runtime, Window
from closeflow.steps import mark_running

TZ = "Europe/Berlin"
MON, TUE, WED = dt.date(2026, 1, 5), dt.date(2026, 1, 6), dt.date(2026, 1, 7)


@pytest.fixture
def rt(tmp_path) -> Runtime:
    company = tmp_path / "company"
    company.mkdir()
    (company / "company.yml").write_text('name: "Test GmbH"\n')
    (company / "chart_of_accounts.yml").write_text("accounts: []\n")
    (company / "suppliers.yml").write_text("suppliers: []\n")
    rt = Runtime(home=tmp_path, warehouse_url=f"duckdb:///{tmp_path / 'wh.duckdb'}")
    rt.inbox.mkdir()
    yield rt
    rt.warehouse.dispose()


def _at(day: dt.date, hour: int = 10) -> float:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC).timestamp()


def _drop(rt: Runtime, name: str, content: bytes, day: dt.date, hour: int = 10) -> Path:
    path = rt.inbox / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    os.utime(path, (_at(day, hour), _at(day, hour)))
    return path


def _receive(rt: Runtime, day: dt.date):
    window = Window.day(day, TZ)
    with rt.warehouse.connected():
        mark_running(rt, "ingest", window)  # the window runs, as the ingest's scan does
        return receive(rt, INVOICE, window)


def test_files_are_archived_by_content_and_a_rerun_reads_the_archive(rt):
    _drop(rt, "a.pdf", b"%PDF invoice a", MON, 9)
    _drop(rt, "sub/b.PDF", b"%PDF invoice b", MON, 11)
    _drop(rt, "c.pdf", b"%PDF invoice c", TUE)  # the next window's
    got = _receive(rt, MON)
    assert [a.source_uri for a in got] == ["inbox/a.pdf", "inbox/sub/b.PDF"]
    sha = hashlib.sha256(b"%PDF invoice b").hexdigest()
    assert got[1].file_sha256 == sha
    assert got[1].archive_uri == f"archive/{sha[:2]}/{sha}.pdf"
    assert (rt.home / got[1].archive_uri).read_bytes() == b"%PDF invoice b"
    # the operator empties the inbox, then a file of the window is changed: the re-run
    # reads what the window received, from the archive
    (rt.inbox / "sub" / "b.PDF").unlink()
    _drop(rt, "a.pdf", b"%PDF something else", MON, 9)
    assert _receive(rt, MON) == got
    assert recorded(rt, INVOICE, Window.day(MON, TZ)) == got


def test_hidden_files_are_taken_and_links_and_pipes_refused_unopened(rt, tmp_path):
    _drop(rt, ".invoice.pdf", b"%PDF hidden", MON, 9)
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0")
    link = rt.inbox / "passwd.pdf"
    link.symlink_to(secret)
    os.utime(link, (_at(MON, 10), _at(MON, 10)), follow_symlinks=False)
    folder_link = rt.inbox / "elsewhere"
    folder_link.symlink_to(tmp_path / "company")
    os.utime(folder_link, (_at(MON, 11), _at(MON, 11)), follow_symlinks=False)
    fifo = rt.inbox / "pipe.pdf"
    os.mkfifo(fifo)
    os.utime(fifo, (_at(MON, 12), _at(MON, 12)))
    got = {a.source_uri: a for a in _receive(rt, MON)}
    assert set(got) == {
        "inbox/.invoice.pdf",
        "inbox/passwd.pdf",
        "inbox/elsewhere",
        "inbox/pipe.pdf",
    }
    assert got["inbox/.invoice.pdf"].refusal is None
    for uri in ("inbox/passwd.pdf", "inbox/elsewhere"):
        assert got[uri].refusal.startswith("a symbolic link, not a file: closeflow never follows")
        assert got[uri].archive_uri is None and got[uri].size_bytes == 0
    assert got["inbox/passwd.pdf"].received_at == dt.datetime.fromtimestamp(_at(MON, 10), dt.UTC)
    assert got["inbox/pipe.pdf"].refusal.startswith("a named pipe, not a file: it is never opened")
    archived = [p.read_bytes() for p in (rt.home / "archive").rglob("*") if p.is_file()]
    assert archived == [b"%PDF hidden"]  # the link's target was never read
    # refusals are deterministic: a re-run records the same
    assert {a.source_uri: a for a in _receive(rt, MON)} == got


def test_a_late_drop_into_a_window_that_ran_is_taken_by_the_next_window(rt):
    _drop(rt, "a.pdf", b"a", MON)
    assert len(_receive(rt, MON)) == 1
    # dropped on Wednesday with Monday's time (a copy that kept its time): Monday ran
    _drop(rt, "late.pdf", b"late", MON, 15)
    # ... and one with Tuesday's time, before Tuesday ran: it is Tuesday's
    _drop(rt, "tue.pdf", b"tue", TUE)
    got = _receive(rt, WED)
    assert [a.source_uri for a in got] == ["inbox/late.pdf"]
    assert [a.source_uri for a in _receive(rt, TUE)] == ["inbox/tue.pdf"]
    assert [a.source_uri for a in _receive(rt, MON)] == ["inbox/a.pdf"]  # not taken twice
    assert [a.source_uri for a in _receive(rt, WED)] == ["inbox/late.pdf"]


def test_the_same_name_dropped_again_is_a_new_arrival_of_its_own_window(rt):
    _drop(rt, "invoice.pdf", b"first", MON)
    _receive(rt, MON)
    _drop(rt, "invoice.pdf", b"first", WED)  # re-sent with the same name and bytes
    (again,) = _receive(rt, WED)
    (first,) = recorded(rt, INVOICE, Window.day(MON, TZ))
    assert again.source_uri == first.source_uri and again.file_sha256 == first.file_sha256
    assert again.received_at > first.received_at
