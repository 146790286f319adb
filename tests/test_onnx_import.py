"""Models trained anywhere, brought in as ONNX (issue 21): the same codes and images as the original, NHWC graphs
read right, every bad file refused with its reason, and the import listed with its measured metrics."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from ae.errors import InputError
from ae.models.imported import from_graphs

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402


class ConvEncoder(nn.Module):
    def __init__(self, latent: int = 6) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),
                                 nn.Flatten(), nn.Linear(16 * 7 * 7, latent))

    def forward(self, x):
        return self.net(x)


class ConvDecoder(nn.Module):
    def __init__(self, latent: int = 6) -> None:
        super().__init__()
        self.fc = nn.Linear(latent, 16 * 7 * 7)
        self.net = nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(16, 8, 4, 2, 1), nn.ReLU(),
                                 nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Sigmoid())

    def forward(self, z):
        return self.net(self.fc(z).view(-1, 16, 7, 7))


def exported(module: nn.Module, example: torch.Tensor, names: tuple[str, str] = ("x", "y")) -> bytes:
    buf = io.BytesIO()
    torch.onnx.export(module.eval(), (example,), buf, dynamo=False, input_names=[names[0]], output_names=[names[1]],
                      dynamic_axes={names[0]: {0: "n"}, names[1]: {0: "n"}})
    return buf.getvalue()


@pytest.fixture(scope="module")
def conv_pair():
    torch.manual_seed(0)
    enc, dec = ConvEncoder(), ConvDecoder()
    return enc, dec, exported(enc, torch.zeros(2, 1, 28, 28)), exported(dec, torch.zeros(2, 6))


def graph(nodes, inputs, outputs, inits=(), opsets=(("", 17),)) -> bytes:
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets])
    m.ir_version = 8
    return m.SerializeToString()


def tensor(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def keras_pair(latent: int = 4, sigmoid: bool = True) -> tuple[bytes, bytes, np.ndarray, np.ndarray]:
    """A dense Keras-style pair on NHWC images: [N, 28, 28, 1] -> Flatten -> MatMul -> [N, latent] -> MatMul
    (-> Sigmoid) -> Reshape [N, 28, 28, 1]."""
    rng = np.random.default_rng(0)
    w_enc = rng.normal(0, 0.05, (784, latent)).astype(np.float32)
    w_dec = rng.normal(0, 0.5, (latent, 784)).astype(np.float32)
    enc = graph([helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("MatMul", ["f", "w"], ["z"])],
                [tensor("x", ["n", 28, 28, 1])], [tensor("z", ["n", latent])], [numpy_helper.from_array(w_enc, "w")])
    out = "s" if sigmoid else "y"
    nodes = [helper.make_node("MatMul", ["z", "w"], ["y"])]
    if sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["y"], ["s"]))
    nodes.append(helper.make_node("Reshape", [out, "shape"], ["img"]))
    dec = graph(nodes, [tensor("z", ["n", latent])], [tensor("img", ["n", 28, 28, 1])],
                [numpy_helper.from_array(w_dec, "w"), numpy_helper.from_array(np.array([-1, 28, 28, 1]), "shape")])
    return enc, dec, w_enc, w_dec


def test_a_pytorch_conv_autoencoder_exported_to_onnx_gives_the_same_codes_and_images(conv_pair, mnist5k, tmp_path):
    from ae.store.checkpoints import load_model, save_model

    enc, dec, enc_bytes, dec_bytes = conv_pair
    model = from_graphs(enc_bytes, dec_bytes, mnist5k.input_shape, variational=False)
    assert model.cfg.latent_dim == 6 and model.in_layout.kind == "nchw" and model.out_layout.kind == "nchw"
    path = save_model(model, tmp_path, "from-torch", {"dataset": {"name": "mnist-5k"}})
    loaded, meta = load_model(path)  # through the checkpoint: the graphs are read again, nothing else trusted
    assert meta["parameters"] == sum(p.numel() for p in [*enc.parameters(), *dec.parameters()])
    x = mnist5k.test_x(slice(0, 200))
    with torch.no_grad():
        z_torch, x_torch = enc(x), dec(enc(x))
        z, x_hat = loaded.encode(x), loaded.reconstruct(x)
    assert (z - z_torch).abs().max() < 1e-4
    assert (x_hat - x_torch).abs().max() < 1e-4
    assert x_hat.shape == x.shape


def test_a_keras_style_nhwc_graph_is_read_in_its_own_layout(mnist5k):
    enc, dec, w_enc, w_dec = keras_pair()
    model = from_graphs(enc, dec, mnist5k.input_shape, variational=False)
    assert model.in_layout.kind == "nhwc" and model.out_layout.kind == "nhwc"
    x = mnist5k.test_x(slice(0, 10))
    nhwc = x.numpy().transpose(0, 2, 3, 1).reshape(10, -1)  # Keras flattens height, width, then channels
    expected_z = nhwc @ w_enc
    z = model.encode(x).numpy()
    assert np.abs(z - expected_z).max() < 1e-4
    images = 1 / (1 + np.exp(-(expected_z @ w_dec)))
    expected = images.reshape(10, 28, 28, 1).transpose(0, 3, 1, 2)
    assert np.abs(model.decode(torch.from_numpy(z)).numpy() - expected).max() < 1e-4


def test_a_variational_encoder_gives_its_mean_as_the_code(mnist5k):
    rng = np.random.default_rng(1)
    w = rng.normal(0, 0.05, (784, 8)).astype(np.float32)  # one output: mean (4) and log-variance (4) side by side
    enc = graph([helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("MatMul", ["f", "w"], ["z"])],
                [tensor("x", ["n", 1, 28, 28])], [tensor("z", ["n", 8])], [numpy_helper.from_array(w, "w")])
    _, dec, _, _ = keras_pair(latent=4)
    model = from_graphs(enc, dec, mnist5k.input_shape, variational=True)
    assert model.cfg.latent_dim == 4 and model.samples_prior and not model.has_elbo
    x = mnist5k.test_x(slice(0, 5))
    assert np.abs(model.encode(x).numpy() - (x.numpy().reshape(5, -1) @ w)[:, :4]).max() < 1e-4


def bad_files() -> dict[str, tuple[bytes, bytes, str]]:
    enc, dec, _, _ = keras_pair()
    cifar = graph([helper.make_node("Flatten", ["x"], ["z"], axis=1)], [tensor("x", ["n", 3, 32, 32])],
                  [tensor("z", ["n", 3072])])
    custom = graph([helper.make_node("Encode", ["x"], ["z"], domain="com.example")], [tensor("x", ["n", 1, 28, 28])],
                   [tensor("z", ["n", 4])], opsets=(("", 17), ("com.example", 1)))
    _, logits, _, _ = keras_pair(sigmoid=False)
    return {
        "not onnx": (b"PK\x03\x04 this is a zip, not a graph", dec, "is not an ONNX model"),
        "wrong shapes": (cifar, dec, "takes [N, 3, 32, 32]; this dataset's samples need [N, 1, 28, 28]"),
        "operator missing": (custom, dec, "onnxruntime cannot run the encoder"),
        "codes do not fit": (enc, keras_pair(latent=5)[1], "the decoder takes [N, 5]; the encoder's codes are [N, 4]"),
        "decoder without sigmoid": (enc, logits, "export the decoder with its final sigmoid"),
        "deeply nested": (nested(12), dec, "nests subgraphs more than 8 deep"),
        "external weights": (external(), dec, "keeps its weights in other files"),
    }


def nested(depth: int) -> bytes:
    """An encoder whose only node is an If whose branches hold Ifs ... `depth` deep."""
    body = helper.make_graph([helper.make_node("Identity", ["x"], ["z"])], "leaf", [], [tensor("z", ["n", 784])])
    for i in range(depth):
        node = helper.make_node("If", ["c"], ["z"], then_branch=body, else_branch=body)
        body = helper.make_graph([node], f"level{i}", [], [tensor("z", ["n", 784])])
    cond = numpy_helper.from_array(np.array(True), "c")
    return graph(list(body.node), [tensor("x", ["n", 1, 28, 28])], [tensor("z", ["n", 784])], [cond])


def external() -> bytes:
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[784, 4])
    w.data_location = TensorProto.EXTERNAL
    w.external_data.add(key="location", value="../../etc/passwd")
    return graph([helper.make_node("Flatten", ["x"], ["f"], axis=1), helper.make_node("MatMul", ["f", "w"], ["z"])],
                 [tensor("x", ["n", 1, 28, 28])], [tensor("z", ["n", 4])], [w])


@pytest.mark.parametrize("case", ["not onnx", "wrong shapes", "operator missing", "codes do not fit",
                                  "decoder without sigmoid", "deeply nested", "external weights"])
def test_each_bad_file_is_refused_with_its_reason(case, mnist5k, tmp_path):
    from ae.run.importer import import_onnx

    enc, dec, reason = bad_files()[case]
    with pytest.raises(InputError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        import_onnx(enc, dec, mnist5k, tmp_path, "bad")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_a_graph_over_the_size_limit_is_refused_before_it_is_parsed(monkeypatch, tmp_path):
    from ae.models import imported
    from ae.run import importer

    monkeypatch.setattr(imported, "MAX_GRAPH_BYTES", 1000)
    monkeypatch.setattr(importer, "MAX_GRAPH_BYTES", 1000)
    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * 5000)
    with pytest.raises(InputError, match="the limit is 0 MB|the limit is"):
        importer.read_graph(big, "the encoder")
    with pytest.raises(InputError, match="the limit is"):
        imported.check_graph(b"\0" * 5000, "the encoder")


@pytest.mark.slow
def test_the_command_line_imports_a_pair_and_it_lists_with_its_measured_metrics(models_dir, tmp_path):
    """End to end on the 8x8 digits (cheap analyses): `python -m ae import`, then the catalog lists it with the MSE
    the original PyTorch model gets on the same test split."""
    from ae.data.sources import load_dataset
    from ae.store.catalog import list_catalog

    torch.manual_seed(0)
    enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 3))
    dec = nn.Sequential(nn.Linear(3, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    (tmp_path / "enc.onnx").write_bytes(exported(enc, torch.zeros(2, 1, 8, 8)))
    (tmp_path / "dec.onnx").write_bytes(exported(dec, torch.zeros(2, 3)))
    out = models_dir
    run = subprocess.run([sys.executable, "-m", "ae", "import", str(tmp_path / "enc.onnx"), str(tmp_path / "dec.onnx"),
                          "--dataset", "digits", "--name", "elsewhere", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert "saved" in run.stdout
    data = load_dataset("digits")
    with torch.no_grad():
        mse = float(((dec(enc(data.test_x())) - data.test_x()) ** 2).mean())
    entry = next(e for e in list_catalog() if e.name == "elsewhere")
    assert entry.arch == "onnx" and entry.latent_dim == 3 and "imported" in entry.label()
    assert abs(entry.mse - mse) < 1e-5
    bad = subprocess.run([sys.executable, "-m", "ae", "import", str(tmp_path / "dec.onnx"), str(tmp_path / "enc.onnx"),
                          "--dataset", "digits", "--name", "swapped", "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert bad.returncode == 2 and "error: the encoder's input takes [N, 3]" in bad.stderr


def test_the_train_page_imports_a_pair_or_says_why_not(models_dir, monkeypatch):
    """On the page: a bad pair gets its one message (and nothing is saved); a good one is in the model picker."""
    from tests.helpers import app
    from ui import onnx_box

    monkeypatch.setattr(onnx_box, "analyse_in_background", lambda path: None)  # its maps: not this test's business
    enc, dec, _, _ = keras_pair()
    _, logits, _, _ = keras_pair(sigmoid=False)
    at = app("pages/train.py").run()
    at.file_uploader(key="onnx_encoder").set_value(("enc.onnx", enc, "application/octet-stream"))
    at.file_uploader(key="onnx_decoder").set_value(("dec.onnx", logits, "application/octet-stream"))
    at.text_input(key="onnx_name").set_value("keras-ae").run()
    at.button(key="onnx_import").click().run()
    assert not at.exception
    assert any("export the decoder with its final sigmoid" in e.value for e in at.error)
    assert not list(models_dir.glob("keras-ae*"))
    at.file_uploader(key="onnx_decoder").set_value(("dec.onnx", dec, "application/octet-stream")).run()
    at.button(key="onnx_import").click().run()
    assert not at.exception
    assert any("Imported **keras-ae**" in s.value for s in at.success)
    assert (models_dir / "keras-ae.json").is_file() and (models_dir / "keras-ae.safetensors").is_file()
    picker = at.selectbox(key="model_picker")
    assert any("keras-ae" in str(o) and "imported" in str(o) for o in picker.options)


@pytest.mark.slow
def test_every_page_stands_with_an_imported_model(models_dir):
    """An imported model is a first-class citizen: every page runs with it picked (on the 8x8 digits, whose analyses
    the pages compute quickly), Compress counts its decoder's weights, and a Dask-style reload from bytes works."""
    from ae.data.sources import load_dataset
    from ae.run.importer import import_onnx
    from ae.store.checkpoints import model_from_bytes, read_meta
    from tests.helpers import app
    from tests.test_robustness_pages import PAGES

    data = load_dataset("digits")
    torch.manual_seed(0)
    enc = nn.Sequential(nn.Flatten(), nn.Linear(64, 2))
    dec = nn.Sequential(nn.Linear(2, 64), nn.Sigmoid(), nn.Unflatten(1, (1, 8, 8)))
    path, _ = import_onnx(exported(enc, torch.zeros(2, 1, 8, 8)), exported(dec, torch.zeros(2, 2)), data,
                          models_dir, "onnx-digits", analyse=False)
    model = model_from_bytes(path.with_suffix(".safetensors").read_bytes(), read_meta(path))
    assert model.n_weights("decoder") == sum(p.numel() for p in dec.parameters())
    at = app(dataset="digits", model="yours/onnx-digits")
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
