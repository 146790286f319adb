"""Share a view by link: the URL's dataset, model and widget values restore the view; what does not fit gives a
message, never an error; the URL follows the widgets."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import app


def opened(params: dict[str, str], page: str | None = None) -> AppTest:
    return app(page, query=params)


@pytest.mark.slow
def test_a_link_restores_the_model_and_the_page_widgets():
    at = opened({"model": "pretrained/conv-vae-16", "map_method": "PCA", "map_thumbs": "false",
                 "map_grid_steps": "7"}, "pages/latent_space.py")
    assert at.session_state["model"] == "pretrained/conv-vae-16"
    assert at.sidebar.selectbox(key="model_picker").value == "pretrained/conv-vae-16"
    assert at.segmented_control(key="map_method").value == "PCA"
    assert at.toggle(key="map_thumbs").value is False and at.slider(key="map_grid_steps").value == 7
    assert "7x7 images decoded" in at.image[-1].proto.imgs[0].caption
    # and the URL follows the widgets: what a teacher copies is what is on screen
    at.slider(key="map_grid_steps").set_value(9).run()
    assert at.query_params["map_grid_steps"] == "9" and at.query_params["model"] == "pretrained/conv-vae-16"
    assert at.query_params["map_method"] == "PCA" and at.query_params["dataset"] == "mnist-5k"


@pytest.mark.slow
def test_a_link_to_what_is_not_here_opens_with_messages():
    at = opened({"model": "pretrained/gone", "dataset": "nowhere", "map_grid_steps": "500", "map_method": "Bogus"})
    notes = " ".join(i.value for i in at.info)
    assert "names the model **pretrained/gone**, which this server does not have" in notes
    assert "names the dataset **nowhere**" in notes
    assert at.session_state["model"] == "pretrained/conv-ae-16" and at.session_state["dataset"] == "mnist-5k"
    at.switch_page("pages/latent_space.py").run()
    assert not at.exception and not at.error
    notes = " ".join(i.value for i in at.info)
    assert "**map_grid_steps** to '500', which does not fit here (expected between 5 and 20)" in notes
    assert "**map_method** to 'Bogus'" in notes
    assert at.slider(key="map_grid_steps").value == 12 and at.segmented_control(key="map_method").value == "PCA"


@pytest.mark.slow
def test_a_link_restores_the_draw_and_features_widgets():
    at = opened({"model": "pretrained/conv-ae-2", "dr_width": "30"}, "pages/draw.py")
    assert at.slider(key="dr_width").value == 30
    at = opened({"ft_probe": "knn-5", "ft_labels": "10"}, "pages/features.py")
    assert at.segmented_control(key="ft_probe").value == "knn-5"
    assert at.select_slider(key="ft_labels").value == 10


def test_a_huge_link_is_bounded_before_anything_is_parsed():
    """A 60 KB query string (or one of hundreds of parameters) opens the default view with one note: nothing of it
    is parsed, matched against widgets or echoed back."""
    at = opened({"model": "pretrained/conv-vae-16", "map_grid_steps": "9" * 60_000})
    assert any("it was ignored and the default view opened" in i.value for i in at.info)
    at.switch_page("pages/latent_space.py").run()
    assert at.session_state["model"] == "pretrained/conv-ae-16" and at.slider(key="map_grid_steps").value == 12
    assert len(at.query_params.get("map_grid_steps", "")) < 10  # the URL now says what is on screen
    many = opened({f"p{i}": "1" for i in range(300)})
    assert any("carries 300 settings" in i.value for i in many.info) and not many.exception
