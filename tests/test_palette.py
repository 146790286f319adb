"""Colour is never the only code (issue 22): the class palette stays distinct under simulated colour-vision
deficiencies, and every class has a shape of its own too."""

from __future__ import annotations

import numpy as np
import pytest

from ui.plots import PALETTE, SYMBOLS

colorspacious = pytest.importorskip("colorspacious")

THRESHOLD = 10.0  # smallest CAM02-UCS distance between two classes' colours (about 10: clearly told apart)
DEFICIENCIES = {"normal vision": None, "deuteranopia": "deuteranomaly", "protanopia": "protanomaly"}
PLOTLY_DEFAULT = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                  "#17becf"]


def closest_pair(colours: list[str], cvd: str | None) -> float:
    rgb = np.array([[int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)] for h in colours])
    if cvd is not None:  # severity 100: the full deficiency (dichromacy)
        space = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
        rgb = np.clip(colorspacious.cspace_convert(rgb, space, "sRGB1"), 0, 1)
    ucs = colorspacious.cspace_convert(rgb, "sRGB1", "CAM02-UCS")
    d = np.linalg.norm(ucs[:, None] - ucs[None], axis=-1)
    return float(d[~np.eye(len(colours), dtype=bool)].min())


@pytest.mark.parametrize("who", list(DEFICIENCIES))
def test_every_two_classes_stay_apart(who):
    assert len(PALETTE) >= 10  # ten digits, ten colours
    assert closest_pair(PALETTE, DEFICIENCIES[who]) > THRESHOLD


def test_the_check_tells_a_palette_that_fails_them():
    assert closest_pair(PLOTLY_DEFAULT, "protanomaly") < THRESHOLD  # the default we left: two classes look alike


def test_each_class_has_its_own_shape_on_the_maps():
    from ui.plots import latent_scatter

    assert len(set(SYMBOLS)) == len(PALETTE)
    fig = latent_scatter(np.random.default_rng(0).normal(size=(100, 2)), np.arange(100) % 10,
                         [str(i) for i in range(10)], ("x", "y"))
    assert len({t.marker.symbol for t in fig.data}) == 10 and len({t.marker.color for t in fig.data}) == 10
