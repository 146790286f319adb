"""Headless AppTest of every page: it renders with the default model, widgets change what is shown, and bad
choices give a clear message."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from ae.store.zoo import read_manifest
from tests.helpers import APP, app, caption_matching, settle


@pytest.fixture(scope="module")
def manifest():
    return {r["name"]: r for r in read_manifest()["models"]}


def test_home_lists_every_model_with_measured_metrics(manifest):
    at = app()
    assert at.title[0].value == "Latent Lab"
    table = at.dataframe[0].value
    assert list(table["model"]) == list(manifest)
    row = table.set_index("model").loc["conv-ae-16"]
    assert row["test MSE"] == pytest.approx(manifest["conv-ae-16"]["mse"])
    assert len(at.image) == len(manifest)  # one gallery strip per model
    assert at.sidebar.selectbox(key="model_picker").value == "pretrained/conv-ae-16"
    assert at.sidebar.selectbox(key="dataset_picker").value == "mnist-5k"


def test_the_chosen_model_follows_the_user_across_pages():
    at = app()
    at.sidebar.selectbox(key="model_picker").set_value("pretrained/conv-vae-2").run()
    for page in ("pages/reconstructions.py", "pages/latent_space.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert "**conv-vae-2**" in at.caption[0].value


def test_reconstructions_show_the_set_metrics_and_respond_to_widgets(manifest):
    at = app("pages/reconstructions.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test MSE"] == f"{manifest['conv-ae-16']['mse']:.4f}"
    assert metrics["Test PSNR"] == f"{manifest['conv-ae-16']['psnr']:.2f} dB"
    assert len(at.image[0].proto.imgs) == 16
    first = at.image[0].proto.imgs[0].url  # the pair travels in the message, as a PNG: original above, then its rebuild
    assert first.startswith("data:image/png;base64,")
    pair = Image.open(io.BytesIO(base64.b64decode(first.split(",", 1)[1])))
    assert pair.format == "PNG" and pair.height > 2 * pair.width
    first_alt = at.image[0].proto.imgs[0].alt  # what a screen reader says of it
    assert first_alt.startswith(at.image[0].proto.imgs[0].caption) and "rebuild below" in first_alt
    at.slider(key="rec_n").set_value(8).run()
    images = at.image[0].proto.imgs
    assert len(images) == 8
    assert caption_matching(at, r"^Shown: 8 images")

    at.segmented_control(key="rec_order").set_value("best").run()
    best = float(re.search(r"mean MSE ([\d.]+)", caption_matching(at, "^Shown")).group(1))
    at.segmented_control(key="rec_order").set_value("worst").run()
    worst = float(re.search(r"mean MSE ([\d.]+)", caption_matching(at, "^Shown")).group(1))
    assert worst > 5 * best
    assert not at.exception

    at.selectbox(key="rec_class").set_value("7").run()
    caps = [img.caption for img in at.image[0].proto.imgs]
    assert caps and all(" · 7 · " in c for c in caps)
    assert not at.exception
    errors = [float(c.rsplit("MSE ", 1)[1]) for c in caps]
    assert errors == sorted(errors, reverse=True)  # worst first


def png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_uploading_a_dark_digit_on_white_paper(manifest):
    at = app("pages/reconstructions.py")
    paper = np.full((120, 90), 250, np.uint8)
    paper[20:100, 40:52] = 10  # a thick dark "1"
    at.file_uploader(key="rec_upload").set_value(("one.png", png_bytes(paper), "image/png")).run()
    assert not at.exception and not at.error
    note = next(m.value for m in at.markdown if m.value.startswith("**What was done"))
    assert "inverted" in note and "resized from 90x120 to 28x28" in note
    assert float(next(m.value for m in at.metric if m.label == "MSE")) < 0.1


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("notes.png", b"this is not an image", "not a readable PNG or JPEG"),
        ("big.png", b"\x89PNG" + b"0" * (6 * 2**20), "the limit is 5 MB"),
    ],
)
def test_bad_uploads_get_a_message_not_a_trace(name, content, message):
    at = app("pages/reconstructions.py")
    at.file_uploader(key="rec_upload").set_value((name, content, "image/png")).run()
    assert not at.exception
    assert message in at.error[0].value


def test_an_incompatible_dataset_gets_a_clear_message():
    at = app()
    at.sidebar.selectbox(key="dataset_picker").set_value("digits").run()
    at.switch_page("pages/reconstructions.py").run()
    assert not at.exception
    assert "reads 28x28 grey images, but digits holds 8x8 grey images" in at.warning[0].value
    at.switch_page("pages/latent_space.py").run()
    assert "reads 28x28 grey images" in at.warning[0].value


def test_a_missing_dataset_says_where_to_put_it():
    at = app("pages/latent_space.py", dataset="fashion-mnist")
    assert "FashionMNIST/raw" in at.error[0].value and "train-images-idx3-ubyte" in at.error[0].value


def test_latent_space_maps_and_decoding():
    at = app("pages/latent_space.py")
    assert at.segmented_control(key="map_method").value == "PCA"
    assert caption_matching(at, "computed from the codes")
    grid = at.image[-1]
    assert "12x12 images decoded" in grid.proto.imgs[0].caption
    at.slider(key="map_grid_steps").set_value(6).run()
    assert "6x6 images decoded" in at.image[-1].proto.imgs[0].caption

    probe = [img for img in at.image if img.proto.imgs[0].caption.startswith("decoded at")][0]
    before = probe.proto.imgs[0].caption
    at.slider(key="map_probe_x").set_value(at.slider(key="map_probe_x").max).run()
    after = [img for img in at.image if img.proto.imgs[0].caption.startswith("decoded at")][0]
    assert after.proto.imgs[0].caption != before

    at.segmented_control(key="map_method").set_value("UMAP").run()
    assert caption_matching(at, "UMAP fitted on all 1,000 codes, computed once")
    assert any("has no inverse" in i.value for i in at.info)

    at.segmented_control(key="map_method").set_value("Raw latent dims").run()
    at.selectbox(key="map_dim_y").set_value(5).run()
    assert caption_matching(at, r"Varying z\[0\] and z\[5\]; the other 14 dimensions stay at their mean")


def test_a_2d_model_opens_on_its_raw_latent_plane():
    at = app("pages/latent_space.py", model="pretrained/conv-vae-2")
    assert at.segmented_control(key="map_method").value == "Raw latent dims"
    assert not [s for s in at.selectbox if s.key in ("map_dim_x", "map_dim_y")]  # no pickers for a 2-D code
    assert "decoded across the plane (z[0] left to right" in at.image[-1].proto.imgs[0].caption


@pytest.mark.slow
def test_a_user_model_gets_its_maps_computed_once_and_stored(models_dir):
    import shutil

    from tests.helpers import waiting

    models_dir.mkdir()
    for suffix in (".json", ".safetensors"):  # a model without shipped analyses
        shutil.copy(Path(APP).parent / "pretrained" / f"conv-ae-2{suffix}", models_dir / f"mine{suffix}")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["model"] = "yours/mine"
    at.run()
    at.switch_page("pages/latent_space.py").run()
    assert waiting(at) and not at.get("plotly_chart")  # a progress bar, not a map of something else
    settle(at)
    assert "**mine**" in at.caption[0].value
    at.segmented_control(key="map_method").set_value("t-SNE").run()
    assert not at.exception
    assert caption_matching(at, r"t-SNE fitted on all 1,000 codes, computed once in [\d.]+ s")
    assert sorted(p.name.split("-")[0] for p in (models_dir / "mine.analyses").iterdir()) == ["maps"]


@pytest.mark.slow
def test_warm_up_compiles_a_real_umap_fit():
    import numpy as np

    from ae.explore.embed import embed_2d

    out = embed_2d(np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32), "umap")
    assert out.shape == (60, 2) and np.isfinite(out).all()


UMAP_CACHE_PROBE = """
import json
from ae.explore.embed import umap_functions, warm_up_umap
warm_up_umap()
print(json.dumps({name: [sum(f.stats.cache_hits.values()), sum(f.stats.cache_misses.values())]
                  for name, f in umap_functions() if f.stats.cache_hits or f.stats.cache_misses}))
"""


@pytest.mark.slow
def test_a_new_process_loads_umaps_compiled_code_instead_of_compiling_it():
    """Every Dask worker, CLI run and server used to spend ~11 s of CPU compiling UMAP; once one process has fitted
    a map, the next loads the compiled layout and graph functions from numba's cache."""
    import json
    import subprocess
    import sys

    from ae.explore.embed import warm_up_umap

    warm_up_umap()  # this process compiles (or loads) them and the cache holds them
    out = subprocess.run([sys.executable, "-c", UMAP_CACHE_PROBE], capture_output=True, text=True, timeout=300,
                         cwd=Path(__file__).resolve().parents[1], check=True).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    for fn in ("smooth_knn_dist", "compute_membership_strengths", "_nb_optimize_layout_euclidean_single_epoch"):
        assert stats[fn] == [1, 0], stats  # one cache hit, no compile
