"""The keyboard alone (issue 22): from Home to Latent space, the map switched to UMAP and back, the probe moved, the
training film played and paused, then Train: a job started and stopped. Only Tab, Shift+Tab, Enter, Space and the
arrows; no mouse event. Each control reached shows a visible focus indicator."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.browser

FOCUS_SHOWN = """() => {  // an outline or a ring (box-shadow) on the focused element or one of its three parents
    let el = document.activeElement;
    for (let i = 0; el && i < 4; i++, el = el.parentElement) {
        const s = getComputedStyle(el);
        if ((s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none') return true;
    }
    return false;
}"""


def tab_to(page, predicate: str, limit: int = 250, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element `el` makes the JS expression `predicate` true; then its
    focus must show."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && !!({predicate}); }}"):
            assert page.evaluate(FOCUS_SHOWN), page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
            return
        page.keyboard.press(key)
    raise AssertionError(f"{limit} presses of {key} never reached {predicate}")


def nav_link(title: str) -> str:
    return f"el.matches('[data-testid=\"stSidebarNavLink\"]') && el.innerText.trim().endsWith({title!r})"


def button(text: str) -> str:
    return f"el.tagName === 'BUTTON' && el.innerText.trim().startsWith({text!r})"


def in_widget(key: str, tag: str = "INPUT") -> str:
    return f"el.closest('.st-key-{key}') !== null && el.tagName === {tag!r}"


def film_title(page) -> str:
    return page.evaluate("() => document.querySelector('.st-key-map_film .js-plotly-plot').layout.title.text")


def test_home_to_latent_space_to_train_with_the_keyboard_alone(browser, streamlit_url):
    from ae.store.catalog import user_models_dir

    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    mouse = []
    page.expose_function("sawMouse", lambda kind: mouse.append(kind))
    page.add_init_script("for (const k of ['mousedown', 'pointerdown', 'mousemove']) document.addEventListener(k, "
                         "e => { if (e.isTrusted) window.sawMouse(k); }, true);")
    name = "keyboard-job"
    try:
        page.goto(streamlit_url)
        wait_idle(page)
        page.get_by_role("heading", name="Latent Lab").wait_for()

        tab_to(page, nav_link("Latent space"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/latent_space"))
        wait_idle(page)

        tab_to(page, button("PCA"))  # the map's choices are a radio group: one tab stop, the arrows move along it
        page.keyboard.press("ArrowRight")
        assert page.evaluate("() => document.activeElement.innerText.trim()") == "UMAP"
        page.keyboard.press("Space")
        wait_idle(page)
        page.wait_for_url(re.compile(r"UMAP"))
        page.get_by_text("UMAP has no inverse").wait_for()
        tab_to(page, button("UMAP"), backwards=True)
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("Space")
        wait_idle(page)
        page.wait_for_url(re.compile(r"PCA"))

        tab_to(page, in_widget("map_probe_x"))
        before = page.get_by_text(re.compile(r"^decoded at \(")).first.inner_text()
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("b => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')]"
                               ".some(e => e.innerText.startsWith('decoded at (') && e.innerText !== b)", arg=before)

        tab_to(page, in_widget("map_film_on"), backwards=True)
        page.keyboard.press("Space")
        wait_idle(page)
        page.locator(".st-key-map_film .js-plotly-plot").wait_for()
        assert "epoch 1 of" in film_title(page)
        tab_to(page, in_widget("map_film_play"))
        page.keyboard.press("Space")  # play
        page.wait_for_function("() => !document.querySelector('.st-key-map_film .js-plotly-plot')"
                               ".layout.title.text.includes('epoch 1 of')", timeout=20_000)
        page.keyboard.press("Space")  # pause
        wait_idle(page)
        paused = film_title(page)
        page.wait_for_timeout(1500)
        assert film_title(page) == paused
        assert_no_exception(page)
        screenshot(page, "keyboard_latent_space")

        tab_to(page, nav_link("Train"), backwards=True)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/train"))
        wait_idle(page)
        tab_to(page, in_widget("tr_name"))
        page.keyboard.press("ControlOrMeta+a")
        page.keyboard.type(name)
        page.keyboard.press("Enter")
        wait_idle(page)
        tab_to(page, button("Start training"))
        page.keyboard.press("Enter")
        page.get_by_text(re.compile(rf"^{name}: epoch \d+ of")).first.wait_for(timeout=120_000)
        tab_to(page, button("Stop (keep the best weights"), backwards=True)
        page.keyboard.press("Enter")
        page.get_by_text(re.compile(rf"{name}.* stopped early and saved after")).first.wait_for(timeout=120_000)
        assert_no_exception(page)
        screenshot(page, "keyboard_train_stopped")
        assert not mouse, mouse  # not one mouse event on the way
    finally:
        ctx.close()
        for suffix in (".json", ".safetensors", ".recording.safetensors"):
            (user_models_dir() / f"{name}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(user_models_dir() / f"{name}.analyses", ignore_errors=True)
