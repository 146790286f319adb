"""Predict, then reveal: the teacher asks a lesson step's question, students answer on their map (by typing here; the
browser test clicks), the teacher sees the answers as a heat map, and the reveal shows the model's answer to all."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import app
from tests.test_follow import classroom, teacher_tab  # noqa: F401  (classroom: a fixture)
from ui.lessons import LessonError, parse_lesson


def heat_total(at) -> float:
    """How many answers the teacher's heat map holds (plotly sends arrays as base64 typed arrays)."""
    import base64
    import json

    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    heat = [t["z"] for t in spec["data"] if t.get("type") == "heatmap"]
    if not heat:
        return 0.0
    z = np.frombuffer(base64.b64decode(heat[0]["bdata"]), dtype=heat[0]["dtype"])
    return float(np.nansum(z))


def test_the_class_answers_a_question_on_the_map_and_the_reveal_shows_the_models_answer(classroom):  # noqa: F811
    teacher = teacher_tab()
    teacher.toggle(key="teacher_follow").set_value(True).run()
    teacher.selectbox(key="teacher_lesson").set_value("02-latent-space").run()
    students = [app() for _ in range(3)]
    assert not any("The teacher asks" in m.value for m in students[0].markdown)
    teacher.button(key="q_ask").click().run()
    answers = [(2.0, 3.0), (2.5, 3.5), (14.0, 8.0)]
    for student, (x, y) in zip(students, answers):
        student.run()
        assert any("The teacher asks" in m.value and "1s live" in m.value for m in student.markdown)
        student.number_input(key="q_x").set_value(x)
        student.number_input(key="q_y").set_value(y)
        student.button(key="q_answer").click().run()
        assert any("Your answer: (" in c.value for c in student.caption)
    teacher.run()
    assert any("**3** answers" in m.value for m in teacher.markdown)
    assert heat_total(teacher) == 3  # every answer is in the heat map, once
    students[0].number_input(key="q_x").set_value(15.0)
    students[0].button(key="q_answer").click().run()  # a new answer replaces the old one
    assert heat_total(teacher.run()) == 3
    teacher.button(key="q_reveal").click().run()
    for student in students:
        student.run()
        revealed = [s.value for s in student.success if "The model's answer" in s.value]
        assert revealed and "the centre of the 100 test 1s" in revealed[0], revealed

    from ui.cache import catalog, map_coords, open_dataset

    entry = {e.key: e for e in catalog()}["pretrained/conv-ae-2"]
    data = open_dataset("mnist-5k")
    coords = map_coords(entry.path, entry.stamp, data.name, "raw")
    centre = coords[data.y_test.numpy() == 1].mean(axis=0)
    far = np.linalg.norm(np.array([14.0, 8.0]) - centre)
    assert any(f"Yours is {far:.2f} away" in s.value for s in students[2].success), far
    teacher.button(key="q_close").click().run()
    assert not any("The teacher asks" in m.value for m in students[0].run().markdown)


def test_an_image_questions_answer_is_where_the_noisy_images_code_lands(classroom):  # noqa: F811
    import torch

    from ae.data.noise import corrupt
    from ae.explore.drawing import place_on_map, read_drawing
    from ae.store.checkpoints import load_model
    from ui.cache import catalog, fit_plane, open_dataset, test_codes, test_errors
    from ui.questions import model_answer

    entry = {e.key: e for e in catalog()}["pretrained/conv-ae-16"]
    q = {"ask": "where?", "image": 700, "noise": 0.6, "label": None, "model": entry.key, "dataset": "mnist-5k",
         "method": "pca"}
    point, what = model_answer(q)
    data = open_dataset("mnist-5k")
    x = corrupt(data.test_x([700]), "gaussian", 0.6, generator=torch.Generator().manual_seed(700))
    model, _ = load_model(entry.path)
    report = read_drawing(model, x, test_codes(entry.path, data.name), test_errors(entry.path, data.name))
    plane, coords = fit_plane(entry.path, entry.stamp, data.name, "pca")
    expected, exact = place_on_map(report, coords, plane)
    assert exact and what == "where its code lands" and np.allclose(point, expected, atol=1e-5)


@pytest.mark.parametrize("question, why", [
    ("{ask: where}", "one `image` or one `class`"),
    ("{ask: where, image: 3, class: '1'}", "one `image` or one `class`"),
    ("{ask: where, image: -1}", "a test image's number"),
    ("{ask: where, image: 3, noise: 5}", "between 0 and 1"),
    ("{image: 3}", "has `ask`"),
])
def test_a_question_that_does_not_fit_is_refused_with_why(question, why):
    with pytest.raises(LessonError, match=why.replace("`", "`")):
        parse_lesson("q", f"title: Q\nsteps:\n  - link: latent_space\n    say: Look.\n    question: {question}\n")
