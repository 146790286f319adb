"""The teacher's passcode (issue 20's first step): set when the server starts, asked once per browser tab, compared in
constant time, and rate-limited so that a class of thirty cannot guess it during a lesson.

No passcode set (`make run` without TEACHER=..., no LATENT_LAB_TEACHER_PASSCODE): no teacher mode, and nothing of it
is drawn. Being the teacher is a flag in the tab's own session state that only a right passcode sets; no link,
query parameter or cookie can set it. The limits hold per app process (a classroom's apps each count their own)."""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import streamlit as st

from ae import settings

WINDOW_S = 300.0  # wrong passcodes are counted over this many seconds
TRIES_PER_BROWSER = 5  # wrong passcodes one browser may enter in the window
TRIES_PER_PROCESS = 30  # and all browsers together (a student who clears cookies is a new browser)
UNLOCKED = "_teacher_unlocked"
UNLOCKED_TEXT = "Teacher controls are on in this tab."


@dataclass
class Gate:
    """Checks passcodes and remembers the wrong ones (per browser and in all) for WINDOW_S seconds."""

    passcode: str
    clock: Callable[[], float] = time.monotonic
    _wrong: dict[str, deque[float]] = field(default_factory=dict)
    _all: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _forget_old(self, now: float) -> None:
        for times in (*self._wrong.values(), self._all):
            while times and times[0] <= now - WINDOW_S:
                times.popleft()
        for who in [w for w, times in self._wrong.items() if not times]:  # a long lesson keeps no empty rows
            del self._wrong[who]

    def wait_s(self, who: str) -> float:
        """Seconds until `who` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            self._forget_old(now)
            full = [t for t, limit in ((self._wrong.get(who, deque()), TRIES_PER_BROWSER),
                                       (self._all, TRIES_PER_PROCESS)) if len(t) >= limit]
            return max((t[0] + WINDOW_S - now for t in full), default=0.0)

    def try_passcode(self, who: str, attempt: str) -> tuple[bool, str]:
        """(unlocked, what to tell the person). A browser over its limit is refused before the passcode is read."""
        wait = self.wait_s(who)
        if wait > 0:
            return False, f"Too many wrong passcodes: try again in {wait:.0f} s."
        if hmac.compare_digest(attempt.encode(), self.passcode.encode()):
            return True, UNLOCKED_TEXT
        with self._lock:
            now = self.clock()
            self._wrong.setdefault(who, deque()).append(now)
            self._all.append(now)
            left = TRIES_PER_BROWSER - len(self._wrong[who])
        return False, f"That is not the passcode ({left} more {'try' if left == 1 else 'tries'} before a pause)."


def enabled() -> bool:
    return settings.teacher_passcode() is not None


def is_teacher() -> bool:
    """Whether this tab unlocked the teacher controls (never true without a passcode set)."""
    return enabled() and bool(st.session_state.get(UNLOCKED))


def unlock(who: str, attempt: str) -> str:
    """Check a passcode typed in this tab; returns what to show."""
    passcode = settings.teacher_passcode()
    if passcode is None:
        return "This server has no teacher passcode."
    from ui.cache import teacher_gate

    ok, message = teacher_gate(passcode).try_passcode(who, attempt)
    st.session_state[UNLOCKED] = ok
    return message


def lock() -> None:
    st.session_state[UNLOCKED] = False


def sidebar_box(who: str, controls: Callable[[], None]) -> None:
    """The sidebar's "Teacher" box (drawn only where a passcode is set): the passcode field, or the `controls` and the
    lock button."""
    if not enabled():
        return
    with st.expander("Teacher", icon=":material/school:", expanded=is_teacher()):
        if is_teacher():
            st.success(UNLOCKED_TEXT)
            controls()
            st.button("Lock the teacher controls", key="teacher_lock", on_click=lock)
            return
        st.text_input("Passcode", type="password", key="teacher_code",
                      help="Set when the server started (make run TEACHER=...). Students do not need it.")
        st.button("Unlock", key="teacher_unlock", on_click=_unlock_typed, args=(who,))
        note = st.session_state.get("_teacher_note")
        if note:
            st.error(note)


def _unlock_typed(who: str) -> None:
    message = unlock(who, str(st.session_state.get("teacher_code", "")))
    st.session_state["teacher_code"] = ""  # never kept in the tab once checked
    st.session_state["_teacher_note"] = None if is_teacher() else message
