"""What a window received: its inbox entries, archived by content and recorded once.

The first run of a window takes the entries dropped into the inbox during the window
(their modification time, as the mail or scanner integration that dropped them set it),
copies each file into the archive by content (`archive/<sha[:2]>/<sha><ext>`) and records
it in raw.file_arrivals. Every later run of the window reads that record and the
archive, never the inbox: files moved, deleted or changed in the inbox afterwards change
nothing, and a re-run reads exactly the same bytes.

Nothing is lost and nothing is taken twice:
- a file dropped late with an old modification time, into a window that already ran,
  is taken by the next window that runs (a late arrival), never left behind;
- an entry is one drop: its path and modification time. The same path dropped again
  with a new time (a re-sent copy) is a new arrival of its own window;
- hidden files are taken like any other;
- a symbolic link is never followed and anything that is not a regular file (a pipe, a
  device, a socket) is never opened: both are recorded as refused, with the reason, and
  end quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from closeflow.failpoints import failpoint
from closeflow.runtime import Runtime, Window

log = logging.getLogger(__name__)

INVOICE, BANK_STATEMENT = "invoice", "bank_statement"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Arrival:
    """One inbox entry a window received."""

    kind: str  # invoice | bank_statement
    source_uri: str  # where it was dropped, relative to CLOSEFLOW_HOME (inbox/a.pdf)
    file_sha256: str
    size_bytes: int
    received_at: dt.datetime
    archive_uri: str | None  # relative to CLOSEFLOW_HOME; None when refused
    refusal: str | None = None  # why it was not taken (a link, a device)

    @property
    def name(self) -> str:
        return Path(self.source_uri).name

    def archive_path(self, home: Path) -> Path | None:
        return None if self.archive_uri is None else home / self.archive_uri

    def identity(self) -> tuple[str, dt.datetime]:
        return self.source_uri, self.received_at


def _folder(rt: Runtime, kind: str) -> Path:
    return rt.inbox if kind == INVOICE else rt.bank_inbox


def intake_key(kind: str, window: Window) -> str:
    """The run key a window's arrivals are recorded under: ingest:… or bank:…."""
    return window.run_key("ingest" if kind == INVOICE else "bank")


def _entries(folder: Path) -> list[tuple[Path, os.stat_result]]:
    """Every entry under `folder` but directories, with its own lstat (links are not
    followed, so a link to a directory is an entry, not a folder to walk)."""
    out = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root)
        for name in sorted(files):
            path = base / name
            out.append((path, path.lstat()))
        for name in list(dirs):
            if (base / name).is_symlink():
                out.append((base / name, (base / name).lstat()))
    return out


