"""A model trained anywhere, brought in as ONNX: an encoder graph and a decoder graph, run with onnxruntime (no
pickle, no code from the file). The graphs' bytes are the checkpoint's two tensors, so saving, listing, exporting and
sending the model to a Dask worker treat it as any other model. Its layout (NCHW, NHWC, a flat vector) and latent
size are read from the graphs each time they are loaded and checked against the dataset's input shape, so nothing a
file says about itself is taken on trust.

Not a registered variant (it cannot be trained here): `ae.store.checkpoints` builds it when a config's arch is
"onnx"; its `variant` says whether its encoder gives a mean and a log-variance ("vae") or a code ("vanilla").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ae.config import ModelConfig
from ae.errors import InputError
from ae.models.base import Autoencoder

ARCH = "onnx"
ENCODER, DECODER = "encoder_graph", "decoder_graph"  # the checkpoint's tensors: each graph's bytes
MAX_GRAPH_BYTES = 256 * 2**20  # an MNIST-sized autoencoder is a few MB; weights stored outside the file are refused
MAX_NODES = 20_000  # nodes, counting those inside subgraphs
MAX_DEPTH = 8  # subgraphs (If, Loop, Scan bodies) inside subgraphs
DATA_RANGE = (-0.5, 1.5)  # a decoder's images must land near [0, 1]; logits (no final sigmoid) are far outside


@dataclass(frozen=True)
class Layout:
    """How a graph holds one sample: "nchw" (as here), "nhwc" (Keras), "hw" (one channel, no axis for it) or
    "flat" (a vector); and its batch size when the graph fixes one (None: any)."""

    kind: str
    batch: int | None


def layouts(shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """The per-sample shapes a graph may use for samples of `shape` ([C, H, W] or [D]), by layout name."""
    if len(shape) == 1:
        return {"flat": shape}
    c, h, w = shape
    found = {"nchw": (c, h, w), "nhwc": (h, w, c)}
    if c == 1:
        found["hw"] = (h, w)
    found.setdefault("flat", (c * h * w,))  # dict order: NCHW wins when two layouts read the same
    return found


def find_layout(dims: list[Any], shape: tuple[int, ...], what: str) -> Layout:
    """The layout of a graph's input or output `dims` (batch first) for samples of `shape`; InputError saying what
    was found and what would fit."""
    if not dims:
        raise InputError(f"{what} has no shape; export it with its input and output shapes")
    batch, rest = dims[0], dims[1:]
    if any(not isinstance(d, int) or d < 1 for d in rest):
        raise InputError(f"{what} has a shape {_dims(dims)} with unknown sizes beyond the batch; export it with fixed "
                         "sizes")
    for kind, want in layouts(shape).items():
        if tuple(rest) == want:
            return Layout(kind, batch if isinstance(batch, int) and batch > 0 else None)
    fits = " or ".join(_dims(["N", *s]) for s in layouts(shape).values())
    raise InputError(f"{what} takes {_dims(dims)}; this dataset's samples need {fits}")


def _dims(dims: list[Any]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) and d > 0 else "N" for d in dims) + "]"


def to_graph(x: np.ndarray, layout: Layout) -> np.ndarray:
    """[N, C, H, W] or [N, D] samples as the graph takes them."""
    if layout.kind == "nhwc":
        x = x.transpose(0, 2, 3, 1)
    elif layout.kind == "hw":
        x = x[:, 0]
    elif layout.kind == "flat":
        x = x.reshape(len(x), -1)
    return np.ascontiguousarray(x, dtype=np.float32)


def from_graph(y: np.ndarray, layout: Layout, shape: tuple[int, ...]) -> np.ndarray:
    """The graph's samples back as [N, C, H, W] or [N, D]."""
    if layout.kind == "nhwc":
        y = y.transpose(0, 3, 1, 2)
    return np.ascontiguousarray(y.reshape(len(y), *shape), dtype=np.float32)


# ------------------------------------------------------------------ reading a graph


