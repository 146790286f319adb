"""Issue 22 in a real browser: the latent map seen through a simulated deuteranopia filter still tells the ten classes
apart, by shape in the legend and on the map (screenshot looked at)."""

from __future__ import annotations

import pytest

from tests.browser import assert_no_exception, screenshot, wait_idle

pytestmark = pytest.mark.browser

# Machado, Oliveira and Fernandes (2009), deuteranopia at full severity, applied in linear RGB (an SVG filter's
# default colour space)
DEUTERANOPIA = ("0.367322 0.860646 -0.227968 0 0  0.280085 0.672501 0.047413 0 0  -0.011820 0.042940 0.968881 0 0  "
                "0 0 0 1 0")
FILTER = f"""() => {{
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('style', 'position:absolute;width:0;height:0');
  svg.innerHTML = '<filter id="deuteranopia"><feColorMatrix type="matrix" values="{DEUTERANOPIA}"/></filter>';
  document.body.appendChild(svg);
  document.documentElement.style.filter = 'url(#deuteranopia)';
  return getComputedStyle(document.documentElement).filter;
}}"""


def test_the_classes_keep_ten_shapes_seen_with_deuteranopia(page, streamlit_url):
    page.goto(f"{streamlit_url}/latent_space?model=pretrained/conv-ae-16&map_thumbs=false")
    wait_idle(page)
    plot = page.locator(".st-key-map_chart .js-plotly-plot")
    plot.wait_for(timeout=60_000)
    assert "deuteranopia" in page.evaluate(FILTER)
    shapes = page.evaluate("() => [...document.querySelectorAll('.st-key-map_chart .legendpoints path')]"
                           ".map(p => p.getAttribute('d'))")
    assert len(shapes) == 10 and len(set(shapes)) == 10  # ten legend entries, ten different marker shapes
    assert_no_exception(page)
    screenshot(page, "latent_space_deuteranopia")
