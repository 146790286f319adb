"""Denoise: corrupt test images at a chosen noise type and level and see what each model rebuilds."""

import streamlit as st

from ae.data.noise import NOISES
from ae.explore.analyses import DENOISE_IMAGES
from ae.explore.denoise import LEVEL_STEP, MAX_LEVEL, nearest_level
from ui import share
from ui.analysis import need, need_some
from ui.cache import denoise_examples, draw_psnr_chart, noise_scores_at
from ui.describe import chart
from ui.images import show, tile_png
from ui.shell import ensure_shell
from ui.state import current_selection, pick_models

ensure_shell()

NOISE_NAMES = {"gaussian": "Gaussian", "salt_pepper": "salt and pepper", "mask": "masking"}
SHOWN = 10
MEASURED = DENOISE_IMAGES

st.title("Denoise")
sel = current_selection()
data, entry = sel.data, sel.entry
if data.kind != "image":
    st.info("Denoising works on images; this dataset is tabular.")
    st.stop()
st.caption(f"**{entry.name}** rebuilds noisy copies of the first {MEASURED} **{data.name}** test images; the scores "
           "compare both the noisy input and the model's output with the clean original. The denoising AE was "
           "trained on Gaussian noise at sigma 0.3; the others never saw noise.")
need(data, ("denoise", entry.path))  # every noise type and level, measured once


@st.fragment
def results() -> None:
    """A fragment: moving the level reruns the results and the chart, not the page shell and sidebar."""
    c1, c2 = st.columns([2, 3])
    kind = share.segmented_control("Noise", NOISES, "gaussian", key="dn_noise", on=c1, format_func=NOISE_NAMES.get)
    label = "sigma" if kind == "gaussian" else "fraction of pixels hit"
    top = MAX_LEVEL[kind]
    level = nearest_level(kind, share.slider(f"Level ({label})", 0.0, top, 0.3, LEVEL_STEP, key="dn_level", on=c2))

    scores = noise_scores_at(entry.path, data.name, kind, level)
    m1, m2, m3 = st.columns(3)
    m1.metric("PSNR noisy → denoised", f"{scores.psnr_denoised:.2f} dB",
              f"{scores.psnr_denoised - scores.psnr_noisy:+.2f} dB",
              help=f"noisy input: {scores.psnr_noisy:.2f} dB; mean over {MEASURED} images")
    m2.metric("SSIM noisy → denoised", f"{scores.ssim_denoised:.3f}",
              f"{scores.ssim_denoised - scores.ssim_noisy:+.3f}", help=f"noisy input: {scores.ssim_noisy:.3f}")
    m3.metric("Noisy input PSNR", f"{scores.psnr_noisy:.2f} dB")
    noisy, denoised = denoise_examples(entry.path, entry.stamp, data.name, kind, level, MEASURED, SHOWN)
    show([tile_png(data.test_x(slice(0, SHOWN)).numpy(), SHOWN, 1, 3), tile_png(noisy, SHOWN, 1, 3),
          tile_png(denoised, SHOWN, 1, 3)],
         ["clean", f"noisy ({NOISE_NAMES[kind]}, {level:.2f})", f"denoised by {entry.name}"], "stretch")

    st.divider()
    st.subheader("PSNR against noise level")
    usable = pick_models(data, ("pretrained/conv-dae-16", "pretrained/conv-ae-16"), "dn_models")
    have = need_some(data, *[("denoise", path) for _, path, _ in usable])
    ready = tuple(m for m, a in zip(usable, have) if a is not None)
    if ready:
        chart(draw_psnr_chart(ready, data.name, kind, float(level), label), "dn_chart")
    st.caption(f"Each curve is measured once per model on the first {MEASURED} test images, at every level in steps "
               f"of {LEVEL_STEP}, by the analysis worker, and kept for everyone.")


results()
