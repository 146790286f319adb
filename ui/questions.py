"""Predict, then reveal (issue 20): a lesson step may carry a question bound to the latent map ("where will this noisy
7 land?", "where do the 1s live?"). The teacher asks it; each student answers by clicking a point on their own copy of
the map (or typing its two coordinates: the keyboard's way); the teacher sees the class's answers as a heat map over
the map, then reveals the model's answer to everyone.

A question names the model, dataset and map it is asked on, so every tab places the answers and computes the model's
answer on the same map: for a test image (optionally with Gaussian noise, seeded), the place its code lands (the Draw
page's placement); for a class, the centre of that class's test points. Answers travel on the class's channel, one
slot per browser (a student's new answer replaces their old one).
"""

from __future__ import annotations

import functools
import hashlib
import time
import uuid

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch

from ae.data.noise import corrupt
from ae.explore.drawing import place_on_map
from ui.cache import AXES, MAP_METHODS, catalog, class_channel, fit_plane, map_coords, open_dataset, read_drawing_on
from ui.describe import chart
from ui.follow import QUESTION, is_student
from ui.images import png, show
from ui.lessons import Question
from ui.plots import latent_scatter
from ui.state import browser_id
from ui.teacher import is_teacher

ANSWER = "answer:"
GRID = 41  # the invisible points a click on the student's map lands on, per side
REFRESH_S = 1.0


# ------------------------------------------------------------------ the map a question is asked on


def open_question() -> dict | None:
    """The question asked now (its `id` is the same from asking to closing; a reveal re-publishes it), or None."""
    msg = class_channel().latest(QUESTION)
    return dict(msg.body) if msg and msg.body.get("ask") and msg.body.get("id") else None


def _board(q: dict):
    """(entry, data, map method, [N, 2] test coords, plane or None), or None when this server cannot draw it."""
    entries = {e.key: e for e in catalog()}
    entry = entries.get(q.get("model", ""))
    if entry is None or entry.error:
        return None
    data = open_dataset(q.get("dataset", ""))
    method = q.get("method", "pca")
    coords = map_coords(entry.path, entry.stamp, data.name, method)
    plane = fit_plane(entry.path, entry.stamp, data.name, method)[0] if method in ("pca", "raw") else None
    return entry, data, method, coords, plane


def question_image(q: dict, data) -> np.ndarray | None:
    """The (noisy) test image an image question asks about, [C, H, W]; noise seeded by the question."""
    if q.get("image") is None or not 0 <= int(q["image"]) < len(data.x_test):
        return None
    x = data.test_x([int(q["image"])])
    if q.get("noise"):
        x = corrupt(x, "gaussian", float(q["noise"]), generator=torch.Generator().manual_seed(int(q["image"])))
    return x[0].numpy()


def model_answer(q: dict, board: tuple | None = None) -> tuple[np.ndarray, str] | None:
    """(the model's answer on the map, what it is), or None when the question cannot be answered here. `board`: the
    question's `_board`, when the caller has it already."""
    board = board or _board(q)
    if board is None:
        return None
    entry, data, _, coords, plane = board
    if q.get("label") is not None:
        labels = data.y_test.numpy() if data.y_test is not None else None
        if labels is None or q["label"] not in data.class_names:
            return None
        members = coords[labels == data.class_names.index(q["label"])]
        return members.mean(axis=0), f"the centre of the {len(members)} test {q['label']}s"
    image = question_image(q, data)
    if image is None:
        return None
    report = read_drawing_on(entry.path, entry.stamp, data.name, torch.from_numpy(image[None]))
    point, exact = place_on_map(report, coords, plane)
    return point, "where its code lands" + ("" if exact else " (placed among its nearest test codes)")


def answers(q: dict) -> np.ndarray:
    """[n, 2] the class's answers to question q (each student's latest)."""
    got = [m.body for m in class_channel().each(ANSWER) if m.body.get("q") == q["id"]]
    return np.array([[float(a["x"]), float(a["y"])] for a in got], dtype=np.float64).reshape(-1, 2)


def question_map(q: dict, coords: np.ndarray, data, method: str, mine: np.ndarray | None, heat: np.ndarray | None,
                 truth: np.ndarray | None, clickable: bool) -> go.Figure:
    labels = data.y_test.numpy() if data.y_test is not None else None
    fig = latent_scatter(coords, labels, data.class_names, AXES.get(method, ("z[0]", "z[1]")), height=460)
    fig.update_traces(marker=dict(size=4, opacity=0.3), hoverinfo="skip", hovertemplate=None)
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = (hi - lo) * 0.05
    if clickable:
        gx, gy = np.meshgrid(np.linspace(lo[0] - pad[0], hi[0] + pad[0], GRID),
                             np.linspace(lo[1] - pad[1], hi[1] + pad[1], GRID))
        fig.add_trace(go.Scatter(x=gx.ravel(), y=gy.ravel(), mode="markers", name="click to answer",
                                 marker=dict(size=11, color="rgba(0,0,0,0)"), showlegend=False,
                                 hovertemplate="answer here<extra></extra>"))
    if heat is not None and len(heat):
        counts, xe, ye = np.histogram2d(heat[:, 0], heat[:, 1], bins=16,
                                        range=[[lo[0] - pad[0], hi[0] + pad[0]], [lo[1] - pad[1], hi[1] + pad[1]]])
        z = np.where(counts.T > 0, counts.T, np.nan)  # empty cells stay clear: the map shows through
        fig.add_trace(go.Heatmap(x=(xe[:-1] + xe[1:]) / 2, y=(ye[:-1] + ye[1:]) / 2, z=z, colorscale="Reds",
                                 zmin=0, opacity=0.75, showscale=False, name="the class's answers",
                                 hovertemplate="%{z:.0f} answers here<extra></extra>"))
    if mine is not None:
        fig.add_trace(go.Scatter(x=[mine[0]], y=[mine[1]], mode="markers+text", text=["you"], name="your answer",
                                 textposition="top center", marker=dict(size=16, symbol="x", color="black")))
    if truth is not None:
        fig.add_trace(go.Scatter(x=[truth[0]], y=[truth[1]], mode="markers+text", text=["the model"],
                                 textposition="bottom center", name="the model's answer",
                                 marker=dict(size=24, symbol="star", color="gold", line=dict(width=2, color="black"))))
    fig.update_layout(dragmode=False, clickmode="event+select", xaxis_range=[lo[0] - pad[0], hi[0] + pad[0]],
                      yaxis_range=[lo[1] - pad[1], hi[1] + pad[1]])
    return fig


