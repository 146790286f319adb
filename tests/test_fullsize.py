"""Full-size data, written by the tests in the formats torchvision reads (never downloaded): 70,000 MNIST digits as
IDX files and 60,000 CIFAR-10-format colour images, read through the real `mnist` and `cifar10` sources, held as
bytes, and every page working on them."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ae.data.sources import load_dataset
from ae.errors import InputError
from tests.fullsize import write_cifar10, write_mnist
from tests.helpers import app

pytestmark = pytest.mark.slow  # writing 130,000 full-size images takes ~20 s

PAGES = ("reconstructions", "latent_space", "draw", "generate", "denoise", "anomalies", "compare", "compress",
         "features")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A data folder, as $LATENT_LAB_DATA for this module's tests; each dataset is written when a test first asks."""
    root = tmp_path_factory.mktemp("full-data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENT_LAB_DATA", str(root))
        # torchvision checks the real CIFAR-10 files' MD5 sums; ours are CIFAR's format with other pixels
        mp.setattr("torchvision.datasets.cifar.check_integrity", lambda *a, **k: True)
        yield root


@pytest.fixture(scope="module")
def mnist(data_root):
    write_mnist(data_root)
    return load_dataset("mnist")


@pytest.fixture(scope="module")
def cifar(data_root):
    write_cifar10(data_root)
    return load_dataset("cifar10")


def test_full_mnist_is_read_from_idx_files_and_held_as_bytes(mnist):
    assert mnist.x_train.shape == (60_000, 1, 28, 28) and mnist.x_test.shape == (10_000, 1, 28, 28)
    assert mnist.x_train.dtype == torch.uint8 and mnist.nbytes == 70_000 * 784  # 55 MB, not 220 MB of float32
    assert mnist.source.startswith("torchvision.datasets.MNIST") and mnist.class_names[3].startswith("3")
    x = mnist.test_x(slice(0, 5))
    assert x.dtype == torch.float32 and 0 <= float(x.min()) and float(x.max()) <= 1
    assert torch.equal(mnist.x_test[0], torch.from_numpy(np.asarray(mnist.x_test[0])))


def test_cifar_format_is_read_in_colour_within_the_budget(cifar):
    from ae.limits import MAX_DATASET_BYTES

    assert cifar.x_train.shape == (50_000, 3, 32, 32) and cifar.x_test.shape == (10_000, 3, 32, 32)
    assert cifar.x_train.dtype == torch.uint8 and cifar.nbytes == 60_000 * 3072 <= MAX_DATASET_BYTES  # 184 MB
    assert cifar.class_names[0] == "airplane" and int(cifar.y_test.max()) == 9


def test_a_built_in_source_over_the_budget_is_refused(monkeypatch, mnist5k):
    monkeypatch.setattr("ae.data.sources.MAX_DATASET_BYTES", 2**20)
    with pytest.raises(InputError, match="takes 4 MB in memory, over the budget of 1 MB"):
        load_dataset("mnist-5k")


def points(array) -> int:
    """How many numbers a plotly figure's array holds (plain, or a typed array in base64)."""
    import base64

    if isinstance(array, dict):
        return len(base64.b64decode(array["bdata"])) // np.dtype(array["dtype"]).itemsize
    return len(array)


def tiny_model(data, models_dir, name: str, **model):
    """A model trained one epoch through the one pipeline (its analyses are computed as it is saved)."""
    from ae.config import TrainConfig
    from ae.run.experiment import model_config_for
    from ae.run.pipeline import preflight, train_and_save
    from ui.cache import catalog

    r = train_and_save(data, preflight(model_config_for(data, **model), TrainConfig(epochs=1, batch_size=256), data),
                       models_dir, name)
    catalog.clear()
    return r


def test_every_page_works_on_full_mnist_with_all_10000_points_on_the_map(mnist, models_dir):
    r = tiny_model(mnist, models_dir, "full-tiny", arch="dense", latent_dim=8, hidden=(64,))
    assert r.meta["metrics"]["n"] == 10_000
    for page in PAGES:
        at = app(f"pages/{page}.py", dataset="mnist", model="yours/full-tiny")
        assert not at.exception and not at.error, (page, [e.value for e in at.error])
        if page == "latent_space":
            spec = json.loads(at.get("plotly_chart")[0].proto.spec)
            assert sum(points(t["x"]) for t in spec["data"]) == 10_000  # every test digit is drawn
            at.segmented_control(key="map_method").set_value("UMAP").run()
            assert any("UMAP fitted on all 10,000 codes" in c.value for c in at.caption)
            at.segmented_control(key="map_method").set_value("t-SNE").run()
            assert any("fitted on a seeded 5,000 of the 10,000 codes" in c.value for c in at.caption)
        if page == "features":
            assert any("a seeded 10,000 of the 60,000 training samples" in c.value for c in at.caption)


def test_the_colour_pages_work_on_cifar_and_draw_says_it_is_for_digits(cifar, models_dir):
    tiny_model(cifar, models_dir, "cifar-tiny", arch="dense", latent_dim=16, hidden=(64,))
    for page in ("reconstructions", "latent_space", "generate", "denoise", "compress", "features"):
        at = app(f"pages/{page}.py", dataset="cifar10", model="yours/cifar-tiny")
        assert not at.exception and not at.error, (page, [e.value for e in at.error])
    at = app("pages/reconstructions.py", dataset="cifar10", model="yours/cifar-tiny")
    assert at.image[0].proto.imgs  # colour pairs drawn
    draw = app("pages/draw.py", dataset="cifar10", model="yours/cifar-tiny")
    assert any("The Draw page is for digit models" in i.value for i in draw.info)
