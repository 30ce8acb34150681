"""Named points where a reliability test kills the process, as kill -9 would.

`failpoint("post:2026-01-28")` does nothing unless CLOSEFLOW_KILL_AT names that point
(one name, or several separated by commas); then the process is killed with SIGKILL on
the spot: no cleanup, no finally blocks, uncommitted transactions left to the database's
recovery. The steps call it just before they commit, where a crash costs the most, so
the tests can prove that a re-run after a crash at any of them gives the same books as
a run that was never disturbed. Inert in production (the variable is not set).
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    wanted = os.environ.get("CLOSEFLOW_KILL_AT")
    if wanted and name in wanted.split(","):
        os.kill(os.getpid(), signal.SIGKILL)
