"""Datasets from uploaded files, held by the session that uploaded them.

A process-wide store kept every upload until the server restarted (three uploads of one zip grew the server by
2.4 GB for good). Here a session holds its own datasets in its state, so they go when its tab closes; identical
bytes decode once while any session holds them (a weak pool keyed by content hash), so a class uploading the same
file shares one copy.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import weakref
from pathlib import Path

import streamlit as st

from ae.data.sources import Dataset
from ae.data.userdata import LOADERS, load_file
from ae.errors import InputError

MINE = "my_uploads"  # session key: {dataset name: Dataset}


@st.cache_resource(show_spinner=False)
def _pool() -> weakref.WeakValueDictionary:
    """content hash -> the decoded Dataset, while some session still holds it."""
    return weakref.WeakValueDictionary()


def upload_key(file_name: str, raw: bytes, label_column: str = "") -> str:
    """The dataset's name: the file's stem plus a content hash, so two different uploads never share caches."""
    digest = hashlib.sha1(raw + label_column.encode()).hexdigest()[:6]
    return f"{Path(file_name).stem} (upload {digest})"


def my_uploads() -> dict[str, Dataset]:
    return st.session_state.setdefault(MINE, {})


def load_upload(file_name: str, raw: bytes, label_column: str = "") -> Dataset:
    """Decode an uploaded .npz, .zip or .csv once and keep it in this session. Raises InputError for bad files."""
    key = upload_key(file_name, raw, label_column)
    mine = my_uploads()
    if key in mine:
        return mine[key]
    refused = st.session_state.setdefault("_upload_refused", {})
    if key in refused:  # the uploader keeps its file across reruns: judge it once
        raise InputError(refused[key])
    digest = key.rsplit(" ", 1)[-1].rstrip(")")
    base = _pool().get(digest)
    if base is None:
        try:
            base = _decode(file_name, raw, label_column)
        except InputError as e:
            refused[key] = str(e)
            raise
        _pool()[digest] = base
    ds = dataclasses.replace(base, name=key)  # shares the tensors; pages key their caches by this name
    mine[key] = ds
    st.session_state.setdefault("_upload_bases", {})[digest] = base  # keeps the pool entry alive with us
    return ds


def _decode(file_name: str, raw: bytes, label_column: str) -> Dataset:
    stem, suffix = Path(file_name).stem, Path(file_name).suffix.lower()
    if suffix not in LOADERS:
        raise InputError(f"{file_name}: upload an .npz, a .zip of images or a .csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(raw)
        try:
            return load_file(path, stem, label_column.strip() or None)
        except InputError as e:  # name the user's file, not our temporary copy
            raise InputError(str(e).replace(path.name, file_name)) from e
