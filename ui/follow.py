"""Follow me (issue 20): with the teacher's "The class follows me" on, every student's tab shows the teacher's page,
dataset, model and the page's main widgets within a second; a student may step out and come back; the teacher may
pause the class, which locks the students' widgets.

How it travels: the teacher's view is the share link of their tab (ui/share.py writes it after every run), published
on the class's channel (ae/run/broadcast.py, through the Dask scheduler, so it reaches every app process of a
classroom). A student's tab cannot be pushed a rerun by another session through Streamlit's public API, so it looks:
a small fragment in the sidebar reruns every FOLLOW_S seconds (IDLE_S while the class is not following), reads this
process's copy of the latest message (no network), waits a little for the next one while following and, when the
teacher moved, reruns the app, which adopts the view as it would adopt a link. Without a teacher passcode nothing of
this runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import streamlit as st

from ui.cache import class_channel
from ui.lesson_steps import lesson_controls
from ui.share import LOCKED, PENDING, open_view, view_params
from ui.teacher import enabled, is_teacher

MODE, VIEW, QUESTION = "mode", "view", "question"
FOLLOW_S = 0.5  # how often a following (or paused) student's tab looks for the teacher's moves
WAIT_S, SLICE_S = 0.3, 0.05  # and how long each look waits for one (_look), in slices
HOLD_S = 0.3  # how long a following student's full run stays open after its end (drawn)
IDLE_S = 2.0  # and a tab while the class is free (only to notice "follow" or "pause" being switched on)
PAGE = "_page"  # this tab's page (its url_path), set at the start of each run
OUT = "_follow_out"  # the student chose to explore on their own
# What a tab shows, as (teacher's view id or None, paused, following, collecting, question): DRAWING is what the
# current full run draws, DRAWN what the last full run that reached its end drew. Under load Streamlit may drop a full
# run that a fragment asked for before it ends (seen in the follow bench: its new_session, then no script_finished);
# the look-out then still sees DRAWN differ and asks again, at most MAX_TRIES times for the same thing (a page that
# stops early, st.stop(), never reaches its end).
DRAWING, DRAWN, TRIES, MAX_TRIES = "_follow_drawing", "_follow_drawn", "_follow_tries", 3
# Set while a full run calls the look-out (a timed fragment run does not); a plain thread-local, not the session state,
# whose every access may end the run (a yield point) and would leave the flag set for good.
_inline = threading.local()
LED = "_follow_led"  # the teacher's tab: the last view it published


def class_mode() -> dict:
    msg = class_channel().latest(MODE)
    body = msg.body if msg else {}
    return {key: bool(body.get(key)) for key in ("follow", "paused", "collect")}


def is_student() -> bool:
    return enabled() and not is_teacher()


def following() -> bool:
    """Whether this tab shows the teacher's view now."""
    return is_student() and class_mode()["follow"] and not st.session_state.get(OUT, False)


def paused() -> bool:
    return is_student() and class_mode()["paused"]


def _signature() -> tuple:
    view = class_channel().latest(VIEW) if following() else None
    mode = class_mode()
    question = class_channel().latest(QUESTION)  # asked, revealed or closed: the panel above the page changes
    return (view.id if view else None, paused(), mode["follow"], mode["collect"], question.id if question else None)


# ------------------------------------------------------------------ the student's side


def follow_teacher(page: str, datasets: Sequence[str], models: Sequence[str]) -> None:
    """At the start of every run, before the sidebar is drawn: take the teacher's view (and open the teacher's page)
    while following, and lock the widgets while the class is paused."""
    ss = st.session_state
    ss[PAGE] = page
    ss[LOCKED] = False
    if not enabled():  # no teacher mode: no channel is opened, nothing is looked at
        return
    lead(early=True)
    ss[LOCKED] = paused()
    signature = _signature()
    ss[TRIES] = ss.get(TRIES, 0) + 1 if ss.get(DRAWING) == signature else 1
    ss[DRAWING] = signature
    view = class_channel().latest(VIEW) if following() else None
    if view is None:
        return
    # Every full run takes the view again, not only the first after a move: a look-out's request sent before the
    # browser showed the move carries the old values, which Streamlit takes as the widgets' own; and a full run
    # that Streamlit starts before the last one's messages left draws adopted widgets without their value.
    open_view(str(view.body.get("page", "")), view.body.get("params", {}), page, datasets, models,
              source="The teacher's view")


def drawn() -> None:
    """After a page ran to its end (app.py): what it drew is on the student's screen.

    A following student's run then stays open a little (HOLD_S, in yield slices): under load Streamlit's event loop
    sends a run's messages well after the run ended, and a look-out request that the loop reads in that gap starts a
    new script runner whose arrival makes the loop drop the ended run's remaining messages, its look-out timer among
    them (seen in the follow bench: the student's page stops moving). While this run is open, such a request is queued
    behind it instead."""
    st.session_state[DRAWN] = st.session_state.get(DRAWING)
    st.session_state[TRIES] = 0
    if following():
        end = time.monotonic() + HOLD_S
        while time.monotonic() < end:
            time.sleep(SLICE_S)
            _ = OUT in st.session_state  # a yield point: the student's click ends the hold at once


