"""Generate: sample a VAE's prior, interpolate between two images, and walk single latent dimensions."""

import numpy as np
import streamlit as st

from ae.explore.generate import MODES, errors_to, interpolate, latent_ranges, traversal_grid
from ui import share
from ui.analysis import need
from ui.cache import decode, reconstruct_images, sample_prior_grid, test_codes
from ui.images import big, png, show, tile_png
from ui.shell import ensure_shell
from ui.state import current_selection

ensure_shell()

st.title("Generate")
sel = current_selection()
data, entry, model = sel.data, sel.entry, sel.model
if data.kind != "image":
    st.info("Generation draws images; this dataset is tabular.")
    st.stop()
need(data, ("maps", entry.path))
z_all = test_codes(entry.path, data.name)
latent = model.cfg.latent_dim
low, high = latent_ranges(model, z_all)
labels = data.y_test.numpy() if data.y_test is not None else None
n_test = len(data.x_test)


def bump(key: str) -> None:
    """Button callback: runs before the rerun, so it may change a widget's value."""
    st.session_state[key] = int(st.session_state.get(key, 0)) + 1


def name_of(k: int) -> str:
    return f"#{k}" + (f" ({data.class_names[labels[k]]})" if labels is not None else "")


tab_sample, tab_path, tab_walk = st.tabs(["Sample", "Interpolate", "Traverse"])

@st.fragment
def sample_tab() -> None:
    """Each tab is a fragment: moving a slider reruns that tab alone, not the page and the other two tabs."""
    if not model.samples_prior:
        st.info(
            f"**{entry.name} is a plain autoencoder, so there is nothing to sample.** Its codes fill an irregular "
            "region of the latent space with no known shape; a random code mostly lands outside it and decodes to "
            "noise. A VAE is trained to make its codes look like draws from N(0, I), so any draw from that prior "
            "decodes to a plausible image. Pick a VAE in the sidebar (conv-vae-2, conv-vae-16, conv-bvae-10).",
            icon=":material/block:",
        )
        return  # no sampling controls to show greyed out: the box says why, and what to pick instead
    s1, s2, s3 = st.columns([3, 1, 1])
    temp = share.slider("Temperature", 0.0, 2.0, 1.0, 0.1, key="gen_temp", on=s1,
                        help="scales the prior's spread: low gives typical, blurry averages; high gives odd, "
                             "varied ones")
    seed = share.number_input("Seed", 0, 100_000, 0, key="gen_seed", on=s2)
    s3.button("Resample", key="gen_resample", on_click=bump, args=("gen_seed",))
    samples = sample_prior_grid(entry.path, entry.stamp, float(temp), int(seed))
    show(png(samples), f"64 codes drawn from N(0, {temp:.1f}² I) and decoded (seed {seed})", 560)
    st.download_button("Download the samples (PNG)", png(samples), f"{entry.name}-samples.png", "image/png",
                       key="gen_png")


