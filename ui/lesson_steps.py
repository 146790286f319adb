"""The teacher steps through a lesson (ui/lessons.py): pick one in the Teacher box, then Previous / Next. Each step
opens its link in the teacher's tab, as a shared link opens; with "The class follows me" on, the class moves too. The
step's line for the teacher is shown above the teacher's page, never to the students."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from ui.cache import lessons
from ui.share import open_view
from ui.teacher import is_teacher

# Plain session keys, not the widget's: a step that opens another page ends the run before the Teacher box is drawn,
# and Streamlit forgets the state of a widget a run did not draw.
LESSON, STEP, GOTO = "_lesson", "_lesson_step", "_lesson_goto"


def _current():
    good, _ = lessons()
    lesson = good.get(st.session_state.get(LESSON) or "")
    return lesson, st.session_state.get(STEP, 0)


def go_to_step(page: str, datasets: Sequence[str], models: Sequence[str]) -> None:
    """Before the sidebar is drawn in the teacher's tab: open the step asked for by Previous / Next."""
    goto = st.session_state.pop(GOTO, None)
    if goto is None or not is_teacher():  # only then are the lesson files read
        return
    lesson, _ = _current()
    if lesson is None:
        return
    step = lesson.steps[goto]
    st.session_state[STEP] = goto
    open_view(step.page, step.params, page, datasets, models, source="The lesson")


def _goto(i: int) -> None:
    st.session_state[GOTO] = i


def _picked() -> None:
    st.session_state[LESSON] = st.session_state.get("teacher_lesson")
    if st.session_state[LESSON]:
        st.session_state[GOTO] = 0


def lesson_controls() -> None:
    """Inside the unlocked Teacher box."""
    good, bad = lessons()
    options = [None, *good]
    current = st.session_state.get(LESSON)
    st.selectbox("Lesson", options, index=options.index(current) if current in options else 0, key="teacher_lesson",
                 on_change=_picked,
                 format_func=lambda k: "None: explore freely" if k is None else good[k].title,
                 help="Lessons are the YAML files in lessons/: each step a page with its settings and a line for you.")
    for name, why in bad.items():
        st.caption(f":material/error: lessons/{name} cannot be used: {why}")
    lesson, i = _current()
    if lesson is None:
        return
    n = len(lesson.steps)
    back, ahead = st.columns(2)
    back.button("Previous", key="lesson_prev", icon=":material/arrow_back:", disabled=i <= 0, on_click=_goto,
                args=(max(i - 1, 0),), width="stretch")
    ahead.button("Next", key="lesson_next", icon=":material/arrow_forward:", disabled=i >= n - 1, on_click=_goto,
                 args=(min(i + 1, n - 1),), width="stretch")
    st.caption(f"Step {i + 1} of {n}")
    question = lesson.steps[i].question
    if question is not None:
        question_controls(question, lesson.steps[i].params)


def question_controls(question, params: dict[str, str]) -> None:
    """The step's question: ask it on the map the teacher shows now, reveal the model's answer, close it."""
    from ui.questions import ask, close, method_of, open_question, reveal

    asked = open_question()
    st.caption(f":material/quiz: {question.ask}")
    if asked is None or asked.get("ask") != question.ask:
        ss = st.session_state
        st.button("Ask the class", key="q_ask", icon=":material/quiz:", width="stretch", on_click=ask,
                  args=(question, ss.get("model", ""), ss.get("dataset", ""), method_of(params)))
        return
    q1, q2 = st.columns(2)
    q1.button("Reveal", key="q_reveal", icon=":material/visibility:", disabled=bool(asked.get("revealed")),
              on_click=reveal, width="stretch")
    q2.button("Close", key="q_close", icon=":material/close:", on_click=close, width="stretch")


def say_line() -> None:
    """Above the teacher's page: the step's line, to read out."""
    if not is_teacher():
        return
    lesson, i = _current()
    if lesson is None:
        return
    st.info(f"**{lesson.title}, step {i + 1} of {len(lesson.steps)}.** {lesson.steps[i].say}",
            icon=":material/record_voice_over:")
