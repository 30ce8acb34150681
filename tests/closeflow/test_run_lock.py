"""One writer at a time: a second writer is refused with who holds the warehouse, waits
when told to, and a holder killed with kill -9 leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from closeflow import run_lock
from closeflow.warehouse import Warehouse

HOLDER = textwrap.dedent(
    """
    import sys, time
    from closeflow import run_lock
    from closeflow.warehouse import Warehouse

    with run_lock.hold(Warehouse(sys.argv[1]), "closeflow airflow nights 2026-01-01..2026-01-31"):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


@pytest.fixture(params=["duckdb", "postgresql"])
def url(tmp_path, request):
    if request.param == "postgresql":
        return request.getfixturevalue("pg_url")
    return f"duckdb:///{tmp_path / 'warehouse.duckdb'}"


def _holder(url: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url, str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_second_writer_is_told_who_holds_the_warehouse(url):
    proc = _holder(url, 60)
    try:
        with pytest.raises(run_lock.WarehouseBusy) as err:
            with run_lock.hold(Warehouse(url), "post 2026-01-05"):
                pytest.fail("two writers at once")
        message = str(err.value)
        assert "the warehouse is being written by closeflow airflow nights" in message
        assert f"pid {proc.pid}" in message
        assert message.endswith(
            "post 2026-01-05 waits for it to finish (runs that write the warehouse go one "
            "at a time)"
        )
    finally:
        proc.kill()
        proc.wait()


def test_kill_9_of_the_holder_leaves_no_lock_behind(url):
    proc = _holder(url, 60)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10  # PostgreSQL notices the closed connection
    while True:
        try:
            with run_lock.hold(Warehouse(url), "post 2026-01-05"):
                break
        except run_lock.WarehouseBusy:
            assert time.monotonic() < deadline, "the lock outlived its holder"
            time.sleep(0.2)


def test_a_writer_told_to_wait_gets_the_lock_when_the_holder_ends(url):
    proc = _holder(url, 1.5)
    started = time.monotonic()
    with run_lock.hold(Warehouse(url), "post 2026-01-05", wait=30):
        waited = time.monotonic() - started
    proc.wait()
    assert 0.5 < waited < 30


def test_the_lock_is_reentrant_inside_one_process(url):
    wh = Warehouse(url)
    with run_lock.hold(wh, "closeflow run --date 2026-01-05"):
        assert run_lock.is_held_here(wh)
        with run_lock.hold(wh, "post 2026-01-05"):  # a step inside the run
            pass
        assert run_lock.is_held_here(wh)
        proc = subprocess.run(  # another process is still refused
            [sys.executable, "-c", HOLDER, url, "0"], capture_output=True, text=True
        )
        assert proc.returncode != 0 and "WarehouseBusy" in proc.stderr
    assert not run_lock.is_held_here(wh)