@st.fragment
def path_tab() -> None:
    p1, p2, p3, p4 = st.columns([2, 2, 2, 2])
    how = share.segmented_control("Endpoints", ["by index", "by class"], "by index", key="gen_pick", on=p1)
    if how == "by index" or labels is None:
        a = int(share.number_input("Image A", 0, n_test - 1, 0, key="gen_a", on=p2))
        other = int(np.argmax(labels != labels[0])) if labels is not None else 1  # B of another class than A
        b = int(share.number_input("Image B", 0, n_test - 1, min(other, n_test - 1), key="gen_b", on=p3))
    else:
        present = [c for i, c in enumerate(data.class_names) if (labels == i).any()]  # classes in the test split
        ca = p2.selectbox("Class of A", present, index=0, key="gen_class_a")
        cb = p3.selectbox("Class of B", present, index=min(1, len(present) - 1), key="gen_class_b")
        draw = st.session_state.get("gen_draw", 0)
        rng = np.random.default_rng(draw)
        a = int(rng.choice(np.where(labels == data.class_names.index(ca))[0]))
        b = int(rng.choice(np.where(labels == data.class_names.index(cb))[0]))
        p4.button("Draw again", key="gen_redraw", on_click=bump, args=("gen_draw",))
    mode = share.segmented_control("Path", MODES, "linear", key="gen_mode",
                                help="spherical keeps the code's length, which suits a Gaussian prior")
    t = share.slider("t (0 = A, 1 = B)", 0.0, 1.0, 0.5, 0.05, key="gen_t")
    za, zb = z_all[a], z_all[b]
    zt = interpolate(za, zb, [t], mode)[0]
    img_t = decode(entry.path, entry.stamp, tuple(map(float, zt)))[0]
    err_a, err_b = errors_to(reconstruct_images(entry.path, entry.stamp, data.name, (a, b)), img_t)
    i1, i2, i3 = st.columns(3)
    with i1:
        big(data.test_x(a).numpy(), f"A: {name_of(a)}")
    with i2:
        big(img_t, f"decoded at t = {t:.2f}")
    with i3:
        big(data.test_x(b).numpy(), f"B: {name_of(b)}")
    st.caption(f"MSE to A's reconstruction {err_a:.4f} · to B's reconstruction {err_b:.4f}")
    path = interpolate(za, zb, np.linspace(0, 1, 11), mode)
    strip = decode(entry.path, entry.stamp, tuple(tuple(map(float, z)) for z in path))
    show(tile_png(strip, nrow=11, pad=1, scale=2), f"the whole {mode} path, t = 0 to 1 in steps of 0.1", "stretch")
    if not model.samples_prior:
        st.caption(
            "A plain autoencoder is not trained to make the space between codes meaningful, so the middle of the "
            "path can pass through codes that no image maps to and look smeared or broken. A VAE's path stays on "
            "plausible images."
        )

@st.fragment
def walk_tab() -> None:
    w1, w2 = st.columns([1, 3])
    start = int(w1.number_input("Start from image", 0, n_test - 1, 0, key="gen_start"))
    with w1:
        big(data.test_x(start).numpy(), f"{name_of(start)}")
    shown_dims = min(latent, 10)
    z_edit = z_all[start].copy()
    with w2:
        cols = st.columns(2)
        for k in range(shown_dims):
            lo, hi = float(min(low[k], z_edit[k])), float(max(high[k], z_edit[k]))
            z_edit[k] = cols[k % 2].slider(f"z[{k}]", lo, hi, float(z_edit[k]), (hi - lo) / 60,
                                           key=f"gen_dim_{start}_{k}", format="%.2f")
        if latent > shown_dims:
            st.caption(f"Showing the first {shown_dims} of {latent} dimensions; the rest stay at the image's code.")
    w3, w4 = st.columns([1, 3])
    with w3:
        big(decode(entry.path, entry.stamp, tuple(map(float, z_edit)))[0], "decoded from the edited code")
    with w4:
        g1, g2 = st.columns(2)
        di = g1.selectbox("Sweep across", range(latent), index=0, key="gen_sweep_i", format_func=lambda d: f"z[{d}]")
        dj = g2.selectbox("Sweep down", range(latent), index=min(1, latent - 1), key="gen_sweep_j",
                          format_func=lambda d: f"z[{d}]")
        if di == dj:
            st.warning("Pick two different dimensions to sweep.")
        else:
            grid = traversal_grid(z_all[start], di, dj, np.linspace(low[di], high[di], 9),
                                  np.linspace(high[dj], low[dj], 9))
            imgs = decode(entry.path, entry.stamp, tuple(tuple(map(float, z)) for z in grid))
            show(tile_png(imgs, nrow=9, pad=1, scale=2, width=420), width=420,
                 caption=f"z[{di}] from {low[di]:.1f} to {high[di]:.1f} (left to right), z[{dj}] from "
                             f"{high[dj]:.1f} to {low[dj]:.1f} (top to bottom); other dims at {name_of(start)}'s code")


with tab_sample:
    sample_tab()
with tab_path:
    path_tab()
with tab_walk:
    walk_tab()
