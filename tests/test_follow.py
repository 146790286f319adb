"""Follow me: the class's channel between app processes, and the teacher's and students' tabs (AppTest)."""

from __future__ import annotations

import time

import pytest

from ae.run.broadcast import TOPIC, ClassChannel
from tests.helpers import app

PASSCODE = "owl-42"


def wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_what_one_process_says_reaches_the_others_and_those_that_start_later():
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        clients = [Client(cluster, set_as_default=False) for _ in range(3)]
        try:
            teacher, student = ClassChannel(lambda: clients[0]), ClassChannel(lambda: clients[1])
            assert wait_for(lambda: teacher.shared and student.shared)
            sent = teacher.publish("view", {"page": "latent_space", "params": {"lat_method": "umap"}})
            t0 = time.time()
            assert wait_for(lambda: student.latest("view") == sent, timeout=1.0)
            assert time.time() - t0 < 1.0
            clients[0].log_event(TOPIC, {"something": "else"})  # not a class message: ignored, no error
            older = {"kind": "view", "body": {"page": "home"}, "id": "0", "t": sent.t - 10}
            clients[0].log_event(TOPIC, older)  # late or reordered: the newest stays
            newer = teacher.publish("mode", {"follow": True})
            assert wait_for(lambda: student.latest("mode") == newer)
            assert student.latest("view") == sent
            latecomer = ClassChannel(lambda: clients[2])  # an app process started mid-lesson
            assert wait_for(lambda: latecomer.latest("mode") == newer and latecomer.latest("view") == sent)
        finally:
            for c in clients:
                c.close()


def test_without_a_cluster_the_teachers_own_process_still_hears():
    alone = ClassChannel(lambda: None)
    sent = alone.publish("mode", {"paused": True})
    assert alone.latest("mode") == sent and not alone.shared


def test_a_wait_on_the_channel_wakes_when_a_message_comes_and_not_before():
    import threading

    channel = ClassChannel(lambda: None)
    version = channel.version
    t0 = time.monotonic()
    assert channel.wait(version, 0.2) is False  # nothing said: the whole timeout
    assert time.monotonic() - t0 >= 0.19
    threading.Timer(0.1, channel.publish, args=("view", {"page": "generate"})).start()
    t0 = time.monotonic()
    assert channel.wait(version, 5.0) is True  # woken by the message, not by the timeout
    assert time.monotonic() - t0 < 2.0
    assert channel.version != version and channel.latest("view").body == {"page": "generate"}
    assert channel.wait(version, 5.0) is True  # a version already passed: no wait at all


@pytest.fixture
def classroom(monkeypatch):
    """A teacher passcode on this server, and the class released afterwards (the channel lives as long as the
    process: the next test must not find its students following)."""
    from ui.cache import class_channel

    monkeypatch.setenv("LATENT_LAB_TEACHER_PASSCODE", PASSCODE)
    yield
    class_channel().publish("mode", {"follow": False, "paused": False})


def teacher_tab(page: str | None = None):
    at = app()
    at.text_input(key="teacher_code").set_value(PASSCODE).run()
    at.button(key="teacher_unlock").click().run()
    assert any(w.key == "teacher_follow" for w in at.toggle)
    if page:
        at.switch_page(page).run()
    return at


def sidebar_texts(at) -> str:
    return " ".join(e.value for kind in ("success", "info") for e in getattr(at.sidebar, kind))


def test_students_follow_the_teachers_page_model_and_widgets(classroom):
    teacher, student = teacher_tab("pages/reconstructions.py"), app()
    assert not any(w.key == "teacher_follow" for w in student.toggle)  # a student has no teacher controls
    assert "Following the teacher" not in sidebar_texts(student)  # the class is free: nothing to follow yet
    teacher.toggle(key="teacher_follow").set_value(True).run()
    teacher.slider(key="rec_n").set_value(24).run()
    teacher.sidebar.selectbox(key="model_picker").set_value("pretrained/conv-ae-2").run()
    student.run()
    assert not student.exception
    assert student.slider(key="rec_n").value == 24  # the student's tab opened Reconstructions, as the teacher's
    assert student.session_state["model"] == "pretrained/conv-ae-2"
    assert student.sidebar.selectbox(key="model_picker").value == "pretrained/conv-ae-2"
    assert "Following the teacher" in sidebar_texts(student)
    teacher.switch_page("pages/generate.py").run()
    student.run()
    assert "Following the teacher" in sidebar_texts(student) and not student.exception
    assert any(w.key.startswith("gen_") for w in student.slider), [w.key for w in student.slider]


