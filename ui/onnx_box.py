"""The Train page's box for a model trained elsewhere (issue 21): an encoder and a decoder exported to ONNX, checked
and measured on the sidebar's dataset (ae.run.importer), then in every model picker; its maps and other analyses are
queued on the workers, as for an imported zip."""

from __future__ import annotations

import hashlib

import streamlit as st

from ae.data.sources import Dataset
from ae.errors import InputError
from ae.store.catalog import user_models_dir
from ae.store.checkpoints import reserved
from ui.analysis import analyse_in_background
from ui.cache import catalog

GO = "_onnx_go"  # the Import button was pressed
DONE = "imported_onnx"  # per tab: (files' digest, name, variational, dataset) -> ("ok", name) or ("refused", why)


def onnx_box(data: Dataset) -> None:
    st.markdown("**Import a model trained elsewhere (ONNX)**")
    st.caption(f"An encoder and a decoder exported to ONNX (from PyTorch, Keras, ...; see the README), measured on "
               f"**{data.name}**, whose samples are {list(data.input_shape)}. The graphs run with onnxruntime: "
               "no pickle, no code from the files.")
    c1, c2 = st.columns(2)
    enc = c1.file_uploader("Encoder (.onnx)", type=["onnx"], key="onnx_encoder")
    dec = c2.file_uploader("Decoder (.onnx)", type=["onnx"], key="onnx_decoder")
    name = st.text_input("Name", "", key="onnx_name", max_chars=64, placeholder="my-model")
    variational = st.checkbox("Variational: the encoder gives a mean and a log-variance", key="onnx_variational")
    st.button("Import", key="onnx_import", icon=":material/upload:", disabled=enc is None or dec is None,
              on_click=st.session_state.__setitem__, args=(GO, True))  # a flag: it outlives the shell's rerun
    go = st.session_state.pop(GO, False)
    if enc is None or dec is None:
        return
    digest = hashlib.sha1(enc.getvalue() + b"|" + dec.getvalue()).hexdigest()
    key = (digest, name.strip(), variational, data.name)
    done = st.session_state.setdefault(DONE, {})
    if go and key not in done:  # the uploaders keep their files across reruns: import (or refuse) each once
        done[key] = _import(enc, dec, name.strip(), variational, data)
        if done[key][0] == "ok":
            st.rerun()  # the sidebar's picker, drawn before this box, then lists it
    if key in done:
        status, text = done[key]
        if status == "ok":
            st.success(f"Imported **{text}**; it is in the model picker now (its maps are being made).")
        else:
            st.error(f"**This pair cannot be imported:** {text}")


def _import(enc, dec, name: str, variational: bool, data: Dataset) -> tuple[str, str]:
    from ae.run.importer import import_onnx, measure
    from ui.analysis import analysis_queue

    folder = user_models_dir()
    try:
        with reserved(folder, name), st.spinner(f"Reading {enc.name} and {dec.name} and measuring them on the "
                                                f"{data.name} test split (on the analysis worker)…"):
            path, _ = import_onnx(enc.getvalue(), dec.getvalue(), data, folder, name, variational=variational,
                                  sources=(enc.name, dec.name), analyse=False,
                                  measured_by=lambda **kw: analysis_queue().call(measure, **kw))
    except (InputError, FileExistsError) as e:
        return "refused", str(e)
    except TimeoutError:
        return "refused", "measuring it on the analysis worker took over 10 minutes; try again when it is less busy"
    catalog.clear()
    analyse_in_background(str(path))
    return "ok", name
