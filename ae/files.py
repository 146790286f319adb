"""Writing files so that a reader sees the old file or the whole new one, never half, and telling a leftover of a
killed writer from a write in progress (the temp name carries the writer's host and pid)."""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def json_default(obj: Any) -> Any:
    """`json.dumps(..., default=json_default)`: numpy and torch scalars and arrays as plain numbers and lists."""
    if hasattr(obj, "item") and getattr(obj, "ndim", 0) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def host() -> str:
    """This host, as 8 hex digits (a hostname may hold dots, which would confuse the temp name's fields)."""
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def owner_tag() -> str:
    return f"{host()}-{os.getpid()}"


def owner_gone(tag: str) -> bool:
    """A temp file whose writer ran on this host and has exited is stale; others' we only age out."""
    theirs, _, pid = tag.partition("-")
    if theirs != host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def atomic_write(path: Path, write: Callable[[str], Any]) -> None:
    """Call write(tmp) on a temporary file beside `path`, then rename it into place: readers see the old file or
    the whole new one. The temp name carries host and pid, so `clean_stale` can tell a leftover from a save in
    progress."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{owner_tag()}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; a model is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
