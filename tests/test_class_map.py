"""The class map: students' drawings land on the teacher's Draw page, with names, and can be shown, cleared and
exported; nobody else sees the board."""

from __future__ import annotations

import io
import zipfile

import pandas as pd

from tests.helpers import app, canvas_state, scribble, seven, waiting
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


def test_the_class_board_ranks_the_class_models_for_a_challenge_and_opens_one(classroom, models_dir):  # noqa: F811
    import json
    import shutil
    import time

    from ui.cache import catalog

    models_dir.mkdir(parents=True, exist_ok=True)
    for shipped, name, who in (("conv-ae-2", "ann-ae-2", "Ann"), ("conv-ae-16", "bob-ae-16", "Bob"),
                               ("conv-vae-2", "cy-vae-2", "")):
        meta = json.loads(open(f"pretrained/{shipped}.json").read())
        meta["name"] = name
        if who:
            meta["trained_by"] = who
        (models_dir / f"{name}.json").write_text(json.dumps(meta))
        shutil.copy(f"pretrained/{shipped}.safetensors", models_dir / f"{name}.safetensors")
        shutil.copytree(f"pretrained/{shipped}.analyses", models_dir / f"{name}.analyses")  # nothing to compute
    catalog.clear()
    student = app("pages/train.py")
    assert not any("class board" in e.label for e in student.expander)  # the teacher's alone
    assert any(w.key == "tr_who" for w in student.text_input)  # a student may give a name for it
    teacher = teacher_tab("pages/train.py")
    assert not teacher.exception, teacher.exception
    table = teacher.dataframe[0].value
    assert table["model"].tolist() == ["bob-ae-16", "cy-vae-2", "ann-ae-2"]  # lowest test MSE first
    assert table["who"].tolist() == ["Bob", "anonymous", "Ann"]
    teacher.selectbox(key="board_latent").set_value(2).run()
    assert teacher.dataframe[0].value["model"].tolist() == ["cy-vae-2", "ann-ae-2"]
    teacher.selectbox(key="board_pick").set_value("yours/ann-ae-2").run()
    teacher.button(key="board_go").click().run()
    assert teacher.session_state["model"] == "yours/ann-ae-2"
    assert teacher.title[0].value == "Reconstructions"  # the projector's page, with that model
    assert not waiting(teacher)  # its analyses came with it: the page is drawn, not waiting
    teacher.switch_page("pages/train.py").run()
    time.sleep(0.01)
    teacher.button(key="board_new").click().run()
    assert any("No model of the class matches yet" in i.value for i in teacher.info)