# ------------------------------------------------------------------ the student's side


def _answer(qid: str, x: float, y: float) -> None:
    class_channel().publish(ANSWER + browser_id(), {"q": qid, "x": float(x), "y": float(y)})
    st.session_state["_q_mine"] = (qid, float(x), float(y))


def _clicked(qid: str) -> None:
    points = (st.session_state.get("q_map") or {}).get("selection", {}).get("points", [])
    if points:
        _answer(qid, points[0]["x"], points[0]["y"])


def _typed(qid: str) -> None:
    _answer(qid, st.session_state.get("q_x", 0.0), st.session_state.get("q_y", 0.0))


def student_panel() -> None:
    """Above a student's page while a question is open: the question, their map, their answer; after the reveal, the
    model's answer."""
    q = open_question() if is_student() else None
    board = _board(q) if q else None
    if board is None:
        return
    _, data, method, coords, _ = board
    mine = st.session_state.get("_q_mine")
    mine = np.array(mine[1:]) if mine and mine[0] == q["id"] else None
    truth = model_answer(q, board) if q.get("revealed") else None
    with st.container(border=True):
        st.markdown(f":material/quiz: **The teacher asks:** {q['ask']}")
        image = question_image(q, data)
        c1, c2 = st.columns([1, 4]) if image is not None else (None, st.container())
        if image is not None:
            with c1:
                show(png(image, 4), f"test image #{q['image']}" + (f", noise {q['noise']}" if q.get("noise") else ""),
                     112)
        with c2:
            chart(question_map(q, coords, data, method, mine, None, truth[0] if truth else None,
                               clickable=not q.get("revealed")),
                  "q_map", on_select=functools.partial(_clicked, q["id"]), selection_mode="points")
        if truth is not None:
            far = f" Yours is {np.linalg.norm(mine - truth[0]):.2f} away." if mine is not None else ""
            st.success(f"**The model's answer:** {truth[1]} (the gold star).{far}", icon=":material/visibility:")
        elif mine is not None:
            st.caption(f"Your answer: ({mine[0]:.2f}, {mine[1]:.2f}). Click again to change it; the teacher reveals "
                       "the model's answer when the class has answered.")
        else:
            st.caption("Click the map where you think it is. Without a mouse, type the two coordinates below.")
        if not q.get("revealed"):
            k1, k2, k3 = st.columns([1, 1, 1])
            k1.number_input("x", value=float(np.mean(coords[:, 0])), key="q_x", format="%.2f")
            k2.number_input("y", value=float(np.mean(coords[:, 1])), key="q_y", format="%.2f")
            k3.button("Answer at (x, y)", key="q_answer", on_click=_typed, args=(q["id"],))


# ------------------------------------------------------------------ the teacher's side


def ask(step_question: Question, model: str, dataset: str, method: str) -> None:
    """Pose a lesson step's question on the teacher's current model, dataset and map."""
    body = {"ask": step_question.ask, "image": step_question.image, "noise": step_question.noise,
            "label": step_question.label, "model": model, "dataset": dataset, "method": method,
            "revealed": False, "asked": time.time(), "id": uuid.uuid4().hex[:12]}
    class_channel().publish(QUESTION, body)


def reveal() -> None:
    q = open_question()
    if q is not None:
        class_channel().publish(QUESTION, {**q, "revealed": True})


def close() -> None:
    class_channel().publish(QUESTION, {})


def teacher_panel() -> None:
    """Above the teacher's page while a question is open: the class's answers as a heat map, refreshed each second."""
    if is_teacher() and open_question() is not None:
        _teacher_heat()


@st.fragment(run_every=REFRESH_S)
def _teacher_heat() -> None:
    q = open_question()
    board = _board(q) if q else None
    if board is None:
        return
    _, data, method, coords, _ = board
    got = answers(q)
    truth = model_answer(q, board) if q.get("revealed") else None
    with st.container(border=True):
        st.markdown(f":material/quiz: **You asked:** {q['ask']} · **{len(got)}** answer{'s' if len(got) != 1 else ''}"
                    + (" · revealed" if truth else ""))
        digest = hashlib.blake2b(got.tobytes(), digest_size=6).hexdigest()
        chart(question_map(q, coords, data, method, None, got, truth[0] if truth else None, clickable=False),
              f"q_heat_{digest}_{bool(truth)}")
        if truth is not None and len(got):
            d = np.linalg.norm(got - truth[0], axis=1)
            st.caption(f"The model's answer: {truth[1]}. The class's answers are {np.median(d):.2f} from it "
                       f"(median); the nearest {d.min():.2f}.")


def method_of(params: dict[str, str]) -> str:
    """The map a step's link shows (Latent space's map_method or Draw's dr_method), PCA if it names none."""
    name = params.get("map_method") or params.get("dr_method") or "PCA"
    return MAP_METHODS.get(name, "pca")
