"""Projector mode (issue 22): a link or the sidebar's toggle turns it on for one tab; the tab's own link keeps it, the
view a teacher sends the class does not."""

from __future__ import annotations

from tests.helpers import app


def test_a_link_turns_it_on_and_the_button_at_the_top_turns_it_off():
    at = app("pages/reconstructions.py", query={"projector": "1"})
    assert at.session_state["projector"] is True and at.toggle(key="projector").value is True
    assert any("font-size: 150%" in h.proto.body for h in at.get("html"))  # the style that enlarges the page
    assert "1" in at.query_params["projector"]  # the address bar keeps it
    at.button(key="projector_off").click().run()
    assert at.session_state["projector"] is False
    assert not [h for h in at.get("html") if "font-size: 150%" in h.proto.body]
    assert "projector" not in at.query_params


def test_the_view_sent_to_a_following_class_leaves_it_out():
    """The class gets `view_params()`: the sidebar's choices and the keys the page's run linked (ui.share)."""
    from ui.share import GLOBAL, RUN_KEYS

    at = app("pages/generate.py", query={"projector": "1"})
    sent = set(GLOBAL) | set(at.session_state[RUN_KEYS])
    assert "gen_pick" in sent  # the page's linked widgets go to the class
    assert "projector" not in sent  # projector mode does not
    assert "projector" in at.query_params  # while this tab's own address bar keeps it


def test_charts_grow_in_a_copy_and_the_shared_figure_is_untouched(monkeypatch):
    import numpy as np

    from ui import projector
    from ui.plots import latent_scatter

    fig = latent_scatter(np.zeros((10, 2)), np.arange(10) % 2, ["a", "b"], ("x", "y"))
    monkeypatch.setattr(projector, "on", lambda: True)
    big = projector.enlarged(fig)
    assert big.data[0].marker.size == fig.data[0].marker.size * projector.SCALE and big.layout.font.size == 18
    assert fig.layout.font.size is None  # the cached figure every session shares is not changed
