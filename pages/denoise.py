"""Denoise: corrupt test images at a chosen noise type and level and see what each model rebuilds."""

import streamlit as st

from ae.data.noise import NOISES
from ui.cache import denoise_test_images, draw_psnr_chart
from ui.images import show, tile_png
from ui.share import linked
from ui.shell import ensure_shell
from ui.state import current_selection, pick_models

ensure_shell()

NOISE_NAMES = {"gaussian": "Gaussian", "salt_pepper": "salt and pepper", "mask": "masking"}
SHOWN = 10
MEASURED = 200

st.title("Denoise")
sel = current_selection()
data, entry = sel.data, sel.entry
if data.kind != "image":
    st.info("Denoising works on images; this dataset is tabular.")
    st.stop()
st.caption(f"**{entry.name}** rebuilds noisy copies of the first {MEASURED} **{data.name}** test images; the scores "
           "compare both the noisy input and the model's output with the clean original. The denoising AE was "
           "trained on Gaussian noise at sigma 0.3; the others never saw noise.")


@st.fragment
def results() -> None:
    """A fragment: moving the level reruns the results and the chart, not the page shell and sidebar."""
    c1, c2 = st.columns([2, 3])
    linked("dn_noise", NOISES)
    kind = c1.segmented_control("Noise", NOISES, format_func=NOISE_NAMES.get, default="gaussian", key="dn_noise",
                                required=True)
    label = "sigma" if kind == "gaussian" else "fraction of pixels hit"
    linked("dn_level", lo=0.0, hi=1.0 if kind != "gaussian" else 0.8, kind=float)
    level = c2.slider(f"Level ({label})", 0.0, 1.0 if kind != "gaussian" else 0.8, 0.3, 0.05, key="dn_level")

    r = denoise_test_images(entry.path, entry.stamp, data.name, kind, float(level), MEASURED)
    m1, m2, m3 = st.columns(3)
    m1.metric("PSNR noisy → denoised", f"{r.psnr_denoised:.2f} dB", f"{r.psnr_denoised - r.psnr_noisy:+.2f} dB",
              help=f"noisy input: {r.psnr_noisy:.2f} dB; mean over {MEASURED} images")
    m2.metric("SSIM noisy → denoised", f"{r.ssim_denoised:.3f}", f"{r.ssim_denoised - r.ssim_noisy:+.3f}",
              help=f"noisy input: {r.ssim_noisy:.3f}")
    m3.metric("Noisy input PSNR", f"{r.psnr_noisy:.2f} dB")
    clean = data.x_test[:SHOWN].numpy()
    show([tile_png(clean, SHOWN, 1, 3), tile_png(r.noisy[:SHOWN], SHOWN, 1, 3),
          tile_png(r.denoised[:SHOWN], SHOWN, 1, 3)],
         ["clean", f"noisy ({NOISE_NAMES[kind]}, {level:.2f})", f"denoised by {entry.name}"], "stretch")

    st.divider()
    st.subheader("PSNR against noise level")
    usable = pick_models(data, ("pretrained/conv-dae-16", "pretrained/conv-ae-16"), "dn_models")
    fig = draw_psnr_chart(usable, data.name, kind, float(level), label, MEASURED)
    st.plotly_chart(fig, key="dn_chart")
    st.caption(f"Each curve is computed once per model and noise type on {MEASURED} test images, then cached.")


results()