def _received(st: os.stat_result) -> dt.datetime:
    # whole microseconds, as the warehouse keeps them, so a recorded drop compares equal
    seconds, ns = divmod(st.st_mtime_ns, 10**9)
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC) + dt.timedelta(microseconds=ns // 1000)


def _day(ts: dt.datetime, tz: str) -> dt.date:
    return ts.astimezone(ZoneInfo(tz)).date()


def _refused(kind: str, uri: str, st: os.stat_result, received: dt.datetime, why: str) -> Arrival:
    digest = hashlib.sha256(f"refused\0{uri}\0{received.isoformat()}".encode()).hexdigest()
    return Arrival(kind, uri, digest, 0, received, None, why)


def _archive(rt: Runtime, kind: str, path: Path, uri: str, received: dt.datetime) -> Arrival:
    """Copy the regular file at `path` into the archive by content, without following a
    link that replaced it meanwhile; return its arrival."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return _refused(kind, uri, os.lstat(path), received, _unreadable(exc))
    with os.fdopen(fd, "rb") as src:
        st = os.fstat(src.fileno())
        if not stat.S_ISREG(st.st_mode):
            return _refused(kind, uri, st, received, _not_a_file(st))
        rt.archive.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=rt.archive, prefix=".incoming-", delete=False) as tmp:
            try:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    tmp.write(chunk)
                    size += len(chunk)
            except OSError as exc:
                os.unlink(tmp.name)
                return _refused(kind, uri, st, received, _unreadable(exc))
    sha = digest.hexdigest()
    rel = Path("archive") / sha[:2] / (sha + Path(uri).suffix.lower())
    dest = rt.home / rel
    if dest.exists():
        os.unlink(tmp.name)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp.name, 0o444)
        os.replace(tmp.name, dest)
    return Arrival(kind, uri, sha, size, received, rel.as_posix())


def _unreadable(exc: OSError) -> str:
    return f"the file could not be read ({os.strerror(exc.errno) if exc.errno else 'error'})"


def _not_a_file(st: os.stat_result) -> str:
    if stat.S_ISLNK(st.st_mode):
        return (
            "a symbolic link, not a file: closeflow never follows links "
            "(put the file itself into the inbox)"
        )
    what = (
        "a named pipe"
        if stat.S_ISFIFO(st.st_mode)
        else "a socket"
        if stat.S_ISSOCK(st.st_mode)
        else "a device"
        if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
        else "not a regular file"
    )
    return f"{what}, not a file: it is never opened (put a regular file into the inbox)"


def recorded(rt: Runtime, kind: str, window: Window) -> list[Arrival]:
    """The arrivals recorded for `window`, in the order they were received."""
    rows = rt.warehouse.read_table(
        "file_arrivals",
        "run_id = :r ORDER BY received_at, source_uri",
        {"r": intake_key(kind, window)},
    ).to_pylist()
    return [
        Arrival(
            r["kind"],
            r["source_uri"],
            r["file_sha256"],
            r["size_bytes"],
            r["received_at"],
            r["archive_uri"],
            r["refusal"],
        )
        for r in rows
    ]


def _windows_that_ran(rt: Runtime, step: str) -> set[dt.date]:
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"SELECT DISTINCT window_start FROM {raw}.step_runs WHERE step = :s "
        f"AND window_end = window_start + 1",
        {"s": step},
    ).to_pylist()
    return {r["window_start"] for r in rows}


def _identities_elsewhere(rt: Runtime, kind: str, key: str) -> set[tuple[str, dt.datetime]]:
    raw = rt.warehouse.schema
    rows = rt.warehouse.query(
        f"SELECT source_uri, received_at FROM {raw}.file_arrivals WHERE kind = :k AND run_id <> :r",
        {"k": kind, "r": key},
    ).to_pylist()
    return {(r["source_uri"], r["received_at"]) for r in rows}


def receive(rt: Runtime, kind: str, window: Window) -> list[Arrival]:
    """The window's arrivals: those recorded by an earlier run of it, and the inbox
    entries of the window (and late ones) not recorded yet, archived and recorded now.
    Call it holding the warehouse's run lock."""
    key = intake_key(kind, window)
    have = recorded(rt, kind, window)
    known = {a.identity() for a in have}
    folder = _folder(rt, kind)
    if not folder.exists():
        return have
    tz = window.tz
    step = "ingest" if kind == INVOICE else "bank"
    ran: set[dt.date] | None = None
    elsewhere: set[tuple[str, dt.datetime]] | None = None
    new: list[Arrival] = []
    for path, st in _entries(folder):
        received = _received(st)
        uri = path.relative_to(rt.home).as_posix()
        if (uri, received) in known:
            continue
        if received >= window.end_utc:
            continue  # a later window's
        elsewhere = _identities_elsewhere(rt, kind, key) if elsewhere is None else elsewhere
        if (uri, received) in elsewhere:
            continue  # taken by another window already (a late drop, say)
        if received < window.start_utc:
            # late: dropped into a window that already ran, and taken by none
            ran = _windows_that_ran(rt, step) if ran is None else ran
            if _day(received, tz) not in ran:
                continue  # its own window has not run yet: it is that window's
            log.warning("%s arrived late (received %s): taken by %s", uri, received, key)
        if stat.S_ISREG(st.st_mode):
            new.append(_archive(rt, kind, path, uri, received))
        else:
            new.append(_refused(kind, uri, st, received, _not_a_file(st)))
    if new:
        now = dt.datetime.now(dt.UTC)
        rows = [a.__dict__ | {"run_id": key, "recorded_at": now} for a in new]
        with rt.warehouse.transaction() as t:
            t.insert("file_arrivals", rows)
            failpoint(f"intake:{key}")
        log.info("%s: %d new arrivals recorded and archived", key, len(new))
    return sorted(have + new, key=lambda a: (a.received_at, a.source_uri))
