"""Lessons: the shipped ones step cleanly from start to end with the class following; bad files are refused with why."""

from __future__ import annotations

import pytest

from tests.helpers import settle
from tests.test_follow import PASSCODE, classroom, sidebar_texts, teacher_tab  # noqa: F401  (classroom: a fixture)
from ui.lessons import FOLDER, LessonError, parse_lesson, read_lessons
from ui.shell import page_file


def test_three_lessons_ship_and_every_step_names_a_page_of_this_app():
    good, bad = read_lessons()
    assert not bad, bad
    assert {"01-bottleneck", "02-latent-space", "03-denoising-anomalies"} <= set(good)
    for lesson in good.values():
        assert lesson.title and all(s.say for s in lesson.steps)
        assert all(page_file(s.page) is not None for s in lesson.steps)
        assert all(s.params.get("model", "").startswith("pretrained/") for s in lesson.steps)  # the zoo only


@pytest.mark.parametrize("key", sorted(p.stem for p in FOLDER.glob("*.yaml")))
def test_a_teacher_steps_through_a_shipped_lesson_and_the_class_follows(classroom, key):  # noqa: F811
    from tests.helpers import app

    lesson = read_lessons()[0][key]
    teacher, student = teacher_tab(), app()
    teacher.toggle(key="teacher_follow").set_value(True).run()
    teacher.selectbox(key="teacher_lesson").set_value(key).run()
    for i, step in enumerate(lesson.steps):
        if i:
            teacher.button(key="lesson_next").click().run()
        settle(teacher)
        assert not teacher.exception, (key, i, teacher.exception)
        said = [e.value for e in teacher.info]
        assert any(f"step {i + 1} of {len(lesson.steps)}" in s and step.say[:40] in s for s in said), (i, said)
        misfits = [s for s in said if "does not fit" in s or "not open in this tab" in s]
        assert not misfits, (key, i, misfits)  # every value of the step's link is taken by its page
        for name, value in step.params.items():  # the teacher's tab shows the step: its URL is the step's link
            assert teacher.query_params.get(name) == value, (key, i, name, teacher.query_params)
        settle(student.run())
        assert not student.exception and student.session_state["model"] == step.params["model"]
        assert "Following the teacher" in sidebar_texts(student)
        assert not any(step.say[:40] in e.value for e in student.info)  # the line is the teacher's, not theirs
    assert teacher.button(key="lesson_next").disabled


@pytest.mark.parametrize("text, why", [
    ("title: [unclosed", "not YAML"),
    ("title: A\n", "a `title` and a list of `steps`"),
    ("title: A\nsteps: []\n", "1 to 60 steps"),
    ("title: A\nsteps:\n  - link: nowhere\n    say: hi\n", "no page `nowhere`"),
    ("title: A\nsteps:\n  - link: https://evil.example/generate\n    say: hi\n", "not a whole URL"),
    ("title: A\nsteps:\n  - link: generate\n    say: hi\n    run: rm -rf /\n", "nothing else"),
    ("title: A\nsteps:\n  - link: generate\n    say: " + "x" * 700 + "\n", "at most 600"),
    ("title: !!python/object/apply:os.system ['echo hi']\nsteps: []\n", "not YAML"),
])
def test_a_lesson_file_that_does_not_fit_is_refused_with_why(text, why):
    with pytest.raises(LessonError, match=why.replace("[", r"\[").replace("`", "`")):
        parse_lesson("bad", text)


def test_a_bad_file_in_the_folder_is_listed_and_the_good_ones_still_work(tmp_path):
    (tmp_path / "good.yaml").write_text("title: Good\nsteps:\n  - link: generate?gen_temp=0.5\n    say: Look.\n")
    (tmp_path / "bad.yaml").write_text("title: Bad\nsteps: 3\n")
    good, bad = read_lessons(tmp_path)
    assert list(good) == ["good"] and good["good"].steps[0].params == {"gen_temp": "0.5"}
    assert list(bad) == ["bad.yaml"] and "steps" in bad["bad.yaml"]
