"""Headless AppTest of every page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_home_renders_device_and_datasets():
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value.endswith("Latent Lab")
    assert at.metric[0].label == "Running on"
    assert at.metric[0].value in ("CPU", "Apple MPS") or at.metric[0].value.startswith("GPU: ")
    names = list(at.dataframe[0].value["dataset"])
    assert names[:2] == ["mnist-5k", "digits"] and "cifar10" in names
