"""Features: keep only the encoder, and its codes feed another model; how good a feature is, with few labels."""

import streamlit as st

from ae.explore.features import LABELS_PER_CLASS, MAX_PROBE_TRAIN, PROBES, confusion_of, summary
from ae.store.export import codes_csv
from ui import share
from ui.analysis import need
from ui.cache import load_model, probe_matrices, probe_table, test_features
from ui.describe import chart
from ui.plots import confusion_chart, probe_chart
from ui.shell import ensure_shell
from ui.state import current_dataset, pick_models

ensure_shell()

st.title("Features")
data = current_dataset()  # the sidebar's model need not read this dataset: the page picks its own models
st.caption("After training, keep the encoder alone: its codes are features for another model. A linear probe "
           "(logistic regression) and a 5-nearest-neighbour classifier are fitted on the train split's codes with "
           "1 to all labels per class and scored on the test split, beside the raw inputs and PCA with as many "
           "dimensions. Three seeds draw the labelled samples; the bars show their spread.")
if data.y_train is None:
    st.info(f"{data.name} has no labels, so there is nothing to score the features against. Upload a CSV with a "
            "label column (or images in one folder per class) on the Train page.")
    st.stop()

models = pick_models(data, ("pretrained/conv-ae-16", "pretrained/conv-vae-16"), "ft_models")
if not models:
    st.info(f"Pick at least one model. Only models trained on data shaped like {data.name}'s are offered; train "
            "one on the Train page if there are none.")
    st.stop()

if len(data.y_train.unique()) < 2:
    st.info(f"**Nothing to score:** {data.name}'s train split holds one class only; a probe needs two or more to tell "
            "apart.")
    st.stop()
pca_k = load_model(models[0][1], models[0][2])[0].cfg.latent_dim  # PCA with as many dimensions as the first code
need(data, *[("probes", path) for _, path, _ in models], (f"pca-{pca_k}", None), ("raw-probes", None))
table = summary(probe_table(models, data.name, pca_k))
if len(data.x_train) > MAX_PROBE_TRAIN:
    st.caption(f"'All labels' means a seeded {MAX_PROBE_TRAIN:,} of the {len(data.x_train):,} training samples (a "
               "probe's accuracy barely moves beyond that, and the fits stay seconds); every score is on all "
               f"{len(data.x_test):,} test samples.")
probe = share.segmented_control("Probe", PROBES, "logistic", key="ft_probe")
chart(probe_chart(table, probe), "ft_chart")
best = table[(table["probe"] == probe) & (table["labels"] == "all")].sort_values("mean", ascending=False)
st.dataframe(best[["features", "mean"]].rename(columns={"mean": "accuracy, all labels"}), hide_index=True,
             key="ft_best")

st.subheader("Where it goes wrong")
c1, c2 = st.columns(2)
matrices = probe_matrices(models, data.name, pca_k)
features = c1.selectbox("Features", list(matrices), key="ft_features")
per_class = share.select_slider("Labels per class", LABELS_PER_CLASS, None, key="ft_labels", on=c2,
                             format_func=lambda k: "all" if k is None else str(k))
chart(confusion_chart(confusion_of(matrices[features], probe, per_class), data.class_names), "ft_confusion")
st.caption("The confusion matrix of the first of the three seeds.")

st.download_button(f"Download the {features} features of the test split (.csv)",
                   lambda: codes_csv(test_features(models, data.name, pca_k, features), None, data.y_test.numpy(),
                                     data.class_names), f"{features}-features.csv", "text/csv", key="ft_csv")
