"""AppTests of the Generate, Denoise, Anomalies and Compare pages: widgets change what is shown."""

from __future__ import annotations

import re

import pytest

from tests.helpers import app, caption_matching


def errors_to_ends(at) -> tuple[float, float]:
    m = re.search(r"MSE to A's reconstruction ([\d.]+) · to B's reconstruction ([\d.]+)",
                  caption_matching(at, "^MSE to A"))
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("model", ["pretrained/conv-vae-16", "pretrained/conv-ae-16"])
def test_interpolation_runs_from_the_first_image_to_the_second(model):
    at = app("pages/generate.py", model=model)
    at.number_input(key="gen_a").set_value(3)
    at.number_input(key="gen_b").set_value(250)
    for mode in ("linear", "spherical"):
        at.segmented_control(key="gen_mode").set_value(mode)
        at.slider(key="gen_t").set_value(0.0).run()
        a0, b0 = errors_to_ends(at)
        at.slider(key="gen_t").set_value(1.0).run()
        a1, b1 = errors_to_ends(at)
        at.slider(key="gen_t").set_value(0.5).run()
        am, bm = errors_to_ends(at)
        assert not at.exception
        assert a0 < 1e-6 and b1 < 1e-6, mode  # t=0 decodes to A's reconstruction, t=1 to B's
        assert b0 > 0.01 and a1 > 0.01
        assert 0 < am < a1 and 0 < bm < b0  # half way is between them
    strip = [img for img in at.image if img.proto.imgs[0].caption.startswith("the whole spherical path")]
    assert strip


def test_sampling_follows_temperature_and_seed_and_is_refused_for_plain_autoencoders():
    at = app("pages/generate.py", model="pretrained/conv-vae-2")
    first = [i for i in at.image if "codes drawn from" in i.proto.imgs[0].caption][0]
    assert "N(0, 1.0² I)" in first.proto.imgs[0].caption and "seed 0" in first.proto.imgs[0].caption
    url0 = first.proto.imgs[0].url
    at.slider(key="gen_temp").set_value(0.3).run()
    at.button(key="gen_resample").click().run()
    again = [i for i in at.image if "codes drawn from" in i.proto.imgs[0].caption][0]
    assert "N(0, 0.3² I)" in again.proto.imgs[0].caption and "seed 1" in again.proto.imgs[0].caption
    assert again.proto.imgs[0].url != url0

    plain = app("pages/generate.py", model="pretrained/conv-ae-16")
    assert "nothing to sample" in plain.info[0].value
    assert not [w for w in plain.slider if w.key == "gen_temp"] and not [b for b in plain.button
                                                                         if b.key == "gen_resample"]
    assert not [i for i in plain.image if "codes drawn from" in i.proto.imgs[0].caption]


def test_traversal_sliders_and_sweep():
    at = app("pages/generate.py", model="pretrained/conv-bvae-10")
    sliders = [s for s in at.slider if s.key and s.key.startswith("gen_dim_0_")]
    assert len(sliders) == 10
    before = [i for i in at.image if i.proto.imgs[0].caption == "decoded from the edited code"][0].proto.imgs[0].url
    at.slider(key="gen_dim_0_3").set_value(at.slider(key="gen_dim_0_3").max).run()
    after = [i for i in at.image if i.proto.imgs[0].caption == "decoded from the edited code"][0].proto.imgs[0].url
    assert after != before
    at.selectbox(key="gen_sweep_j").set_value(7).run()
    assert any("z[7] from 3.0 to -3.0" in i.proto.imgs[0].caption for i in at.image)


def psnr_pair(at) -> tuple[float, float]:
    m = next(m for m in at.metric if m.label.startswith("PSNR noisy"))
    noisy = float(re.search(r"noisy input: ([\d.]+) dB", m.help).group(1))
    return noisy, float(m.value.split()[0])


@pytest.mark.slow
def test_the_denoising_model_beats_the_noisy_input_at_sigma_03():
    at = app("pages/denoise.py", model="pretrained/conv-dae-16")
    assert at.slider(key="dn_level").value == 0.3
    noisy, denoised = psnr_pair(at)
    assert 12.8 < noisy < 13.8 and denoised > noisy + 3
    at.slider(key="dn_level").set_value(0.6).run()
    noisy6, denoised6 = psnr_pair(at)
    assert noisy6 < noisy and denoised6 < denoised
    at.segmented_control(key="dn_noise").set_value("mask").run()
    assert not at.exception
    assert "noisy (masking" in at.image[0].proto.imgs[1].caption
    chart = at.get("plotly_chart")[0]
    assert "conv-dae-16" in chart.proto.spec and "conv-ae-16" in chart.proto.spec


@pytest.mark.slow
def test_anomalies_threshold_and_one_class_roc():
    at = app("pages/anomalies.py")
    n97 = int(re.match(r"(\d+) of", caption_matching(at, r"are above")).group(1))
    at.slider(key="an_pct").set_value(90.0).run()
    n90 = int(re.match(r"(\d+) of", caption_matching(at, r"are above")).group(1))
    assert n97 == 30 and n90 == 100  # the percentile is of the 1,000 test errors
    auroc0 = float(next(m.value for m in at.metric if m.label == "AUROC"))
    assert auroc0 > 0.9
    at.selectbox(key="an_normal").set_value("1").run()
    auroc1 = float(next(m.value for m in at.metric if m.label == "AUROC"))
    assert auroc1 > 0.9 and auroc1 != auroc0
    ood = at.dataframe[-1].value.set_index("input")
    assert ood.loc["uniform noise images", "× normal"] > 5
    assert "fashion-mnist would be scored here too, but it is not available" in caption_matching(at, "fashion-mnist")


def test_compare_table_chart_and_download():
    at = app("pages/compare.py")
    table = at.dataframe[0].value
    assert list(table["model"]) == ["conv-ae-16", "conv-dae-16", "conv-vae-16", "dense-ae-16"]
    assert table.set_index("model").loc["conv-ae-16", "test MSE"] < table.set_index("model").loc["dense-ae-16",
                                                                                                 "test MSE"]
    assert len(at.image[0].proto.imgs) == 5  # originals and one row per model
    at.multiselect(key="cmp_models").set_value(["pretrained/conv-ae-2", "pretrained/conv-vae-2"]).run()
    assert list(at.dataframe[0].value["model"]) == ["conv-ae-2", "conv-vae-2"]
    at.segmented_control(key="cmp_metric").set_value("SSIM").run()
    assert not at.exception
    assert "Download the table (CSV)" in [b.proto.label for b in at.get("download_button")]
