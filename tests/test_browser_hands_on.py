"""Issue 13 in a real browser: draw on the canvas with the mouse, play a training recording, and open a shared
link in a fresh browser context (a student's) to find the same view."""

from __future__ import annotations

import pytest

from tests.browser import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.browser


def drag(page, box: dict, points: list[tuple[float, float]]) -> None:
    """A mouse stroke through `points`, given as fractions of the box."""
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_drawing_a_seven_with_the_mouse_shows_its_reconstruction(page, streamlit_url):
    page.goto(f"{streamlit_url}/draw?model=pretrained/conv-ae-2")
    wait_idle(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Draw a digit").first.wait_for()
    canvas = page.locator(".st-key-dr_canvas canvas").last
    canvas.wait_for()
    drag(page, canvas.bounding_box(), [(0.3, 0.22), (0.72, 0.22), (0.68, 0.3), (0.52, 0.55), (0.42, 0.8)])
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=60_000)
    wait_idle(page)
    assert main.get_by_text("its reconstruction").count() == 1
    error = float(page.locator('[data-testid="stMetricValue"]').first.inner_text())
    assert 0 < error < 0.1
    assert "Most of them are" in main.inner_text()
    assert page.locator(".st-key-dr_map .js-plotly-plot").count() == 1
    assert_no_exception(page)
    screenshot(page, "draw")


def test_the_training_recording_plays(page, streamlit_url):
    page.goto(f"{streamlit_url}/latent_space?model=pretrained/conv-ae-16&map_film_on=true")  # a link can ask for it
    wait_idle(page)
    film = page.locator(".st-key-map_film .js-plotly-plot")
    film.scroll_into_view_if_needed()
    film.wait_for()
    state = ("() => { const gd = document.querySelector('.st-key-map_film .js-plotly-plot');"
             " return [gd.layout.title.text, gd._fullData[0].x[0]]; }")
    title, x0 = page.evaluate(state)
    assert "epoch 1 of " in title
    page.locator(".st-key-map_film_play label").click()
    page.wait_for_function(f"() => !({state})()[0].includes('epoch 1 of')", timeout=20_000)
    page.wait_for_timeout(1500)
    title, x1 = page.evaluate(state)
    assert "epoch 1 of" not in title and x1 != x0  # the film moved on, and the points with it
    page.locator(".st-key-map_film_play label").click()  # pause: the epoch stays
    wait_idle(page)
    paused = page.evaluate(state)[0]
    page.wait_for_timeout(1500)
    assert page.evaluate(state)[0] == paused
    assert_no_exception(page)
    screenshot(page, "latent-space-recording")


def test_a_shared_link_opens_the_same_view_for_another_student(browser, streamlit_url):
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    t = teacher.new_page()
    t.goto(f"{streamlit_url}/latent_space?model=pretrained/conv-vae-16")
    wait_idle(t)
    t.locator(".st-key-map_thumbs label").first.click()  # digits off the map
    wait_idle(t)
    steps = t.locator('.st-key-map_grid_steps input[type="range"]').first
    steps.focus()
    for _ in range(3):
        t.keyboard.press("ArrowLeft")
    wait_idle(t)
    t.wait_for_function("() => location.search.includes('map_grid_steps=9')", timeout=10_000)
    link = t.url
    assert "model=pretrained%2Fconv-vae-16" in link and "map_thumbs=false" in link
    teacher.close()

    student = browser.new_context(viewport={"width": 1400, "height": 1000})
    s = student.new_page()
    s.goto(link)
    wait_idle(s)
    assert s.locator(".st-key-model_picker input").input_value().startswith("conv-vae-16")
    assert s.locator('.st-key-map_grid_steps [data-testid="stSliderThumbValue"]').first.inner_text() == "9"
    assert not s.locator(".st-key-map_thumbs input").first.is_checked()
    assert "9x9 images decoded" in s.locator('[data-testid="stMain"]').inner_text()
    assert_no_exception(s)
    screenshot(s, "shared-link")
    student.close()
