"""WCAG 2.1 AA in a real browser (issue 22): axe-core, the engine behind most accessibility checkers, finds no serious
or critical violation that our pages cause, on every page and in the states a student reaches. The other states are
checked where their tests put the page in them: a lasso selection (test_browser.py, test_browser_compare.py) and
teacher mode (test_browser_teacher.py)."""

from __future__ import annotations

import pytest

from tests.browser import accessibility_violations, assert_accessible, assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.browser

PAGES = ["", "reconstructions", "latent_space", "draw", "generate", "denoise", "anomalies", "compare", "compress",
         "features", "train"]


def settled(page) -> None:
    """The run is over and no analysis is still filling the page in."""
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stProgress\"]')"
                           " && !document.querySelector('[data-testid=\"stMain\"] [data-testid=\"stSpinner\"]')",
                           timeout=120_000)
    page.get_by_role("heading", level=1).first.wait_for()


@pytest.mark.parametrize("path", PAGES, ids=[p or "home" for p in PAGES])
def test_no_serious_violation_on_a_page_as_it_opens(page, streamlit_url, path):
    page.goto(f"{streamlit_url}/{path}")
    settled(page)
    assert_no_exception(page)
    assert_accessible(page)


def test_no_serious_violation_with_an_uploaded_picture_or_a_vae(page, streamlit_url, tmp_path):
    from PIL import Image

    from tests.helpers import seven

    picture = tmp_path / "seven.png"
    Image.fromarray(255 - seven()[:, :, 0]).save(picture)  # a dark digit on light paper, as a phone photo is
    page.goto(f"{streamlit_url}/reconstructions")
    settled(page)
    page.locator(".st-key-rec_upload input[type=file]").set_input_files(str(picture))
    page.get_by_text("seven.png").first.wait_for()
    settled(page)
    assert page.locator('[data-testid="stMain"] img[alt*="seven.png"]').count() >= 1
    assert_accessible(page)
    page.goto(f"{streamlit_url}/generate?model=pretrained/conv-vae-16")  # the sampling controls a VAE has
    settled(page)
    page.get_by_role("slider", name="Temperature").wait_for()
    assert_accessible(page)


def test_the_check_fails_on_a_violation(page, streamlit_url):
    """The check itself: grey-on-white text and an image without an alternative, added to a live page, are found."""
    page.goto(f"{streamlit_url}/draw")
    settled(page)
    page.evaluate("""() => document.querySelector('[data-testid="stMain"]').insertAdjacentHTML('beforeend',
        '<p style="color:#aaaaaa;background:#ffffff">faint</p><img src="x.png">')""")
    found = accessibility_violations(page)
    assert any(f.startswith("color-contrast (serious)") and "faint" in f for f in found), found
    assert any(f.startswith("image-alt (critical)") for f in found), found


def test_projector_mode_at_1280x720_hides_the_sidebar_enlarges_the_page_and_stays_accessible(browser, streamlit_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        tab = ctx.new_page()
        tab.goto(f"{streamlit_url}/latent_space")
        settled(tab)
        normal = tab.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
        tab.goto(f"{streamlit_url}/latent_space?projector=1")  # the link a teacher copies for the projector
        tab.get_by_role("button", name="Leave projector mode").wait_for()
        settled(tab)
        tab.locator('.st-key-map_chart [data-testid="stPlotlyChart"]').wait_for(timeout=60_000)
        tab.wait_for_timeout(1000)  # Plotly lays the map out after the run
        big = tab.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
        assert big >= 1.4 * normal, (normal, big)
        assert not tab.locator('[data-testid="stSidebar"]').is_visible()
        assert_accessible(tab)
        screenshot(tab, "projector_latent_space")
        tab.get_by_role("button", name="Leave projector mode").click()
        tab.locator('[data-testid="stSidebar"]').wait_for(state="visible")
        assert "projector" not in tab.url
    finally:
        ctx.close()
