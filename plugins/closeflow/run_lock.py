"""One writer at a time: the warehouse's run lock.

Everything that writes the warehouse holds this lock while it writes: each nightly step,
dbt, the close, a correction, and a whole `closeflow airflow nights` or `closeflow run`
(so two of them never interleave their nights). A second writer is refused with who
holds the lock and since when, or waits for it when told to (`wait` seconds: Airflow
tasks wait, then fail and retry; a person at the command line is told at once).

- DuckDB: an exclusive `flock` on `<warehouse file>.lock`, with the holder written in it.
- PostgreSQL: a session advisory lock on a connection of its own, named after the holder
  (`application_name`), so the refusal can say who holds it.

The operating system or the server releases both when the holder dies, kill -9
included: a crash never leaves the warehouse locked. The lock is re-entrant inside one
process (a command holding it runs steps that take it again).
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from closeflow.warehouse import Warehouse


class WarehouseBusy(RuntimeError):
    """Another run is writing the warehouse."""


@dataclass
class _Held:
    count: int
    release: object  # () -> None


_HELD: dict[str, _Held] = {}
_MUTEX = threading.RLock()


def _holder(what: str) -> dict:
    return {
        "what": what,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200],
    }


def _busy(what: str, holder: dict | None) -> WarehouseBusy:
    if holder:
        who = (
            f"{holder.get('what') or 'another run'} (pid {holder.get('pid')} on "
            f"{holder.get('host')}, since {holder.get('since')})"
        )
    else:
        who = "another run"
    return WarehouseBusy(
        f"the warehouse is being written by {who}: {what} waits for it to finish "
        "(runs that write the warehouse go one at a time)"
    )


class _FileLock:
    """flock on a file beside the DuckDB warehouse."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def try_acquire(self, holder: dict):  # noqa: ANN201
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)

        def release() -> None:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

        return release

    def holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text() or "null")
        except (OSError, ValueError):
            return None


class _AdvisoryLock:
    """A PostgreSQL session advisory lock on a connection of its own."""

    def __init__(self, url: str, schema: str) -> None:
        self.dsn = url.replace("postgresql+psycopg2://", "postgresql://", 1)
        digest = hashlib.sha256(f"closeflow warehouse {schema}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)

    def try_acquire(self, holder: dict):  # noqa: ANN201
        import psycopg2

        # what the refusal names: the holder's process and what it is doing (63 bytes)
        name = f"closeflow[{holder['pid']}] {holder['what']}"[:63]
        con = psycopg2.connect(self.dsn, application_name=name)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("SELECT pg_try_advisory_lock(%s)", (self.key,))
            (got,) = cur.fetchone()
        if not got:
            con.close()
            return None

        def release() -> None:
            try:
                with con.cursor() as cur:
                    cur.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            finally:
                con.close()

        return release

    def holder(self) -> dict | None:
        import psycopg2

        hi, lo = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        with psycopg2.connect(self.dsn) as con, con.cursor() as cur:
            cur.execute(
                "SELECT a.application_name, a.client_addr::text, a.backend_start "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s "
                "AND l.objid::bigint = %s AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                (hi, lo),
            )
            row = cur.fetchone()
        con.close()
        if row is None:
            return None
        name, addr, since = row
        found = re.fullmatch(r"closeflow\[(\d+)\] (.*)", name or "", re.S)
        return {
            "what": found.group(2) if found else (name or "another session"),
            "pid": found.group(1) if found else "?",
            "host": (addr or "a local socket").removesuffix("/32"),
            "since": since.isoformat(timespec="seconds") if since else "?",
        }


def _lock_for(warehouse: Warehouse):  # noqa: ANN202
    if warehouse.dialect == "duckdb":
        return _FileLock(warehouse.path.with_name(warehouse.path.name + ".lock"))
    return _AdvisoryLock(warehouse.url, warehouse.schema)


def _key(warehouse: Warehouse) -> str:
    return f"{warehouse.url}#{warehouse.schema}"


@contextmanager
def hold(warehouse: Warehouse, what: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's run lock for the block, as `what` (said to anyone refused).

    Waits up to `wait` seconds for another holder, then raises WarehouseBusy naming it."""
    key = _key(warehouse)
    with _MUTEX:
        held = _HELD.get(key)
        if held is not None:
            held.count += 1
    if held is not None:
        try:
            yield
        finally:
            with _MUTEX:
                held.count -= 1
        return
    lock = _lock_for(warehouse)
    holder = _holder(what)
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        release = lock.try_acquire(holder)
        if release is not None:
            break
        if time.monotonic() >= deadline:
            raise _busy(what, lock.holder())
        time.sleep(min(1.0, max(0.05, deadline - time.monotonic())))
    with _MUTEX:
        _HELD[key] = held = _Held(1, release)
    try:
        yield
    finally:
        with _MUTEX:
            held.count -= 1
            done = held.count == 0
            if done:
                del _HELD[key]
        if done:
            release()


def is_held_here(warehouse: Warehouse) -> bool:
    """Whether this process holds the warehouse's run lock."""
    with _MUTEX:
        return _key(warehouse) in _HELD
