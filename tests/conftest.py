"""Shared fixtures. Tests never touch the network or the user's cache: data lives in a temporary folder."""

from __future__ import annotations

import os
import tempfile

import pytest

_DATA = tempfile.mkdtemp(prefix="latent-lab-test-data-")
os.environ["LATENT_LAB_DATA"] = _DATA
os.environ["LATENT_LAB_OFFLINE"] = "1"
os.environ["LATENT_LAB_NO_WARMUP"] = "1"  # the UMAP warm-up thread has its own test (it clears this)


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """The user's models folder, empty and private to the test; the app's catalog cache forgets the old one."""
    folder = tmp_path / "models"
    monkeypatch.setenv("LATENT_LAB_MODELS", str(folder))
    from ui.cache import catalog

    catalog.clear()
    return folder


@pytest.fixture(scope="session")
def mnist5k():
    from ae.data.sources import load_dataset

    return load_dataset("mnist-5k")


from tests.browser import browser, page, streamlit_url  # noqa: E402,F401  (fixtures for test_browser.py)
