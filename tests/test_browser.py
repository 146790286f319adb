"""Every page in a real browser (Chromium under `streamlit run`): it opens, a widget works, no exception box
appears, and a screenshot is saved in screenshots/ (git-ignored) for a person to look at."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.browser import assert_accessible, assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.browser


def open_page(page, url: str, title: str | None = None) -> None:
    if title is None:
        page.goto(url)
    else:
        # match the end of the link text: each link also holds its icon's name ("compare" on Reconstructions)
        page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile(rf"{title}$")).first.click()
    wait_idle(page)


def images_in_main(page) -> int:
    return page.locator('[data-testid="stMain"] [data-testid="stImage"] img').count()


def press_slider(page, key: str, keys: str, times: int) -> None:
    thumb = page.locator(f'.st-key-{key} input[type="range"]').first
    thumb.focus()
    for _ in range(times):
        page.keyboard.press(keys)
    wait_idle(page)


def lasso(page) -> None:
    box = page.locator(".nsewdrag").first.bounding_box()
    cx, cy, r = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, min(box["width"], box["height"]) / 4
    page.mouse.move(cx - r, cy - r)
    page.mouse.down()
    for x, y in [(cx + r, cy - r), (cx + r, cy + r), (cx - r, cy + r), (cx - r, cy - r)]:
        page.mouse.move(x, y, steps=8)
    page.mouse.up()


def test_a_page_url_opened_first_on_a_fresh_server_gets_the_full_app(page, streamlit_url):
    # Runs first in this file, so the server has not yet run app.py for anyone (see ui/shell.py).
    open_page(page, streamlit_url + "/reconstructions")
    page.get_by_role("heading", name="Reconstructions").wait_for()
    assert page.locator('[data-testid="stSidebarNav"] a', has_text=re.compile("Latent space$")).count() == 1
    assert page.locator(".st-key-model_picker").count() == 1
    assert_no_exception(page)


def test_home_then_pick_a_model_that_follows_to_other_pages(page, streamlit_url):
    open_page(page, streamlit_url)
    page.get_by_role("heading", name="Latent Lab").wait_for()
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img')"
                           ".length >= 9")
    assert_no_exception(page)
    screenshot(page, "home")

    # the sidebar's model picker: choose the 2-D VAE by typing into the select box
    picker = page.locator(".st-key-model_picker")
    box = picker.get_by_role("combobox")
    box.click()
    box.fill("conv-vae-2")
    page.get_by_role("option", name=re.compile(r"^conv-vae-2 ")).click()
    wait_idle(page)
    assert picker.locator("input").input_value().startswith("conv-vae-2")

    open_page(page, streamlit_url, "Reconstructions")
    assert "conv-vae-2" in page.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert page.locator(".st-key-model_picker input").input_value().startswith("conv-vae-2")
    assert_no_exception(page)


def test_reconstructions_slider_changes_the_grid(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Reconstructions")
    page.get_by_text("Test MSE").wait_for()
    assert images_in_main(page) == 16
    press_slider(page, "rec_n", "ArrowLeft", 2)  # 16 -> 8 in steps of 4
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stMain\"] [data-testid=\"stImage\"] img')"
                           ".length == 8")
    assert page.get_by_text(re.compile(r"Shown: 8 images")).count() == 1
    assert_no_exception(page)
    screenshot(page, "reconstructions")


def test_latent_space_lasso_selection_and_probe(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Latent space")
    chart = page.locator('.st-key-map_chart [data-testid="stPlotlyChart"]')  # the map (the recording plays below)
    chart.wait_for()
    page.wait_for_selector(".nsewdrag")
    assert_no_exception(page)
    screenshot(page, "latent_space")

    # draw a lasso around the middle of the map; the selected digits appear below it
    selected = page.get_by_text(re.compile(r"^\d+ selected images?$"))
    for _attempt in range(3):  # plotly ignores a drag that starts while it is still laying the chart out
        page.wait_for_timeout(1500)
        lasso(page)
        wait_idle(page)
        if selected.count():
            break
    selected.wait_for(timeout=30_000)
    assert page.get_by_text(re.compile(r"^By class: ")).count() == 1
    assert_accessible(page)  # with a selection (issue 22)

    caption = page.get_by_text(re.compile(r"^decoded at \(")).first
    before = caption.inner_text()
    press_slider(page, "map_probe_x", "ArrowRight", 10)
    page.wait_for_function(
        "b => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')]"
        ".some(e => e.innerText.startsWith('decoded at (') && e.innerText !== b)", arg=before)
    assert_no_exception(page)
    screenshot(page, "latent_space_selection")


def test_generate_slider_moves_the_interpolation(page, streamlit_url):
    open_page(page, streamlit_url)
    picker = page.locator(".st-key-model_picker").get_by_role("combobox")
    picker.click()
    picker.fill("conv-vae-16")
    page.get_by_role("option", name=re.compile(r"^conv-vae-16 ")).click()
    wait_idle(page)
    open_page(page, streamlit_url, "Generate")
    page.get_by_text("codes drawn from").first.wait_for()
    page.get_by_role("tab", name="Interpolate").click()
    caption = page.get_by_text(re.compile(r"^MSE to A's reconstruction")).first
    before = caption.inner_text()
    press_slider(page, "gen_t", "Home", 1)  # t = 0
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')]"
        ".some(e => e.innerText.startsWith(\"MSE to A's reconstruction 0.0000\"))")
    assert caption.inner_text() != before
    assert_no_exception(page)
    screenshot(page, "generate")


def test_denoise_level_slider(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Denoise")
    value = page.locator('[data-testid="stMetricValue"]').first
    value.wait_for()
    before = value.inner_text()
    press_slider(page, "dn_level", "ArrowRight", 4)  # sigma 0.3 -> 0.5
    page.wait_for_function("b => document.querySelector('[data-testid=\"stMetricValue\"]').innerText !== b",
                           arg=before)
    page.get_by_text("noisy (Gaussian, 0.50)").wait_for(timeout=60_000)  # the caption follows the metric
    assert page.get_by_text("noisy (Gaussian, 0.50)").count() == 1
    page.locator(".st-key-dn_chart .js-plotly-plot").wait_for(timeout=60_000)
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "denoise")


def test_anomalies_one_class_choice(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Anomalies")
    page.get_by_text("AUROC").first.wait_for(timeout=90_000)
    box = page.locator(".st-key-an_normal").get_by_role("combobox")
    box.click()
    box.fill("7")
    page.get_by_role("option", name="7", exact=True).click()
    wait_idle(page, timeout=90_000)
    page.get_by_text("test images of class 7 (normal)").wait_for(state="attached", timeout=90_000)  # a grid cell
    assert_no_exception(page)
    screenshot(page, "anomalies")


def test_compare_metric_choice(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Compare")
    page.get_by_text("Measured on the test split").wait_for(timeout=90_000)
    page.locator(".st-key-cmp_metric").get_by_text("SSIM", exact=True).click()
    wait_idle(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.ytitle')].some(e => e.textContent.startsWith('SSIM'))")
    assert page.get_by_role("button", name="Download the table (CSV)").count() == 1
    assert_no_exception(page)
    screenshot(page, "compare")


def test_compress_budget_slider_changes_the_side_by_side(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Compress")
    page.locator(".st-key-cp_chart .js-plotly-plot").wait_for(timeout=180_000)
    page.locator('[data-testid="stCaptionContainer"]', has_text="JPEG: ").first.wait_for(timeout=60_000)  # at 16
    # bytes JPEG cannot fit: it says so (the chart's description, folded away, names JPEG too)
    press_slider(page, "cp_budget", "End", 1)  # the largest budget: every method fits
    page.wait_for_function("() => ![...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                           ".some(e => e.innerText.includes('does not fit'))", timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "compress")


def test_features_probe_choice(page, streamlit_url):
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Features")
    page.locator(".st-key-ft_chart .js-plotly-plot").wait_for(timeout=240_000)
    page.locator(".st-key-ft_probe").get_by_text("knn-5", exact=True).click()
    wait_idle(page, 120_000)
    page.locator(".st-key-ft_confusion .js-plotly-plot").wait_for(timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "features")


def fill_train_form(page, name: str, epochs: int, sizes: str) -> None:
    page.get_by_text("Start training").wait_for()
    for key, value in (("tr_epochs", str(epochs)), ("tr_sizes", sizes), ("tr_name", name)):
        field = page.locator(f".st-key-{key} input").first
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
    page.get_by_role("button", name="Start training").click()


def test_two_students_train_at_once_queue_and_open_their_models(browser, streamlit_url):
    """Two browsers (two students) start training; the training worker takes one job at a time, so the second sees
    its place in the queue; a reload finds a running job again; both models end up on Latent space."""
    import os

    from ae.store.catalog import user_models_dir

    names = [f"browser-{os.getpid()}-a", f"browser-{os.getpid()}-b"]
    target = user_models_dir()
    pages = [browser.new_context(viewport={"width": 1400, "height": 1000}).new_page() for _ in names]
    try:
        for p in pages:
            open_page(p, streamlit_url)
            open_page(p, streamlit_url, "Train")
        fill_train_form(pages[0], names[0], 8, "16,32")
        pages[0].get_by_text(re.compile(rf"^{names[0]}: epoch [1-7] of 8")).first.wait_for(timeout=180_000)
        fill_train_form(pages[1], names[1], 4, "8,16")
        pages[1].get_by_text(re.compile(r"number 1 in the queue")).wait_for(timeout=30_000)
        assert_no_exception(pages[1])
        screenshot(pages[1], "train_queued")
        pages[0].reload()  # a reload is a new Streamlit session: the browser's job is found again
        wait_idle(pages[0])
        open_page(pages[0], streamlit_url, "Train")
        pages[0].get_by_text(re.compile(rf"^{names[0]}: epoch [1-8] of 8")).first.wait_for(timeout=60_000)
        pages[0].locator(".st-key-train_chart .js-plotly-plot").first.wait_for(timeout=30_000)
        screenshot(pages[0], "train_running")
        for p, name, epochs in zip(pages, names, (8, 4)):
            p.get_by_text(re.compile(rf"{name}.* (saved after|failed)")).first.wait_for(timeout=300_000)
            main = p.locator('[data-testid="stMain"]').inner_text()
            assert re.search(rf"{name}.* saved after {epochs} epochs", main), main[:600]
            assert_no_exception(p)
        screenshot(pages[1], "train_done")
        for p, name in zip(pages, names):
            p.get_by_role("button", name="Use it in the sidebar").click()
            wait_idle(p)
            open_page(p, streamlit_url, "Latent space")
            p.locator('.st-key-map_chart [data-testid="stPlotlyChart"]').wait_for()
            p.locator(".st-key-map_film_on label").click()  # its training, recorded
            p.locator('.st-key-map_film [data-testid="stPlotlyChart"]').wait_for()
            assert name in p.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
            assert_no_exception(p)
        screenshot(pages[1], "latent_space_new_model")
    finally:
        for p in pages:
            p.context.close()
        for name in names:
            for suffix in (".json", ".safetensors", ".recording.safetensors"):
                (target / f"{name}{suffix}").unlink(missing_ok=True)
            shutil.rmtree(target / f"{name}.analyses", ignore_errors=True)


def test_bad_uploads_get_messages_in_the_browser_and_a_good_one_is_usable(page, streamlit_url, tmp_path):
    """Issue 10 in Chromium: a poisoned model zip and a zip bomb of PNGs are refused in words; a CSV with ';' and
    decimal commas loads as numbers and becomes the sidebar's dataset; no exception box anywhere."""
    from tests.corpus import CASES

    files = {}
    for case_id in ("model-metric-string", "zip-3000-pngs", "csv-semicolon-decimal-comma", "picture-exif"):
        name, data = next(c for c in CASES if c.id == case_id).make()
        files[case_id] = tmp_path / name
        files[case_id].write_bytes(data)
    open_page(page, streamlit_url)
    open_page(page, streamlit_url, "Train")
    page.get_by_role("tab", name="Import and export").click()
    page.locator(".st-key-io_model_upload input[type=file]").set_input_files(str(files["model-metric-string"]))
    page.get_by_text(re.compile(r"metricstr.zip cannot be imported:.*metrics 'mse' must be a number")).wait_for(
        timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "upload_poisoned_model")
    page.get_by_role("tab", name="Your data").click()
    page.locator(".st-key-data_upload input[type=file]").set_input_files(str(files["zip-3000-pngs"]))
    page.get_by_text(re.compile(r"many.zip cannot be used:.*MB")).wait_for(timeout=60_000)
    assert_no_exception(page)
    screenshot(page, "upload_png_bomb")
    page.locator(".st-key-data_upload input[type=file]").set_input_files(str(files["csv-semicolon-decimal-comma"]))
    page.get_by_text(re.compile(r"eu: \d+ train / \d+ test samples of shape \[3\]")).wait_for(timeout=60_000)
    page.get_by_role("button", name="Use this dataset").click()
    wait_idle(page)
    shown = page.evaluate("() => [...document.querySelectorAll('[data-testid=stSidebar] [data-testid=stSelectbox] *')]"
                          ".map(e => (e.value || '') + ' ' + (e.title || '') + ' ' + (e.textContent || '')).join(' ')")
    assert re.search(r"eu \(upload [0-9a-f]{6}\) \[yours\]", shown), shown[:300]
    assert_no_exception(page)
    screenshot(page, "upload_csv_decimal_commas")
