"""Built-in dataset sources, including the torchvision path read from small IDX files written here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ae.data.sources import DatasetUnavailable, dataset_names, load_dataset


def test_mnist_5k_is_the_offline_default(mnist5k):
    d = mnist5k
    assert dataset_names()[0] == "mnist-5k"
    assert d.x_train.shape == (4000, 1, 28, 28) and d.x_test.shape == (1000, 1, 28, 28)
    assert d.x_train.dtype == torch.uint8 and int(d.x_train.min()) == 0 and int(d.x_train.max()) == 255  # as stored
    x = d.test_x()
    assert x.dtype == torch.float32 and float(x.min()) == 0 and float(x.max()) == 1  # as a model reads it
    assert d.nbytes == 5000 * 784  # one byte a pixel
    assert torch.bincount(d.y_test).tolist() == [100] * 10  # stratified
    assert torch.bincount(d.y_train).tolist() == [400] * 10
    assert d.class_names == [str(i) for i in range(10)]


def test_mnist_5k_split_is_fixed_and_cached(mnist5k):
    from ae.data.sources import data_dir

    assert (data_dir() / "mnist-5k.npz").exists()
    again = load_dataset("mnist-5k")
    assert torch.equal(again.x_test, mnist5k.x_test) and torch.equal(again.y_train, mnist5k.y_train)


def test_digits():
    d = load_dataset("digits")
    assert d.x_train.shape[1:] == (1, 8, 8)
    assert len(d.x_train) + len(d.x_test) == 1797
    assert 0 <= float(d.x_train.min()) and float(d.x_train.max()) <= 1


def write_idx(folder, prefix: str, images: np.ndarray, labels: np.ndarray) -> None:
    from tests.fullsize import write_idx as write

    folder.mkdir(parents=True, exist_ok=True)
    write(folder / f"{prefix}-images-idx3-ubyte", images)
    write(folder / f"{prefix}-labels-idx1-ubyte", labels)


@pytest.mark.parametrize("name,folder", [("mnist", "MNIST"), ("fashion-mnist", "FashionMNIST"), ("kmnist", "KMNIST")])
def test_torchvision_sources_read_idx_files_offline(tmp_path, name, folder):
    rng = np.random.default_rng(0)
    raw = tmp_path / folder / "raw"
    tr_x, tr_y = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8), (np.arange(12) % 10).astype(np.uint8)
    te_x, te_y = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8), np.arange(5).astype(np.uint8)
    write_idx(raw, "train", tr_x, tr_y)
    write_idx(raw, "t10k", te_x, te_y)
    d = load_dataset(name, root=tmp_path, download=False)
    assert d.x_train.shape == (12, 1, 28, 28) and d.x_test.shape == (5, 1, 28, 28)
    assert torch.equal(d.x_train[3, 0], torch.from_numpy(tr_x[3]))  # stored as the file's bytes
    assert torch.allclose(d.train_x(3)[0], torch.from_numpy(tr_x[3]).float() / 255)
    assert d.y_test.tolist() == [0, 1, 2, 3, 4]
    assert len(d.class_names) == 10


@pytest.mark.timeout(60)
@pytest.mark.parametrize("download", [False, True])
def test_missing_torchvision_data_says_which_files_go_where(tmp_path, download):
    with pytest.raises(DatasetUnavailable) as err:
        load_dataset("fashion-mnist", root=tmp_path, download=download)  # LATENT_LAB_OFFLINE=1 in conftest
    msg = str(err.value)
    assert str(tmp_path / "FashionMNIST" / "raw") in msg
    assert "train-images-idx3-ubyte" in msg and "t10k-labels-idx1-ubyte" in msg
    with pytest.raises(DatasetUnavailable, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10", root=tmp_path, download=download)


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'mnist5k'; choose one of mnist-5k"):
        load_dataset("mnist5k")
