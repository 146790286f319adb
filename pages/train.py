"""Train: fit a model in the background while watching it learn; bring your own data; import and export."""

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from ae.config import TrainConfig
from ae.data.sources import DatasetUnavailable, dataset_names
from ae.errors import InputError
from ae.explore.manifold import pca_plane
from ae.limits import MAX_DATASET_BYTES, MAX_FEATURES, MAX_SAMPLES, MAX_SIDE, MAX_UPLOAD_FILE, mb
from ae.registry import variant_title, variants
from ae.run.experiment import model_config_for
from ae.store.catalog import user_models_dir
from ae.store.export import codes_csv, import_model_zip, model_zip
from ui.analysis import analyse_in_background, need_some
from ui.cache import catalog, job_queue, open_dataset, test_codes
from ui.class_board import name_box, teacher_board, trainer_name
from ui.describe import chart
from ui.images import show, tile_png
from ui.knobs import knob_values, knob_widgets
from ui.onnx_box import onnx_box
from ui.plots import latent_scatter, loss_chart
from ui.shell import ensure_shell
from ui.state import browser_id, choose, current_dataset, current_selection
from ui.uploads import load_upload

ensure_shell()

st.title("Train")
teacher_board()
data = current_dataset()
tab_train, tab_data, tab_io = st.tabs(["Train a model", "Your data", "Import and export"])


def parse_sizes(text: str, what: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(v) for v in text.replace(" ", "").split(",") if v)
    except ValueError as e:
        raise ValueError(f"{what} must be whole numbers separated by commas, like 256,128") from e
    if not sizes or any(s < 1 or s > 4096 for s in sizes):
        raise ValueError(f"{what} must be between 1 and 4096, like 256,128")
    return sizes


def owner() -> str:
    return browser_id()


def stop_job(job_id: str) -> None:
    queue = job_queue()
    job = queue.jobs.get(job_id)
    if job is not None:
        try:
            queue.stop(job)
        except Exception as e:  # the cluster went away mid-call: say so, never a trace
            st.session_state["train_error"] = f"could not reach the training cluster to stop {job.name}: {e}"


def clear_job(job_id: str) -> None:
    job = job_queue().jobs.get(job_id)
    if job is not None:
        job_queue().forget(job)


def use_model(key: str, dataset: str) -> None:
    """The new model and the data it was trained on: its pages read that data, not whatever the sidebar held."""
    catalog.clear()  # the new files must be in the picker's options before it is pointed at them
    choose(dataset=dataset, model=key)


def start_training(data) -> None:
    """Button callback (it runs before the page, so the job exists when the page draws)."""
    ss = st.session_state
    ss.pop("train_error", None)
    try:
        arch, variant = ss["tr_arch"], ss["tr_variant"]
        sizes = parse_sizes(ss["tr_sizes"], "channels" if arch == "conv" else "hidden sizes")
        extra = {"channels": sizes} if arch == "conv" else {"hidden": sizes}
        mcfg = model_config_for(data, arch=arch, variant=variant, latent_dim=int(ss["tr_latent"]),
                                params=knob_values(variant), **extra)
        tcfg = TrainConfig(epochs=int(ss["tr_epochs"]), batch_size=int(ss["tr_batch"]), lr=float(ss["tr_lr"]),
                           seed=int(ss["tr_seed"]))
        job_queue().submit(owner(), str(ss["tr_name"]).strip(), data, mcfg, tcfg, user_models_dir(),
                           builtin=data.name in dataset_names(), by=trainer_name())
    except (ValueError, FileExistsError, RuntimeError) as e:
        ss["train_error"] = str(e)


def show_running(job) -> None:
    s = job.state()
    eta = s.eta_seconds()
    where = f" · training on {s.device}" if s.device else ""
    st.progress(s.epoch / max(s.epochs, 1), text=f"{job.name}: epoch {s.epoch} of {s.epochs}"
                + (f" · about {eta:.0f} s left" if eta is not None else "") + where
                + (f" · {s.message}" if s.message else ""))
    c1, c2 = st.columns([3, 2])
    with c1:
        if len(s.history):
            chart(loss_chart(s.history), "train_chart")
    with c2:
        if s.preview is not None and job.preview_input is not None:
            both = np.concatenate([job.preview_input, s.preview])
            show(tile_png(both, nrow=len(s.preview), pad=1, scale=2), width="stretch",
                 caption=f"fixed test images (top) and their reconstructions after epoch {s.epoch}")
        if s.frames and s.frame_index is not None:
            labels, class_names = recording_labels(job, s.frame_index)
            chart(latent_scatter(s.frames[-1], labels, class_names, ("PC 1", "PC 2"), height=340), "train_live_map")
            st.caption(f"The map of {len(s.frame_index)} test codes after epoch {len(s.frames)} (aligned to the "
                       "epoch before). The whole film plays on the Latent space page once it is saved.")
    st.button("Stop (keep the best weights so far)", key="train_stop", on_click=stop_job, args=(job.spec.id,),
              type="secondary")


