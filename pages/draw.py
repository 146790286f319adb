"""Draw: a digit drawn with the mouse, and at every stroke what the model makes of it."""

import numpy as np
import streamlit as st

from ae.data.imageio import MAX_UPLOAD_BYTES, prepare_drawing, prepare_image
from ae.errors import InputError
from ae.explore.drawing import majority, place_on_map
from ae.explore.embed import MIN_MAP_POINTS
from ui import share
from ui.analysis import need
from ui.cache import AXES, MAP_METHODS, drawing_fill, drawing_path, map_choices, read_drawing_on, test_codes
from ui.canvas import draw_canvas
from ui.class_map import name_box, send, spotlight, teacher_board
from ui.describe import chart
from ui.images import big, png, show, tile_png
from ui.plots import drawing_map
from ui.shell import ensure_shell
from ui.state import current_selection, map_of_test_split

ensure_shell()


st.title("Draw")
sel = current_selection()
data, entry, model = sel.data, sel.entry, sel.model
if data.kind != "image" or model.cfg.input_shape[0] != 1:
    st.info(f"The Draw page is for digit models: a drawing is a grey image, and {entry.name} reads {data.name}'s "
            f"{'colour images' if data.kind == 'image' else 'table rows'}. Pick a model of grey images such as the "
            "digits in the sidebar.")
    st.stop()
labels = data.y_test.numpy() if data.y_test is not None else None
names = data.class_names

spotlight()
SOURCES = ("Draw", "Upload a picture", "Pick a test digit")
left, right = st.columns([2, 3])
with left:
    name_box()
    source = share.segmented_control("Your digit", list(SOURCES), SOURCES[0], key="dr_source",
                                     help="drawing needs a pointer (a mouse, a pen or a finger); an uploaded picture "
                                          "or a test digit gets the same reading and the same place on the map")
    x = None
    if source == SOURCES[0]:
        width = share.slider("Stroke width", 6, 40, 22, key="dr_width")
        rgba = draw_canvas(width, key="dr_canvas")
        st.caption("White ink on black, like the training digits. The toolbar above the canvas undoes, redoes and "
                   "clears. Drawing needs a pointer: without one, choose **Upload a picture** or **Pick a test "
                   "digit** above.")
        x = prepare_drawing(rgba, model.cfg.input_shape, drawing_fill(data.name))  # framed like the dataset
    elif source == SOURCES[1]:
        up = st.file_uploader(f"A PNG or JPEG of a digit, up to {MAX_UPLOAD_BYTES // 2**20} MB (a dark digit on light "
                              "paper is inverted to match the training digits)", type=["png", "jpg", "jpeg"],
                              key="dr_upload")
        if up is not None:
            try:
                x, _notes = prepare_image(up.getvalue(), model.cfg.input_shape)
            except InputError as e:
                st.error(f"**{up.name} cannot be used:** {e}")
    else:
        k = int(share.number_input("Test image", 0, len(data.x_test) - 1, 0, key="dr_test_index"))
        x = data.test_x([k])
        big(x[0].numpy(), f"test image #{k}" + (f", a {names[labels[k]]}" if labels is not None else ""))
with right:
    need(data, ("recon", entry.path), ("maps", entry.path))  # the test split's errors and codes, computed once
teacher_board(sel)
if x is not None:
    send(x)
if x is None:
    right.info("**Draw a digit** in the black square, holding the mouse button down (a finger works on a tablet), "
               f"or upload a picture of one. {entry.name}'s reconstruction, its error, where it lands on the latent "
               "map and the test images it resembles appear here.", icon=":material/draw:")
else:  # not st.stop(): a page that stops early loses its URL, and a class led here would not see it
    report = read_drawing_on(entry.path, entry.stamp, data.name, x)
    with right:
        r1, r2, r3 = st.columns(3)
        with r1:
            big(report.x, f"what the model sees ({report.x.shape[-2]}x{report.x.shape[-1]}, centred)")
        with r2:
            big(report.x_hat, "its reconstruction")
        unusual = report.percentile >= 97
        r3.metric("Error (MSE)", f"{report.error:.4f}")
        r3.metric("Anomaly rank", f"{report.percentile:.0f}%", help="the share of test images rebuilt with a lower "
                  "error: above 97% the model has rarely seen anything like it")
        st.caption(f"Its error is higher than that of {report.percentile:.0f}% of the {len(data.x_test):,} test "
                   "images: " + ("**unusual**, the model has rarely seen anything like it." if unusual
                      else "within the range of ordinary test images."))
        st.markdown(f"**Its {len(report.nearest)} nearest test codes**")
        near_caps = [f"#{k} · {names[labels[k]]}" if labels is not None else f"#{k}" for k in report.nearest]
        show([png(data.test_x(k).numpy(), 2) for k in report.nearest], near_caps, 46)
        if labels is not None:
            top, votes = majority(labels[report.nearest])
            st.caption(f"Most of them are **{names[top]}**s ({votes} of {len(report.nearest)}): the model files your "
                       f"drawing among the {names[top]}s.")

    if len(data.x_test) < MIN_MAP_POINTS:
        st.info(f"{data.name}'s test split has {len(data.x_test)} samples; a map needs {MIN_MAP_POINTS}.")
    else:
        st.subheader("Where it lands on the latent map")
        options, default = map_choices(model.cfg.latent_dim)
        method_name = share.segmented_control("Map", options, default, key="dr_method")
        method = MAP_METHODS[method_name]
        plane, coords, _ = map_of_test_split(sel, method)
        point, exact = place_on_map(report, coords, plane)
        axes = AXES.get(method, ("z[0]", "z[1]"))
        chart(drawing_map(coords, labels, names, axes, point, report.nearest), "dr_map")
        st.caption("The star is your drawing, the circled points its nearest test codes. " + (
            "Its place is exact: the map is a linear function of the code." if exact else
            f"{method_name} cannot place a new point without refitting, so the star sits at the distance-weighted "
            f"mean of its {len(report.nearest)} nearest test codes' places: an approximation that shows the right "
            "neighbourhood."))

    if model.samples_prior:
        st.subheader("From your drawing to a test digit")
        target_class = share.selectbox("Walk to a test digit of class", names, index=min(7, len(names) - 1),
                                    key="dr_target") if labels is not None else None
        pool = np.flatnonzero(labels == names.index(target_class)) if target_class is not None else np.arange(1)
        if len(pool) == 0:
            st.info(f"The test split has no {target_class}.")
            st.stop()
        target = int(pool[0])
        codes = test_codes(entry.path, data.name)
        strip = drawing_path(entry.path, entry.stamp, report.code, codes[target])
        show(tile_png(strip, nrow=len(strip), pad=1, scale=3), f"decoded along the straight line from your drawing's "
             f"code to test image #{target}'s", "stretch")
