"""Child processes that never outlive us: started in a process group of their own, stopped group by group.

The Dask cluster the app starts, the classroom's apps and workers, and the servers that tests and benches start all
go through `start` and `stop`: a terminal's Ctrl-C reaches only the parent (which stops its children in order), a
Dask nanny's worker is stopped with its nanny (same group), and on Linux a child gets SIGTERM when its parent dies
without cleaning up (kill -9), so no orphan keeps a port. Imports nothing heavy.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: children run here, with `ae` and `ui` importable


def _die_with_parent() -> None:
    """Runs in the child before exec (Linux): SIGTERM when the thread that started it ends."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def start(argv: list[str], log: Path, env: Mapping[str, str] | None = None, cwd: Path = ROOT,
          die_with_parent: bool = True, inherit: bool = True) -> subprocess.Popen:
    """Start argv in its own process group, output appended to `log`; `env` is added to ours (inherit=False: it is
    the child's whole environment)."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            argv, cwd=cwd, env={**(os.environ if inherit else {}), **(env or {})}, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent if die_with_parent and sys.platform.startswith("linux") else None,
        )


def group_alive(proc: subprocess.Popen) -> bool:
    proc.poll()  # reap the leader, or a zombie counts as alive
    try:
        os.killpg(proc.pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def stop(procs: Mapping[str, subprocess.Popen], timeout: float = 10.0) -> list[str]:
    """SIGTERM every child's process group, in the order given; SIGKILL the groups still there after `timeout`
    seconds. Returns the names that had to be killed."""
    for proc in procs.values():
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(group_alive(p) for p in procs.values()):
        time.sleep(0.1)
    killed = [name for name, p in procs.items() if group_alive(p)]
    for name in killed:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(procs[name].pid, signal.SIGKILL)
    for proc in procs.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)
    return killed