def recording_labels(job, index: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """The classes of the recorded test images, from the job's own dataset (it may not be the sidebar's)."""
    try:
        jdata = job.data if job.data is not None else open_dataset(job.spec.dataset)
    except (DatasetUnavailable, InputError):  # the dataset went away: the map is still worth showing, uncoloured
        return None, []
    if jdata.y_test is None or index.max(initial=-1) >= len(jdata.y_test):
        return None, jdata.class_names
    return jdata.y_test.numpy()[index], jdata.class_names


def show_queued(job) -> None:
    s = job.state()
    wait = (f"about {s.wait_s:.0f} s until it starts (from the epochs measured on this cluster)"
            if s.wait_s is not None else "no estimate yet: no job has finished an epoch here")
    st.info(f"**{job.name}** is waiting for a free worker: **number {s.position or '?'} in the queue**; {wait}. "
            "Jobs start in the order they were submitted.", icon=":material/hourglass_top:")
    st.button("Leave the queue", key="train_leave", on_click=stop_job, args=(job.spec.id,))


@st.fragment(run_every=1.0)
def progress() -> None:
    """Redrawn every second while a job runs or waits; a full rerun when one ends puts the model in every picker."""
    jobs = job_queue().jobs_of(owner())
    shown = st.session_state.get("train_live", [])
    st.session_state["train_live"] = [j.spec.id for j in jobs if not j.state().finished]
    if any(j.spec.id in shown and j.state().finished for j in jobs):  # once per ending, then the list is updated
        catalog.clear()
        st.rerun()
    for job in jobs:
        s = job.state()
        if s.running:
            show_running(job)
        elif s.status == "queued":
            show_queued(job)


def show_finished(job) -> None:
    s = job.state()
    unsaved = {"failed": (st.error, f"**Training {job.name} failed.** {s.message}", "Train another"),
               "cancelled": (st.info, f"**{job.name}** left the queue; nothing was trained.", "Dismiss")}
    if s.status in unsaved:
        say, text, label = unsaved[s.status]
        say(text)
        st.button(label, key=f"train_done_{s.status}", on_click=clear_job, args=(job.spec.id,))
        return
    st.success(f"**{job.name}** {'stopped early and ' if s.status == 'stopped' else ''}saved after "
               f"{s.epoch} epoch{'' if s.epoch == 1 else 's'} on {s.device}: test MSE "
               f"{s.metrics.get('mse', float('nan')):.4f}. "
               "It is now in every page's model picker.")
    b1, b2 = st.columns(2)
    b1.button("Use it in the sidebar", key="train_use", on_click=use_model,
               args=(f"yours/{job.name}", job.spec.dataset))
    b2.button("Train another", key="train_again", on_click=clear_job, args=(job.spec.id,))
    if len(s.history):
        chart(loss_chart(s.history), "train_done_chart")  # the running job's chart, kept, with its description


def train_form(data, note: str = "") -> None:
    st.caption(f"Train on **{data.name}** ({len(data.x_train):,} training samples of shape "
               f"{list(data.input_shape)}; 10% held out for validation, the test split kept for the final "
               "metrics). The defaults train a good digit model in about 15 seconds on a laptop CPU." + note)
    image = data.kind == "image"
    c1, c2, c3 = st.columns(3)
    arch = c1.selectbox("Architecture", ["conv", "dense"] if image else ["dense"], key="tr_arch")
    variant = c2.selectbox("Variant", variants(), index=variants().index("vanilla"), key="tr_variant",
                           format_func=lambda v: variant_title(v))
    latent = c3.number_input("Latent size", 1, 256, 16, key="tr_latent")
    c4, c5, c6, c7 = st.columns(4)
    c4.number_input("Epochs", 1, 500, 20, key="tr_epochs")
    c5.number_input("Batch size", 8, 4096, 128, step=8, key="tr_batch")
    c6.number_input("Learning rate", 1e-5, 1.0, 1e-3, format="%.5f", key="tr_lr")
    c7.number_input("Seed", 0, 100_000, 0, key="tr_seed")
    st.text_input("Conv channels (one stride-2 layer each)" if arch == "conv" else
                  "Dense hidden sizes", "32,64" if arch == "conv" else "256,128", key="tr_sizes")
    knob_widgets(variant, image)
    st.text_input("Save as", f"my-{arch}-{variant}-{latent}", key="tr_name",
                  help="letters, digits, '_', '-' or '.'; it must not be taken")
    name_box()
    st.button("Start training", key="train_start", type="primary", on_click=start_training, args=(data,))
    if st.session_state.get("train_error"):
        st.error(f"**Cannot start:** {st.session_state['train_error']}")


with tab_train:
    queue = job_queue()
    if queue.error:
        st.error(f"**Training is unavailable right now.** {queue.error} Every other page works as usual.",
                 icon=":material/cloud_off:")
    jobs = queue.jobs_of(owner())
    finished = [j for j in jobs if j.state().finished]
    active = [j for j in jobs if not j.state().finished]
    if finished:
        show_finished(finished[-1])
    if active:
        progress()
    queued = any(j.state().status == "queued" for j in active)
    if not queue.error and not queued and len(active) < 2 and not finished:
        train_form(data, " A new job waits in the queue until yours ends." if active else "")

with tab_data:
    st.caption(f"Upload an **.npz** (array `x` of [N,H,W], [N,H,W,C] or [N,C,H,W] images, optional labels `y`), a "
               f"**.zip** of images (one subfolder per class, or flat; all one size) or a **CSV** of numeric "
               f"columns (optional label column). Limits: {mb(MAX_UPLOAD_FILE)} per file and "
               f"{mb(MAX_DATASET_BYTES)} once decoded, {MAX_SAMPLES:,} samples, images up to {MAX_SIDE}x{MAX_SIDE}, "
               f"{MAX_FEATURES:,} columns. It becomes a dataset for this session: pick it in the sidebar, train on "
               "it, and explore it on every page.")
    up = st.file_uploader("Your data", type=["npz", "zip", "csv"], key="data_upload")
    label_col = st.text_input("Label column (CSV only, optional)", "", key="data_label")
    if up is not None:
        try:
            with st.spinner(f"Reading {up.name} (a zip of thousands of images takes a while)…"):
                ds = load_upload(up.name, up.getvalue(), label_col)
        except InputError as e:
            ds = None
            st.error(f"**{up.name} cannot be used:** {str(e).removeprefix(f'{up.name}: ')}")
        if ds is not None:
            key = ds.name
            st.success(f"**{Path(up.name).stem}**: {len(ds.x_train):,} train / {len(ds.x_test):,} test samples of "
                       f"shape {list(ds.input_shape)}, {len(ds.class_names) or 'no'} classes.")
            if ds.kind == "image":
                show(tile_png(ds.train_x(slice(0, 32)).numpy(), nrow=16, pad=1, scale=2), caption="the first 32 "
                     "training images", width="stretch")
            else:
                frame = pd.DataFrame(ds.train_x(slice(0, 200)).numpy(), columns=ds.feature_names)
                st.dataframe(frame.head(10), key="data_head")
                st.dataframe(frame.describe().T, key="data_stats")
                st.caption("Values after standardizing with the train split's mean and std.")

            st.button("Use this dataset", key="data_use", on_click=choose, kwargs={"dataset": key})

with tab_io:
    sel = current_selection()
    st.markdown(f"**{sel.entry.name}** (the sidebar's model)")
    st.download_button("Download the model (.zip: safetensors + JSON)", lambda: model_zip(sel.entry.path),
                       f"{sel.entry.name}.zip", "application/zip", key="io_model_zip")
    if need_some(data, ("maps", sel.entry.path))[0] is not None:
        z = test_codes(sel.entry.path, data.name)
        try:
            _, coords = pca_plane(z)
        except InputError:  # too few test samples for a map: the codes alone
            coords = None
        labels = data.y_test.numpy() if data.y_test is not None else None
        st.download_button(f"Download the latent codes{' and PCA map' if coords is not None else ''} of the "
                           f"{data.name} test split (.csv)",
                           lambda: codes_csv(z, coords, labels, data.class_names, "pca"),
                           f"{sel.entry.name}-{data.name}-codes.csv", "text/csv", key="io_codes_csv")
    st.divider()
    zip_up = st.file_uploader("Import a model exported from Latent Lab (.zip)", type=["zip"], key="io_model_upload")
    if zip_up is not None:
        done = st.session_state.setdefault("imported_zips", {})
        digest = hashlib.sha1(zip_up.getvalue()).hexdigest()
        if digest not in done:  # the uploader keeps its file across reruns: import (or refuse) it once
            try:
                name = import_model_zip(zip_up.getvalue(), user_models_dir())
                done[digest] = ("ok", name)
                catalog.clear()
                analyse_in_background(str(user_models_dir() / f"{name}.json"))  # ready before anyone opens it
            except (InputError, FileExistsError) as e:
                done[digest] = ("refused", str(e))
        status, text = done[digest]
        if status == "ok":
            st.success(f"Imported **{text}**; it is in the model picker now.")
        else:
            st.error(f"**{zip_up.name} cannot be imported:** {text}")
    st.divider()
    onnx_box(data)