def check_graph(data: bytes, what: str) -> Any:
    """The ONNX model in `data`, refused with one clear InputError when it is not ONNX, too big, too deep, reads
    weights from other files, or is malformed. Returns the parsed onnx.ModelProto."""
    import onnx
    from google.protobuf.message import DecodeError

    if len(data) > MAX_GRAPH_BYTES:
        raise InputError(f"{what} is {len(data) / 2**20:.0f} MB; the limit is {MAX_GRAPH_BYTES // 2**20} MB")
    try:
        proto = onnx.load_model_from_string(data)
    except (DecodeError, RecursionError, ValueError) as e:
        raise InputError(f"{what} is not an ONNX model (it does not parse as one)") from e
    if not proto.HasField("graph") or not proto.graph.node:
        raise InputError(f"{what} is not an ONNX model (it has no graph)")
    nodes = _count_nodes(proto.graph, what, depth=0)
    if nodes > MAX_NODES:
        raise InputError(f"{what} has {nodes:,} nodes; the limit is {MAX_NODES:,}")
    for init in _initializers(proto.graph):
        if init.data_location == onnx.TensorProto.EXTERNAL or init.external_data:
            raise InputError(f"{what} keeps its weights in other files; export it with every weight inside the "
                             "file (no external data)")
    try:
        onnx.checker.check_model(proto)
    except (onnx.checker.ValidationError, ValueError) as e:
        raise InputError(f"{what} is not a valid ONNX model: {str(e).splitlines()[0][:160]}") from e
    return proto


