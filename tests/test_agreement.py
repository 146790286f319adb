"""Two latent spaces side by side (issue 21): alignment that undoes a turn and a mirror, and agreement that is 1 for
a model with itself and falls when the neighbourhoods are scrambled."""

from __future__ import annotations

import numpy as np

from ae.explore.agreement import agreement, align, overlap


def test_a_map_rotated_mirrored_scaled_and_moved_is_aligned_back_exactly():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(500, 2))
    theta = 1.1
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    mirror = np.array([[1.0, 0.0], [0.0, -1.0]])
    moved = ref @ turn @ mirror * 3.5 + np.array([10.0, -4.0])
    assert np.abs(moved - ref).max() > 1
    assert np.abs(align(ref, moved) - ref).max() < 1e-4


def test_a_model_agrees_with_itself_everywhere_and_a_scrambled_one_does_not():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(400, 8)).astype(np.float32)
    two_d = z[:, :2]
    same = agreement(z, z, two_d, two_d, k=10)
    assert (same.between == 1).all()
    assert same.trust_a == same.trust_b
    shuffled = z[rng.permutation(400)]  # each image gets another's code: neighbourhoods unrelated
    other = overlap(z, shuffled, k=10)
    assert other.mean() < 0.1
    assert set(agreement(z, shuffled, two_d, shuffled[:, :2]).most_disputed(5)) <= set(range(400))


def test_a_map_of_the_codes_themselves_is_perfectly_trustworthy():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(300, 2)).astype(np.float32)
    a = agreement(z, z, z, z)
    assert abs(a.trust_a - 1.0) < 1e-9 and (a.map_a == 1).all()


def typed(value) -> list:
    """A Plotly JSON array: a list, or a typed array ({"dtype", "bdata": base64})."""
    import base64

    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def test_compare_page_twin_maps_ring_in_one_map_what_was_selected_in_the_other():
    """Brushing: a lasso in A's map (its points' customdata) rings the same images in B's map, and the agreement
    of conv-ae-16 with itself is not what it has with conv-dae-16."""
    from tests.helpers import app

    at = app("pages/compare.py")
    assert not at.exception
    charts = {c.proto.id: c for c in at.get("plotly_chart")}
    twins = [c for c in at.get("plotly_chart") if "cmp_twin" in (c.proto.id or "")]
    assert len(twins) == 2, list(charts)
    assert any("Shared neighbours" in m.value for m in at.markdown)
    picked = [3, 17, 256]
    at.session_state["cmp_twin_a"] = {"selection": {"points": [{"customdata": i} for i in picked]}}
    at.run()
    assert not at.exception
    import json

    for chart in [c for c in at.get("plotly_chart") if "cmp_twin" in (c.proto.id or "")]:
        fig = json.loads(chart.proto.spec)
        ringed = [t for t in fig["data"] if t.get("name") == "selected"]
        assert len(ringed) == 1 and sorted(typed(ringed[0]["customdata"])) == picked
    assert any("3 selected" in c.value for c in at.caption)