def test_a_student_steps_out_and_comes_back_to_where_the_teacher_is_now(classroom):
    teacher, student = teacher_tab("pages/reconstructions.py"), app()
    teacher.toggle(key="teacher_follow").set_value(True).run()
    student.run()
    student.button(key="follow_out").click().run()
    assert "Exploring on your own" in sidebar_texts(student)
    student.slider(key="rec_n").set_value(8).run()
    teacher.slider(key="rec_n").set_value(32).run()
    student.run()
    assert student.slider(key="rec_n").value == 8  # out: the student's own choice stays
    student.button(key="follow_back").click().run()
    assert "Following the teacher" in sidebar_texts(student)
    assert student.slider(key="rec_n").value == 32  # back: the teacher's view as it is now


def test_a_paused_class_has_its_widgets_locked_until_released(classroom):
    teacher, student = teacher_tab("pages/reconstructions.py"), app("pages/reconstructions.py")
    teacher.toggle(key="teacher_paused").set_value(True).run()
    student.run()
    assert any("paused the class" in w.value for w in student.warning)
    assert student.slider(key="rec_n").disabled and student.sidebar.selectbox(key="model_picker").disabled
    assert not teacher.slider(key="rec_n").disabled  # the teacher's own tab is never locked
    teacher.toggle(key="teacher_paused").set_value(False).run()
    student.run()
    assert not any("paused the class" in w.value for w in student.warning)
    assert not student.slider(key="rec_n").disabled


def test_without_a_passcode_no_tab_follows_or_pauses(monkeypatch):
    from ui.cache import class_channel

    monkeypatch.delenv("LATENT_LAB_TEACHER_PASSCODE", raising=False)
    class_channel().publish("mode", {"follow": True, "paused": True})
    try:
        at = app("pages/reconstructions.py")
        assert not at.slider(key="rec_n").disabled and "teacher" not in sidebar_texts(at).lower()
    finally:
        class_channel().publish("mode", {"follow": False, "paused": False})


def test_one_move_of_the_teacher_is_one_whole_view_and_an_unfinished_run_is_drawn_again(classroom, monkeypatch):
    from ui.cache import class_channel

    teacher, student = teacher_tab("pages/reconstructions.py"), app()
    teacher.toggle(key="teacher_follow").set_value(True).run()
    student.run()
    sent = []
    channel = class_channel()
    publish = channel.publish
    monkeypatch.setattr(channel, "publish", lambda kind, body: sent.append((kind, body)) or publish(kind, body))
    teacher.slider(key="rec_n").set_value(32).run()
    assert [(k, b["params"]["rec_n"], sorted(b["params"])) for k, b in sent] == [
        ("view", "32", ["dataset", "model", "rec_class", "rec_n", "rec_order", "rec_seed"])]
    student.run()
    assert student.slider(key="rec_n").value == 32
    # a run that never reached its end (Streamlit dropped it under load): the next run adopts the view again
    student.session_state["_follow_drawn"] = None
    student.session_state["rec_n"] = 8
    student.run()
    assert student.slider(key="rec_n").value == 32


def test_a_following_tab_that_reports_an_old_value_is_set_back_to_the_teachers(classroom):
    """Under load a student's browser may send a rerun carrying the value it showed before the teacher's move (a
    look-out's request sent before the move arrived); Streamlit takes it as the widget's own. Every full run while
    following takes the teacher's view again, so the next one puts the teacher's value back on that screen."""
    teacher, student = teacher_tab("pages/reconstructions.py"), app()
    teacher.toggle(key="teacher_follow").set_value(True).run()
    teacher.slider(key="rec_n").set_value(32).run()
    student.run()
    assert student.slider(key="rec_n").value == 32
    student.slider(key="rec_n").set_value(8).run()  # the stale report, as a widget value from the browser
    assert student.slider(key="rec_n").value == 32
    assert any("Following the teacher" in e.value for e in student.sidebar.success)