def _subgraphs(graph: Any) -> list[Any]:
    import onnx

    found = []
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                found.append(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                found.extend(attr.graphs)
    return found


def _count_nodes(graph: Any, what: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise InputError(f"{what} nests subgraphs more than {MAX_DEPTH} deep")
    return len(graph.node) + sum(_count_nodes(g, what, depth + 1) for g in _subgraphs(graph))


def _initializers(graph: Any) -> list[Any]:
    return [*graph.initializer, *(i for g in _subgraphs(graph) for i in _initializers(g))]


def weight_count(proto: Any) -> int:
    """Numbers held by the graph's initializers (its weights)."""
    return sum(math.prod(t.dims) for t in _initializers(proto.graph))


class Graph:
    """One checked ONNX graph in an onnxruntime session (thread-safe: many tabs may run it at once)."""

    def __init__(self, data: bytes, what: str) -> None:
        import onnxruntime as ort

        self.proto = check_graph(data, what)
        self.data, self.what = data, what
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        options.log_severity_level = 3  # errors only: onnxruntime's warnings are not ours to print
        try:
            self.session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own classes (NOT_IMPLEMENTED, INVALID_GRAPH, ...)
            raise InputError(f"onnxruntime cannot run {what}: {_first_line(e)}") from e
        self.inputs, self.outputs = self.session.get_inputs(), self.session.get_outputs()
        if len(self.inputs) != 1:
            raise InputError(f"{what} takes {len(self.inputs)} inputs; an encoder or a decoder takes one")
        if self.inputs[0].type != "tensor(float)":
            raise InputError(f"{what} takes {self.inputs[0].type}; export it to take float32 (tensor(float))")

    @property
    def input_dims(self) -> list[Any]:
        return list(self.inputs[0].shape)

    def output_dims(self, i: int) -> list[Any]:
        return list(self.outputs[i].shape)

    def run(self, x: np.ndarray, batch: int | None) -> list[np.ndarray]:
        """All outputs for the samples `x` (already in the graph's layout), in chunks of the graph's fixed batch
        size when it has one (the last chunk padded, the padding dropped)."""
        feed = self.inputs[0].name
        if batch is None:
            return self._run({feed: x})
        parts = []
        for i in range(0, len(x), batch):
            chunk = x[i : i + batch]
            pad = batch - len(chunk)
            if pad:
                chunk = np.concatenate([chunk, np.zeros((pad, *chunk.shape[1:]), chunk.dtype)])
            parts.append([o[: batch - pad] for o in self._run({feed: chunk})])
        return [np.concatenate([p[k] for p in parts]) for k in range(len(self.outputs))]

    def _run(self, feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        try:
            return [np.asarray(o) for o in self.session.run(None, feed)]
        except Exception as e:
            raise InputError(f"{self.what} failed to run: {_first_line(e)}") from e


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return (text[0] if text else type(e).__name__)[:200]


# ------------------------------------------------------------------ the model


class OnnxAutoencoder(Autoencoder):
    """Encoder and decoder graphs behind the interface every page uses. The decoder gives images in data space (its
    final sigmoid included), so `decode_logits` returns them as they are and the reconstruction error is the MSE."""

    name = ARCH
    title = "imported (ONNX)"
    has_elbo = False  # the likelihood it was trained with is not in the graphs

    def __init__(self, cfg: ModelConfig, encoder: Graph, decoder: Graph) -> None:
        torch.nn.Module.__init__(self)  # no layers to build: the graphs are the model
        self.cfg, self.params = cfg, cfg.knobs
        self.variational = cfg.variant != "vanilla"
        self.samples_prior = self.variational  # its codes were trained towards N(0, I)
        self.register_buffer(ENCODER, torch.frombuffer(bytearray(encoder.data), dtype=torch.uint8))
        self.register_buffer(DECODER, torch.frombuffer(bytearray(decoder.data), dtype=torch.uint8))
        self.enc, self.dec = encoder, decoder
        shape = cfg.input_shape
        self.in_layout = find_layout(self.enc.input_dims, shape, "the encoder's input")
        self.out_layout = find_layout(self.dec.output_dims(0), shape, "the decoder's output")
        latent = latent_size(self.enc, self.variational)
        if latent != cfg.latent_dim:
            raise InputError(f"the encoder gives codes of {latent} numbers, the config says {cfg.latent_dim}")
        code_in = self.dec.input_dims
        if len(code_in) != 2 or code_in[1] != latent:
            raise InputError(f"the decoder takes {_dims(code_in)}; the encoder's codes are [N, {latent}]")
        self.code_batch = code_in[0] if isinstance(code_in[0], int) and code_in[0] > 0 else None

    @property
    def device(self) -> torch.device:
        return torch.device("cpu")

    def n_weights(self, part: str = "all") -> int:
        graphs = {"all": (self.enc, self.dec), "decoder": (self.dec,)}[part]
        return sum(weight_count(g.proto) for g in graphs)

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        outs = self.enc.run(to_graph(_numpy(x), self.in_layout), self.in_layout.batch)
        flat = [o.reshape(len(o), -1) for o in outs]
        mu, logvar = (flat[0], flat[1]) if len(flat) >= 2 else np.split(flat[0], 2, axis=1)
        return torch.from_numpy(mu.copy()).to(x.device), torch.from_numpy(logvar.copy()).to(x.device)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        if self.variational:
            return self.posterior(x)[0]
        out = self.enc.run(to_graph(_numpy(x), self.in_layout), self.in_layout.batch)[0]
        return torch.from_numpy(out.reshape(len(out), -1).copy()).to(x.device)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        y = self.dec.run(np.ascontiguousarray(_numpy(z), dtype=np.float32), self.code_batch)[0]
        return torch.from_numpy(from_graph(y, self.out_layout, self.cfg.input_shape)).to(z.device)

    def to_data(self, logits: torch.Tensor) -> torch.Tensor:
        return logits  # the decoder's output is already in data space


def latent_size(encoder: Graph, variational: bool) -> int:
    """How many numbers the encoder's code has: its output's size, or for a variational encoder the size of its mean
    (two outputs, mean and log-variance, or one output holding both side by side)."""
    outs = [encoder.output_dims(i) for i in range(len(encoder.outputs))]
    sizes = [math.prod(d[1:]) if all(isinstance(v, int) and v > 0 for v in d[1:]) else None for d in outs]
    if None in sizes:
        raise InputError(f"the encoder's outputs have unknown sizes {', '.join(_dims(d) for d in outs)}")
    if not variational:
        return sizes[0]
    if len(sizes) >= 2:
        if sizes[0] != sizes[1]:
            raise InputError(f"a variational encoder gives a mean and a log-variance of one size; this one gives "
                             f"{_dims(outs[0])} and {_dims(outs[1])}")
        return sizes[0]
    if sizes[0] % 2:
        raise InputError(f"a variational encoder with one output gives the mean and log-variance side by side; "
                         f"{_dims(outs[0])} has an odd size")
    return sizes[0] // 2


def from_graphs(encoder: bytes, decoder: bytes, input_shape: tuple[int, ...], variational: bool) -> OnnxAutoencoder:
    """The model two exported graphs make for samples of `input_shape`, its latent size read from the encoder."""
    enc = Graph(encoder, "the encoder")  # read once: its latent size makes the config, then it is the model's
    cfg = ModelConfig(arch=ARCH, variant="vae" if variational else "vanilla", input_shape=input_shape,
                      latent_dim=latent_size(enc, variational), hidden=(), channels=(), recon_loss="mse")
    return OnnxAutoencoder(cfg, enc, Graph(decoder, "the decoder"))


def _numpy(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy()


def from_tensors(cfg: ModelConfig, tensors: dict[str, torch.Tensor], what: str) -> OnnxAutoencoder:
    """The model a checkpoint's config and tensors describe; InputError when they are not two graphs' bytes."""
    if set(tensors) != {ENCODER, DECODER}:
        raise InputError(f"{what} holds {sorted(tensors)[:3]}; an imported model holds {ENCODER} and {DECODER}")
    for k, t in tensors.items():
        if t.dtype != torch.uint8 or t.ndim != 1:
            raise InputError(f"{what}: {k} is not a graph's bytes")
    return OnnxAutoencoder(cfg, Graph(tensors[ENCODER].numpy().tobytes(), "the encoder"),
                           Graph(tensors[DECODER].numpy().tobytes(), "the decoder"))
