"""The class map: students' drawings land on the teacher's Draw page, with names, and can be shown, cleared and
exported; nobody else sees the board."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from tests.helpers import app, canvas_state, scribble, seven
from tests.test_follow import classroom, teacher_tab  # noqa: F401  (classroom: a fixture)
from ui.class_map import clean_name


def student_draws(rgba, name: str = ""):
    at = app("pages/draw.py")
    if name:
        at.text_input(key="class_map_name").set_value(name)
    at.session_state["dr_canvas"] = canvas_state(rgba)
    at.run()
    assert not at.exception, at.exception
    return at


def test_students_drawings_land_on_the_teachers_class_map_and_can_be_exported(classroom):  # noqa: F811
    teacher = teacher_tab("pages/draw.py")
    teacher.toggle(key="teacher_collect").set_value(True).run()
    assert any("No drawings yet" in i.value for i in teacher.info)
    ann = student_draws(seven(), "Ann <b>")
    student_draws(scribble(), "")
    assert not any(w.key == "class_map_clear" for w in ann.button)  # the board is the teacher's alone
    teacher.run()
    caption = next(c.value for c in teacher.caption if "from the class" in c.value)
    assert caption.startswith("2 drawings from the class")
    figure = teacher.get("plotly_chart")[-1].proto.spec
    assert '"Ann b"' in figure and '"anonymous"' in figure  # names on the map, markup stripped
    export = teacher.get("download_button")[-1]
    assert export.proto.label.startswith("Export the drawings")

    from ui.class_map import drawings

    assert len(drawings()) == 2
    ann.session_state["dr_canvas"] = canvas_state(scribble(3))  # a new stroke replaces Ann's drawing
    ann.run()
    assert len(drawings()) == 2

    teacher.selectbox(key="class_map_pick").set_value(0).run()
    teacher.button(key="class_map_show").click().run()
    ann.run()
    assert any("The teacher is showing" in i.value for i in ann.info)

    teacher.button(key="class_map_clear").click().run()
    assert any("No drawings yet" in i.value for i in teacher.info)
    ann.run()
    assert not any("The teacher is showing" in i.value for i in ann.info)


def test_the_export_is_a_zip_of_pngs_and_a_csv_of_codes():
    import numpy as np

    from ae.store.export import drawings_zip

    table = pd.DataFrame({"name": ["Ann", "anonymous"], "error": [0.01, 0.2], "z0": [0.5, -1.0]})
    images = [np.full((1, 28, 28), 0.5, np.float32), np.zeros((1, 28, 28), np.float32)]
    z = zipfile.ZipFile(io.BytesIO(drawings_zip(table, images)))
    assert sorted(z.namelist()) == ["drawings.csv", "drawings/001.png", "drawings/002.png"]
    assert pd.read_csv(z.open("drawings.csv"))["name"].tolist() == ["Ann", "anonymous"]
    from PIL import Image

    assert np.asarray(Image.open(z.open("drawings/001.png"))).max() == 128


def test_a_name_keeps_letters_and_loses_markup():
    assert clean_name("  Zoë-Ann O'Neil <script>alert(1)</script> ") == "Zoë-Ann O'Neil scriptale"
    assert clean_name("**bold** [link](x)") == "bold linkx"
