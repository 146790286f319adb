"""The drawing canvas (streamlit-drawable-canvas), white ink on black like the training digits.

The package registers a Streamlit v2 component when imported, which only works inside a running app, so it is
imported here, in the call, never at module import."""

from __future__ import annotations

import numpy as np

CANVAS_PX = 280  # ten screen pixels per model pixel for a 28x28 model


def draw_canvas(stroke_width: int, key: str) -> np.ndarray | None:
    """The drawing as an RGBA array [H, W, 4] (white strokes on the opaque black background), None before the
    first stroke. Its toolbar has undo, redo and clear."""
    from streamlit_drawable_canvas import st_canvas

    result = st_canvas(stroke_width=stroke_width, stroke_color="#ffffff", background_color="#000000",
                       height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw", update_streamlit=True,
                       return_image_data=True, key=key)
    return result.image_data
