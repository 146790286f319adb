"""Latent Lab entry point: page config, routing, and the sidebar every page shares. No model code here."""

import streamlit as st

from ui import preload

st.set_page_config(page_title="Latent Lab", page_icon=":material/science:", layout="wide")
if preload.pending():  # the first visits after `make run`: the libraries are still being imported (ui/serve.py)
    with st.spinner("Starting Latent Lab: loading PyTorch and the models, once after a restart…"):
        preload.wait()

from ui import focus, projector  # noqa: E402
from ui.cache import heap_settled, job_queue  # noqa: E402  (after the wait: one thread imports them, not two)
from ui.follow import drawn, lock_page  # noqa: E402
from ui.lesson_steps import say_line  # noqa: E402
from ui.questions import student_panel, teacher_panel  # noqa: E402
from ui.runlog import timed_run  # noqa: E402
from ui.share import shared_view, show_notes  # noqa: E402
from ui.shell import enter, navigation  # noqa: E402
from ui.state import render_sidebar  # noqa: E402

nav = navigation()
render_sidebar(nav.url_path)
job_queue()  # the training and analysis workers start with the app, in the background
heap_settled()
show_notes()
say_line()
teacher_panel()
student_panel()
lock_page()
focus.ring()
projector.apply()
enter()
with timed_run(nav.url_path or "home"), shared_view():
    nav.run()
drawn()
