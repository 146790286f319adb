"""Latent space: every test image as a point on a 2-D map of its code; select points to see them; decode the map."""

import numpy as np
import streamlit as st

from ae.explore.analysis import recon_table
from ae.store.export import codes_csv
from ui import share
from ui.analysis import need
from ui.brushing import picked
from ui.cache import (
    AXES,
    MAP_METHODS,
    decode_grid,
    decode_probe,
    draw_map,
    film_size,
    learning_film,
    reconstruct_images,
    test_codes,
)
from ui.describe import chart, selection_text
from ui.film import film_player
from ui.images import big, pairs, png, show
from ui.shell import ensure_shell
from ui.state import current_selection, map_of_test_split

ensure_shell()

st.title("Latent space")
sel = current_selection()
data, entry, model = sel.data, sel.entry, sel.model
latent = model.cfg.latent_dim
need(data, ("maps", entry.path))
z = test_codes(entry.path, data.name)
st.caption(f"**{entry.name}** encodes each of the {len(z):,} test images of **{data.name}** into {latent} numbers. "
           "The map places similar codes near each other; colours and shapes are the true classes, which the model "
           "never saw.")

c1, c2, c3 = st.columns([3, 2, 2])
method_name = share.segmented_control("Map", list(MAP_METHODS), "PCA" if latent > 2 else "Raw latent dims",
                                      key="map_method", on=c1)
method = MAP_METHODS[method_name]
i, j = 0, 1
if method == "raw" and latent > 2:
    i = share.selectbox("x: latent dim", range(latent), index=0, key="map_dim_x", on=c2)
    j = share.selectbox("y: latent dim", range(latent), index=1, key="map_dim_y", on=c3)
    if i == j:
        st.warning("Pick two different dimensions.")
        st.stop()
elif method == "raw" and latent == 1:
    st.warning("This model has a single latent dimension; choose PCA.")
    st.stop()
thumbs_on = share.toggle("Digits on the map", len(z) <= 5000, key="map_thumbs", on=c1,
                      help="draw 120 of the test images at their points, in their class colour")

the_plane, coords, origin = map_of_test_split(sel, method, i, j)
axes = AXES.get(method, (f"z[{i}]", f"z[{j}]"))
labels = data.y_test.numpy() if data.y_test is not None else None
fig = draw_map(entry.path, entry.stamp, data.name, method, i, j, thumbs_on)
event = chart(fig, "map_chart", on_select="rerun", selection_mode=("points", "box", "lasso"),
              selection=lambda ev: selection_text(picked(ev), labels, data.class_names))
st.caption(f"The map: {origin}. Drag a lasso (or pick the box tool) to select points; click one point to see its "
           "image.")

chosen = list(picked(event))
if chosen:
    st.subheader(f"{len(chosen)} selected image{'s' if len(chosen) > 1 else ''}")
    if labels is not None:
        counts = np.bincount(labels[chosen], minlength=len(data.class_names))
        st.caption("By class: " + ", ".join(f"{data.class_names[c]}: {n}" for c, n in enumerate(counts) if n))
    shown = chosen[:48]
    x_hat = reconstruct_images(entry.path, entry.stamp, data.name, tuple(shown))
    if data.kind == "image":
        caps = [f"#{k}" + (f" · {data.class_names[labels[k]]}" if labels is not None else "") for k in shown]
        pairs(data.test_x(shown).numpy(), x_hat, caps)
    else:
        st.dataframe(recon_table(data, np.array(shown), x_hat), key="map_selected_table")
    if len(chosen) > 48:
        st.caption(f"Showing the first 48 of {len(chosen)}.")

# Deferred: the CSV is built when someone clicks, not on every rerun of every student's page.
st.download_button("Download the codes and this map (CSV)",
                   lambda: codes_csv(z, coords, labels, data.class_names, method),
                   f"{entry.name}-{data.name}-{method}.csv", "text/csv", key="map_csv")

st.divider()
st.subheader("Watch it learn")
size = film_size(entry.path, entry.stamp, data.name)
if size is None:
    st.caption(f"{entry.name} has no training recording for {data.name}: models trained before recordings existed, "
               "on another dataset, or with fewer than 3 test samples have none. Train one on the Train page and "
               "this shows how its map formed.")
else:
    epochs, points = size
    st.caption(f"The same {points} test images after every epoch of training: each frame is their codes' first two "
               "principal components, turned (Procrustes) to match the epoch before so the picture never flips. Switch "
               "Play on, or move the epoch slider (the arrow keys step it). (The saved weights are the best "
               "validation epoch's, which may be an earlier frame.)")
    if share.toggle(f"Show the film ({epochs} epochs)", False, key="map_film_on",
                 help="the map at each epoch of training, with an epoch slider and a Play switch"):
        film_player(*learning_film(entry.path, entry.stamp, data.name), data.class_names)

st.divider()
st.subheader("Decode the map")
if data.kind != "image":
    st.info("Decoding draws images; for a table, the reconstructed rows above show what the decoder makes.")
    st.stop()
if the_plane is None:
    st.info(f"{method_name} has no inverse, so its map cannot be decoded. Choose PCA or raw latent dims to see "
            "what the decoder draws at each place.")
    st.stop()
if method == "raw" and latent > 2:
    st.caption(f"Varying z[{i}] and z[{j}]; the other {latent - 2} dimensions stay at their mean over the test set.")
elif method == "pca":
    st.caption("Each point of the PCA plane is mapped back to a full latent code (mean + PC coordinates) and decoded.")
x0, x1, y0, y1 = the_plane.extent


@st.fragment
def probe() -> None:
    """Slider moves rerun only this fragment, so the decoded image follows the thumb at once."""
    p1, p2, p3 = st.columns([2, 2, 3])
    px = p1.slider(axes[0], x0, x1, (x0 + x1) / 2, step=(x1 - x0) / 100, key="map_probe_x", format="%.2f")
    py = p2.slider(axes[1], y0, y1, (y0 + y1) / 2, step=(y1 - y0) / 100, key="map_probe_y", format="%.2f")
    image = decode_probe(entry.path, entry.stamp, data.name, method, i, j, float(px), float(py))
    with p3:
        big(image, f"decoded at ({px:.2f}, {py:.2f})")


probe()
steps = share.slider("Grid size", 5, 20, 12, key="map_grid_steps")
manifold = decode_grid(entry.path, entry.stamp, data.name, method, i, j, steps)
shown_width = min(720, 28 * 2 * steps)
show(png(manifold, width=shown_width), f"{steps}x{steps} images decoded across the plane ({axes[0]} left to right, "
     f"{axes[1]} bottom to top)", shown_width)
st.download_button("Download the grid (PNG)", png(manifold), f"{entry.name}-manifold.png", "image/png",
                   key="map_grid_png")
