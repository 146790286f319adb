"""The teacher's passcode: off unless set, refused when wrong, rate-limited, and never set by a link."""

from __future__ import annotations

import pytest

from tests.helpers import app
from ui.teacher import TRIES_PER_BROWSER, TRIES_PER_PROCESS, WINDOW_S, Gate


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_wrong_passcode_is_refused_and_a_browser_pauses_after_its_tries():
    clock = Clock()
    gate = Gate("owl-42", clock=clock)
    assert gate.try_passcode("ann", "owl-42") == (True, "Teacher controls are on in this tab.")
    for i in range(TRIES_PER_BROWSER):
        ok, message = gate.try_passcode("bob", f"guess-{i}")
        assert not ok and "not the passcode" in message
    ok, message = gate.try_passcode("bob", "owl-42")  # even the right one: the pause is checked first
    assert not ok and message == f"Too many wrong passcodes: try again in {WINDOW_S:.0f} s."
    assert gate.try_passcode("ann", "owl-42")[0]  # another browser is not held up by bob's guesses
    clock.now += WINDOW_S
    assert gate.try_passcode("bob", "owl-42")[0]


def test_the_whole_class_shares_a_limit_so_new_cookies_do_not_buy_new_tries():
    clock = Clock()
    gate = Gate("owl-42", clock=clock)
    for i in range(TRIES_PER_PROCESS):
        clock.now += 1
        assert not gate.try_passcode(f"browser-{i}", "nope")[0]
    ok, message = gate.try_passcode("fresh-browser", "owl-42")
    assert not ok and "try again in" in message
    assert gate.wait_s("fresh-browser") == pytest.approx(WINDOW_S - TRIES_PER_PROCESS + 1)


def expanders(at) -> list[str]:
    return [e.label for e in at.expander]


def unlocked(at) -> bool:
    return "_teacher_unlocked" in at.session_state and bool(at.session_state["_teacher_unlocked"])


def has_key(widgets, key: str) -> bool:
    return any(w.key == key for w in widgets)


def test_without_a_passcode_nothing_of_teacher_mode_is_drawn(monkeypatch):
    monkeypatch.delenv("LATENT_LAB_TEACHER_PASSCODE", raising=False)
    at = app()
    assert "Teacher" not in expanders(at) and not has_key(at.text_input, "teacher_code")


def test_the_passcode_unlocks_this_tab_only_and_a_link_cannot(monkeypatch):
    monkeypatch.setenv("LATENT_LAB_TEACHER_PASSCODE", "owl-42")
    student = app(query={"teacher": "1", "_teacher_unlocked": "true"})  # a forged link
    assert "Teacher" in expanders(student) and not unlocked(student)
    assert not has_key(student.button, "teacher_lock")
    student.text_input(key="teacher_code").set_value("owl-41").run()
    student.button(key="teacher_unlock").click().run()
    assert any("not the passcode" in e.value for e in student.error) and not unlocked(student)
    assert not has_key(student.button, "teacher_lock")

    teacher = app()
    teacher.text_input(key="teacher_code").set_value("owl-42").run()
    teacher.button(key="teacher_unlock").click().run()
    assert any("Teacher controls are on" in s.value for s in teacher.success) and unlocked(teacher)
    assert has_key(teacher.button, "teacher_lock") and not has_key(teacher.text_input, "teacher_code")
    assert not has_key(student.run().button, "teacher_lock")  # the other tab is still a student
    teacher.button(key="teacher_lock").click().run()
    assert not unlocked(teacher) and not has_key(teacher.button, "teacher_lock")