def watch() -> None:
    """In the sidebar of a student's tab: which mode they are in, the button to switch, and the look-out that reruns
    the app when the teacher moved. The box and its button change only with a full run (a change of mode is one), so
    the full run draws them and the look-out, run every FOLLOW_S seconds by every student, draws nothing."""
    if not is_student():
        return
    mode = class_mode()
    _inline.on = True
    try:
        (_look_closely if mode["follow"] or mode["paused"] else _look_idly)()
    finally:
        _inline.on = False
    if not mode["follow"]:  # a pause is said above the page (lock_page)
        return
    if st.session_state.get(OUT, False):
        st.info("**Exploring on your own.** The class is following the teacher.", icon=":material/explore:")
        st.button("Back to the teacher", key="follow_back", icon=":material/cast:", on_click=_step, args=(False,),
                  disabled=mode["paused"])
    else:
        st.success("**Following the teacher.** Your page moves with theirs.", icon=":material/cast:")
        st.button("Explore on my own", key="follow_out", icon=":material/explore:", on_click=_step, args=(True,),
                  disabled=mode["paused"])


def _look() -> None:
    """Look, and while this tab follows (or is paused) keep looking for up to WAIT_S, woken by the channel the moment
    a message comes: a move is seen at once rather than up to FOLLOW_S later. The wait is cut in SLICE_S pieces, each
    ended by reading the session state, which is where Streamlit stops a run for the student's own click (a full
    rerun); a click inside one of the page's fragments waits for the look-out's end. The look-out ends well before
    the next tick so that the browser sees the run end (its "Running..." shows after 0.5 s of one run)."""
    ss = st.session_state
    if getattr(_inline, "on", False):  # called by a full run, which has just looked itself
        return
    channel = class_channel()
    deadline = time.monotonic() + (WAIT_S if following() or paused() else 0.0)
    while True:
        version = channel.version
        signature = _signature()
        stuck = signature == ss.get(DRAWING) and ss.get(TRIES, 0) >= MAX_TRIES
        if signature != ss.get(DRAWN) and not stuck:
            st.rerun(scope="app")
        left = deadline - time.monotonic()
        if left <= 0:
            return
        channel.wait(version, min(SLICE_S, left))
        _ = OUT in ss  # a yield point: the student's own rerun or stop ends the look-out here


def _step(out: bool) -> None:
    st.session_state[OUT] = out  # coming back, the button's run takes the teacher's view as it is now


_look_closely = st.fragment(run_every=FOLLOW_S)(_look)
_look_idly = st.fragment(run_every=IDLE_S)(_look)


def lock_page() -> None:
    """While paused: the banner above the page, and no pointer on the page or the page list (the linked widgets and
    the sidebar's pickers are disabled as well)."""
    if not paused():
        return
    st.warning("**The teacher paused the class.** Your page is locked until they release it.",
               icon=":material/front_hand:")
    st.html("<style>[data-testid='stMain'], [data-testid='stSidebarNav'] {pointer-events: none;}</style>")


# ------------------------------------------------------------------ the teacher's side


def lead(early: bool = False) -> None:
    """When the class follows, publish this tab's view (its page and share link) if it changed: after each of the
    teacher's runs and fragment changes, and `early`, before the page runs, when the teacher moved a widget on the
    same page (the new value is known before the run: the class does not wait for the teacher's run)."""
    if not is_teacher() or not class_mode()["follow"]:
        return
    view = _view()
    led = st.session_state.get(LED)
    if led == view or (early and (led is None or led["page"] != view["page"] or st.session_state.get(PENDING))):
        return  # on a new page, or while a link or a lesson step is being opened, the view is known after the run
    _publish(view)


def _view() -> dict:
    return {"page": st.session_state.get(PAGE, ""), "params": view_params()}


def _publish(view: dict) -> None:
    st.session_state[LED] = view
    class_channel().publish(VIEW, view)


def _set_mode() -> None:
    mode = {key: bool(st.session_state.get(f"teacher_{key}")) for key in ("follow", "paused", "collect")}
    if mode["follow"]:
        _publish(_view())  # the view first: no student jumps to an old one
    class_channel().publish(MODE, mode)


def teacher_controls() -> None:
    """Inside the unlocked Teacher box: follow and pause, as the whole class has them now."""
    mode = class_mode()
    st.toggle("The class follows me", value=mode["follow"], key="teacher_follow", on_change=_set_mode,
              help="Every student's page, dataset, model and the page's settings move with yours within a second. "
                   "A student can step out and come back.")
    st.toggle("Pause the class", value=mode["paused"], key="teacher_paused", on_change=_set_mode,
              help="Locks the students' pages (eyes to the front) until you switch it off.")
    st.toggle("Collect drawings", value=mode["collect"], key="teacher_collect", on_change=_set_mode,
              help="Each student's drawing on the Draw page lands on one class map on your Draw page.")
    if not class_channel().shared:
        st.caption("No training cluster: only the students on this app process hear you.")
    lesson_controls()
