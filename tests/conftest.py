"""Shared fixtures. Tests never touch the network or the user's cache: data lives in a temporary folder."""

from __future__ import annotations

import os
import tempfile

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):  # `make test-fast` runs 2 test processes on the cores: one thread each,
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):  # or PyTorch's OpenMP threads spin against each other
        os.environ.setdefault(_var, "1")
_DATA = tempfile.mkdtemp(prefix="latent-lab-test-data-")
os.environ["LATENT_LAB_DATA"] = _DATA
os.environ["LATENT_LAB_OFFLINE"] = "1"
os.environ["LATENT_LAB_NO_WARMUP"] = "1"  # no UMAP warm-up tasks on the test clusters' workers
# AppTest pages compute missing analyses in a thread of the test process instead of on a Dask analysis worker (the
# worker path has its own tests in test_analyses.py); the browser tests' real server does not inherit this.
os.environ["LATENT_LAB_ANALYSIS_INLINE"] = "1"


@pytest.fixture
def models_dir(tmp_path, monkeypatch):
    """The user's models folder, empty and private to the test; the app's catalog cache forgets the old one."""
    folder = tmp_path / "models"
    monkeypatch.setenv("LATENT_LAB_MODELS", str(folder))
    from ui.cache import catalog

    catalog.clear()
    yield folder
    catalog.clear()  # the next test must not see this folder's models


@pytest.fixture(scope="session")
def mnist5k():
    from ae.data.sources import load_dataset

    return load_dataset("mnist-5k")


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's 8x8 digits: where a job's path is under test and not what it learns, its analyses take a third
    of mnist-5k's time."""
    from ae.data.sources import load_dataset

    return load_dataset("digits")


from tests.browser import browser, page, shared_context, streamlit_url  # noqa: E402,F401  (fixtures for test_browser.py)
