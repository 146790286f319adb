"""What the teacher says to the whole class (follow me, pause, the view to show), carried to every app process
through the Dask scheduler the app already uses for training.

Why this shape: a classroom runs several Streamlit processes behind HAProxy and a session lives in one of them, so the
teacher's tab and a student's tab are often in different processes. The scheduler is already shared by all of them:
a message goes out as a Dask event on one topic (`Client.log_event`), the scheduler pushes it to every subscribed
client at once (no polling), and it keeps the topic's recent events, so a process that starts mid-lesson reads where
the class is (its last 1,000 events: distributed.admin.low-level-log-length; a flood of drawings can push an old
"mode" out of that history, which only matters to a process started after it). Each process keeps the latest
message of each kind; sessions read that copy, which costs nothing.
Without a cluster (it failed to start) the messages still reach the sessions of the publishing process.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

TOPIC = "latent-lab-class"
MAX_KINDS = 500  # kinds kept per process: the class's modes plus one slot per student, for a few classes


@dataclass(frozen=True)
class Message:
    """One thing the teacher said: its `kind` ("mode", "view", ...), a plain dict `body`, and an id and time that order
    it (the newest of a kind wins; every app of a classroom runs on one machine, so one clock)."""

    kind: str
    body: dict
    id: str
    t: float

    def newer_than(self, other: Message | None) -> bool:
        return other is None or (self.t, self.id) > (other.t, other.id)


class ClassChannel:
    """This process's end of the class's channel: publish, and the latest message of each kind."""

    def __init__(self, client: Callable[[], Any]) -> None:
        """`client()` waits for and returns this process's Dask client, or None when there is none."""
        self._latest: dict[str, Message] = {}
        self._lock = threading.Lock()
        self._news = threading.Condition(self._lock)  # notified on every message kept: `wait` wakes at once
        self._version = 0  # how many messages this process has kept
        self._client = None
        threading.Thread(target=self._subscribe, args=(client,), name="latent-lab-class", daemon=True).start()

    def _subscribe(self, client: Callable[[], Any]) -> None:
        try:
            c = client()
            if c is None:
                return
            c.subscribe_topic(TOPIC, lambda event: self._take(event[1]))
            for _, raw in c.get_events(TOPIC):  # what was said before this process started
                self._take(raw)
            self._client = c
        except Exception:  # no cluster: this process's sessions still hear its own teacher
            return

    def _take(self, raw: Any) -> None:
        try:
            msg = Message(kind=str(raw["kind"]), body=dict(raw["body"]), id=str(raw["id"]), t=float(raw["t"]))
        except (KeyError, TypeError, ValueError):
            return  # not ours
        with self._lock:
            if msg.newer_than(self._latest.get(msg.kind)):
                self._latest[msg.kind] = msg
                self._version += 1
                self._news.notify_all()
            if len(self._latest) > MAX_KINDS:  # a long day of classes: the oldest per-student slots go
                for old in sorted(self._latest.values(), key=lambda m: m.t)[: len(self._latest) - MAX_KINDS]:
                    del self._latest[old.kind]

    def publish(self, kind: str, body: dict) -> Message:
        """Say `body` to the class: at once to this process, through the scheduler to the others."""
        raw = {"kind": kind, "body": body, "id": uuid.uuid4().hex[:12], "t": time.time()}
        self._take(raw)
        if self._client is not None:  # handed to the client's event loop: a page's run never waits on the scheduler
            client = self._client
            try:
                client.loop.add_callback(functools.partial(client.scheduler.log_event, topic=TOPIC, msg=raw))
            except Exception:
                pass  # the client is closing; this process's sessions have it already
        return self._latest[kind]

    def latest(self, kind: str) -> Message | None:
        return self._latest.get(kind)

    @property
    def version(self) -> int:
        """Grows with every message this process keeps: read it, look at what you need, then `wait` on it."""
        return self._version

    def wait(self, version: int, timeout: float) -> bool:
        """Until a message newer than `version` is kept or `timeout` seconds pass; whether one was. A tab that only
        looked every so often would see the teacher's move up to that long after it came."""
        with self._news:
            return self._news.wait_for(lambda: self._version != version, timeout)

    def each(self, prefix: str, since: float = 0.0) -> list[Message]:
        """The latest message of every kind that starts with `prefix` (one slot per student, say "drawing:<id>"),
        said after `since`, oldest first."""
        with self._lock:
            found = [m for k, m in self._latest.items() if k.startswith(prefix) and m.t > since]
        return sorted(found, key=lambda m: (m.t, m.id))

    @property
    def shared(self) -> bool:
        """Whether messages reach the other app processes (a cluster is connected)."""
        return self._client is not None
