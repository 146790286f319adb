"""A teacher and two students in one Chromium (separate browser contexts: separate cookies, separate sessions) against a
real server started with a teacher passcode: unlock, follow me, pause, step out and back, a lesson step and its
question revealed, the class map, a forged link.
"""

from __future__ import annotations

import re
import tempfile

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser import assert_accessible, assert_no_exception, screenshot, start_server, stop_server, wait_idle

pytestmark = pytest.mark.browser

PASSCODE = "owl-42"
SIZE = {"width": 1400, "height": 1000}


@pytest.fixture(scope="module")
def class_url(browser):
    proc, url = start_server(tempfile.mkdtemp(prefix="latent-lab-teacher-models-"),
                             LATENT_LAB_TEACHER_PASSCODE=PASSCODE)
    yield url
    stop_server(proc)


def open_tab(browser, url: str):
    page = browser.new_context(viewport=SIZE).new_page()
    page.goto(url)
    wait_idle(page, 120_000)
    return page


def slider_value(page, label: str) -> str:
    box = page.locator('[data-testid="stSlider"]').filter(has_text=label)
    return box.locator('[data-testid="stSliderThumbValue"]').inner_text()


def test_a_teacher_leads_two_students_through_follow_pause_and_a_lesson(browser, class_url):
    teacher, ann, bob = (open_tab(browser, class_url) for _ in range(3))
    forged = open_tab(browser, f"{class_url}/?_teacher_unlocked=true&teacher_follow=true")
    try:
        teacher.get_by_text("Teacher", exact=True).click()
        teacher.get_by_label("Passcode", exact=True).fill("not-it")
        teacher.get_by_role("button", name="Unlock").click()
        teacher.get_by_text("That is not the passcode").wait_for(timeout=10_000)
        teacher.get_by_label("Passcode", exact=True).fill(PASSCODE)
        teacher.get_by_role("button", name="Unlock").click()
        teacher.get_by_text("Teacher controls are on in this tab.").wait_for(timeout=10_000)
        teacher.get_by_text("The class follows me").click()
        wait_idle(teacher)
        for student in (ann, bob):
            student.get_by_text("Following the teacher.").wait_for(timeout=10_000)
        assert forged.get_by_text("The class follows me").count() == 0  # a link cannot make a teacher

        teacher.get_by_role("link", name="Reconstructions").click()
        wait_idle(teacher)
        for student in (ann, bob):
            student.wait_for_url(re.compile(r"/reconstructions"), timeout=10_000)
        knob = teacher.get_by_role("slider", name="How many")
        knob.focus()
        teacher.keyboard.press("ArrowRight")  # 16 -> 20, from the keyboard
        wait_idle(teacher)
        for student in (ann, bob):
            student.wait_for_url(re.compile(r"rec_n=20"), timeout=10_000)
            wait_idle(student)
            assert slider_value(student, "How many") == "20"
            assert_no_exception(student)
        for tab in (teacher, ann):  # teacher mode and a following student (issue 22)
            assert_accessible(tab)
        screenshot(teacher, "teacher_leading")
        screenshot(ann, "student_following")

        teacher.get_by_text("Pause the class").click()
        wait_idle(teacher)
        ann.get_by_text("The teacher paused the class.").wait_for(timeout=10_000)
        assert ann.get_by_role("slider", name="How many").is_disabled()
        assert_accessible(ann)
        screenshot(ann, "student_paused")
        teacher.get_by_text("Pause the class").click()
        wait_idle(teacher)
        ann.get_by_text("The teacher paused the class.").wait_for(state="detached", timeout=10_000)

        bob.get_by_role("button", name="Explore on my own").click()
        bob.get_by_text("Exploring on your own.").wait_for(timeout=10_000)
        knob.focus()
        teacher.keyboard.press("ArrowRight")  # 20 -> 24: Ann follows, Bob explores
        wait_idle(teacher)
        ann.wait_for_url(re.compile(r"rec_n=24"), timeout=10_000)
        bob.wait_for_timeout(1500)
        assert slider_value(bob, "How many") == "20"
        bob.get_by_role("button", name="Back to the teacher").click()
        bob.wait_for_url(re.compile(r"rec_n=24"), timeout=10_000)

        lesson = teacher.get_by_role("option", name="The latent space and generation")
        for _ in range(4):  # a run of the teacher's tab ending just then closes the list it opened: open it again
            teacher.get_by_role("combobox", name="Lesson").click()
            try:
                lesson.wait_for(timeout=5_000)
                break
            except PlaywrightTimeout:
                teacher.keyboard.press("Escape")
                wait_idle(teacher)
        lesson.click()
        wait_idle(teacher)
        teacher.get_by_text("step 1 of 7").first.wait_for(timeout=10_000)
        for student in (ann, bob):
            student.wait_for_url(re.compile(r"/latent_space\?.*model=pretrained%2Fconv-ae-2"), timeout=15_000)
            wait_idle(student)
            assert_no_exception(student)
            assert student.get_by_text("step 1 of 7").count() == 0  # the teacher's line stays with the teacher
        screenshot(teacher, "teacher_lesson_step")

        teacher.get_by_role("button", name="Ask the class").click()  # the step's question: where do the 1s live?
        wait_idle(teacher)
        ann.get_by_text("The teacher asks").wait_for(timeout=10_000)
        wait_idle(ann)
        plot = ann.locator(".st-key-q_map .nsewdrag").first.bounding_box()
        ann.mouse.click(plot["x"] + 0.8 * plot["width"], plot["y"] + 0.4 * plot["height"])
        ann.get_by_text(re.compile(r"^Your answer: \(")).wait_for(timeout=10_000)  # not the chart's description
        teacher.get_by_text("· 1 answer").wait_for(timeout=10_000)  # the heat map's count, within its refresh
        teacher.get_by_role("button", name="Reveal").click()
        ann.get_by_text("The model's answer:", exact=True).wait_for(timeout=10_000)
        said = ann.locator('[data-testid="stAlert"]').filter(has_text="The model's answer:").inner_text()
        assert "the centre of the 100 test 1s" in said and "Yours is" in said
        teacher.get_by_role("button", name="Close").click()
        ann.get_by_text("The teacher asks").wait_for(state="detached", timeout=10_000)

        teacher.get_by_text("Collect drawings").click()  # the class map: Ann draws, the teacher's map shows it
        wait_idle(teacher)
        teacher.get_by_role("link", name="Draw").click()
        ann.wait_for_url(re.compile(r"/draw"), timeout=15_000)
        wait_idle(ann)
        ann.get_by_label("Your first name (optional)", exact=True).fill("Ann")
        ann.keyboard.press("Enter")
        wait_idle(ann)
        canvas = ann.locator(".st-key-dr_canvas canvas").last.bounding_box()
        ann.mouse.move(canvas["x"] + 80, canvas["y"] + 60)
        ann.mouse.down()
        ann.mouse.move(canvas["x"] + 200, canvas["y"] + 60, steps=8)
        ann.mouse.move(canvas["x"] + 120, canvas["y"] + 220, steps=8)
        ann.mouse.up()
        teacher.get_by_text("1 drawing from the class").wait_for(timeout=15_000)
        # the caption comes with the run; Plotly draws the map (and Ann's name on it) in the browser after it
        teacher.locator(".st-key-class_map_plot").get_by_text("Ann").first.wait_for(timeout=15_000)
        screenshot(teacher, "teacher_class_map_browser")
    finally:
        if teacher.get_by_text("The class follows me").count():  # leave the class free, whatever happened
            for name in ("The class follows me", "Pause the class", "Collect drawings"):
                box = teacher.get_by_role("checkbox", name=name)
                if box.count() and box.is_checked():
                    teacher.get_by_text(name).click()
                    wait_idle(teacher)
        for page in (teacher, ann, bob, forged):
            page.context.close()
