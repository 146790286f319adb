"""Moving things out of and into Latent Lab: a model as a zip (safetensors + JSON, never a pickle), codes and maps as
CSV, images as PNG."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from ae.errors import InputError, user_input
from ae.explore.imagegrid import to_uint8
from ae.files import atomic_write
from ae.limits import MAX_CONFIG_BYTES, MAX_PARAMETERS, MAX_UPLOAD_FILE, mb
from ae.store.checkpoints import CheckpointError, check_folder, check_name, ensure_free, load_model


def model_zip(config_path: str | Path) -> bytes:
    """NAME.json + NAME.safetensors in one zip."""
    config = Path(config_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(config, config.name)
        z.write(config.with_suffix(".safetensors"), config.with_suffix(".safetensors").name)
    return buf.getvalue()


def import_model_zip(data: bytes, folder: str | Path) -> str:
    """Validate a model zip (exactly one NAME.json and NAME.safetensors, loadable, no pickle) and copy it into
    folder. Returns the name. Raises InputError with the reason, FileExistsError if the name is taken."""
    if len(data) > MAX_UPLOAD_FILE:
        raise InputError(f"the zip is {mb(len(data))}; the limit is {mb(MAX_UPLOAD_FILE)}")
    with user_input("this zip"):
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as e:
            raise InputError("this is not a zip file (or its end is cut off)") from e
        names = [n for n in z.namelist() if not n.endswith("/")]
        jsons = [n for n in names if n.endswith(".json")]
        weights = [n for n in names if n.endswith(".safetensors") and not n.endswith(".maps.safetensors")]
        if len(jsons) != 1 or len(weights) != 1 or Path(jsons[0]).stem != Path(weights[0]).stem:
            raise InputError("a model zip holds exactly NAME.json and NAME.safetensors (as Latent Lab exports them)")
        name = check_name(Path(jsons[0]).stem)
        if z.getinfo(jsons[0]).file_size > MAX_CONFIG_BYTES:
            raise InputError(f"{jsons[0]} is over {mb(MAX_CONFIG_BYTES)}; a model's JSON is a few KB")
        if z.getinfo(weights[0]).file_size > 4 * MAX_PARAMETERS + MAX_CONFIG_BYTES:
            raise InputError(f"{weights[0]} is larger than any model this server accepts")
        ensure_free(folder, name)
        with tempfile.TemporaryDirectory() as tmp:
            for member in (jsons[0], weights[0]):
                (Path(tmp) / Path(member).name).write_bytes(z.read(member))  # flat names: nothing escapes tmp
            try:
                load_model(Path(tmp) / f"{name}.json")
            except CheckpointError as e:
                raise InputError(f"the model in this zip cannot be loaded: {e}") from e
            ensure_free(check_folder(folder), name)
            for suffix in (".safetensors", ".json"):  # the JSON last: a model is listed only once complete
                src = Path(tmp) / f"{name}{suffix}"
                atomic_write(Path(folder) / src.name, lambda t, src=src: shutil.copyfile(src, t))
    return name


def codes_csv(codes: np.ndarray, coords: np.ndarray | None = None, labels: np.ndarray | None = None,
              class_names: list[str] | None = None, map_name: str = "map") -> bytes:
    """One row per test sample: its index, label, 2-D map coordinates and every latent dimension."""
    df = pd.DataFrame({"index": np.arange(len(codes))})
    if labels is not None:
        df["label"] = [class_names[i] if class_names else i for i in labels]
    if coords is not None:
        df[f"{map_name}_x"], df[f"{map_name}_y"] = coords[:, 0], coords[:, 1]
    for d in range(codes.shape[1]):
        df[f"z{d}"] = codes[:, d]
    return df.to_csv(index=False).encode()


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 picture ([H, W] or [H, W, 3]) or a float image ([C, H, W] in [0, 1]) as PNG bytes."""
    from PIL import Image

    arr = image if image.dtype == np.uint8 else to_uint8(image)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def drawings_zip(table: pd.DataFrame, images: list[np.ndarray]) -> bytes:
    """A class's drawings: drawings.csv (one row per drawing, `table`) and drawings/NNN.png, numbered as the rows."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("drawings.csv", table.to_csv(index=False))
        for i, image in enumerate(images, 1):
            z.writestr(f"drawings/{i:03d}.png", png_bytes(image))  # [C, H, W] in [0, 1]
    return buf.getvalue()
