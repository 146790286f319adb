"""Issue 21 in a real browser: on Compare, a lasso in model A's map rings the same test images in model B's."""

from __future__ import annotations

import pytest

from tests.browser import assert_accessible, assert_no_exception, screenshot, wait_idle
from tests.test_browser_hands_on import drag

pytestmark = pytest.mark.browser

RINGED = ("(key) => { const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);"
          " const t = gd && gd._fullData.find(d => d.name === 'selected');"
          " return t ? Array.from(t.customdata).map(Number).sort((a, b) => a - b) : []; }")


def test_brushing_in_one_map_rings_the_same_images_in_the_other(page, streamlit_url):
    page.goto(f"{streamlit_url}/compare?cmp_models=pretrained/conv-ae-16,pretrained/conv-vae-16")  # a shared link
    wait_idle(page)
    twin_a = page.locator(".st-key-cmp_twin_a .js-plotly-plot")
    twin_a.scroll_into_view_if_needed()
    twin_a.wait_for(timeout=60_000)
    wait_idle(page)
    plot = twin_a.locator(".nsewdrag").first.bounding_box()  # the plot area, where a drag draws the lasso
    drag(page, plot, [(0.35, 0.35), (0.6, 0.35), (0.6, 0.6), (0.35, 0.6), (0.35, 0.37)])
    page.wait_for_function(f"() => ({RINGED})('cmp_twin_b').length > 0", timeout=60_000)
    wait_idle(page)
    in_a, in_b = page.evaluate(RINGED, "cmp_twin_a"), page.evaluate(RINGED, "cmp_twin_b")
    assert in_a == in_b and len(in_b) > 10
    assert page.get_by_text(f"{len(in_b)} selected: shared neighbours").count() == 1
    title = page.locator(".st-key-cmp_twin_b .js-plotly-plot").get_by_text("B: conv-vae-16 (aligned onto A)")
    assert title.count() == 1  # the link chose the two models
    assert_no_exception(page)
    assert_accessible(page)  # with a selection in both maps (issue 22)
    screenshot(page, "compare_twin_maps")
