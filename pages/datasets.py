"""Datasets and a first model: look at the data every demo uses, and meet the training panel."""

import numpy as np
import streamlit as st
import torch

from dlplay import data, viz
from dlplay import classifier
from dlplay.classifier import load_judge
from dlplay.errors import InputError
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, present, share, training_panel
from dlplay.ui.draw import digit_panel

page_header(
    "Datasets and a first model",
    "Every demo in dlplay trains on small datasets that ship with the installed packages, so nothing needs the "
    "internet: 1,797 real 8x8 handwritten digits from scikit-learn, generated images whose hidden factors "
    "(angle, size, position) are known exactly, and 2-D point clouds for the GAN. The classifier at the bottom "
    "is the smallest model in the playground: one hidden layer trained by minimising the cross-entropy.",
    formula=r"\mathcal{L} = -\frac{1}{N}\sum_{i=1}^{N} \log p_\theta(y_i \mid x_i)",
    try_list=["Switch to *shapes* and read the known factors under each image.",
              "Train the classifier for 5 seconds, then again with another seed: the curves differ, the accuracy barely.",
              "Set the seed back and train again: exactly the same curve (that is what the seed is for).",
              "Look at the 2-D sets: these are the targets the GAN Lab learns to imitate."])
device_badge()


@st.cache_resource(show_spinner="Loading the dataset ...")
def _load(name: str):
    return data.load(name)


names = data.dataset_names(available_only=True)
share.link("datasets", [share.choice("dataset", "ds:name", names),
                        *share.panel("ds:clf", steps=1500, seconds=5.0, max_seconds=60.0)])
# presenter mode (issue 26): the dataset and the classifier's Train on the left, the dataset's grid on the right
ctl, stage = present.stage()
name = ctl.selectbox("Image dataset", names, index=0, key="ds:name",
                     help="MNIST and Fashion-MNIST appear here once downloaded with `python -m dlplay download mnist`.")
with errors_shown():
    ds = _load(name)
    ctl.markdown(f"**{name}**: {ds.description}. {len(ds.x_train):,} training and {len(ds.x_test):,} test images "
                 f"of {ds.image_shape[1]}x{ds.image_shape[2]} pixels, {len(ds.class_names)} classes.")
    per_class = 8
    rows, titles = [], []
    for c in range(len(ds.class_names)):
        idx = torch.nonzero(ds.y_test == c).flatten()[:per_class]
        rows.append(ds.x_test[idx])
        for i in idx.tolist():
            f = ", ".join(f"{k} {v[i]:.0f}" if k == "angle" else f"{k} {v[i]:.2f}" for k, v in ds.factors_test.items())
            titles.append(f or ds.class_names[c])
    with stage:
        image_grid(torch.cat(rows), key="ds:grid", ncols=per_class, titles=titles if ds.factors_test else None,
                   caption="Test images, one row per class" + (" (known factors under each)" if ds.factors_test
                                                               else "."),
                   download_name=f"{name}.png", height=present.height(None, 560))

st.subheader("2-D toy distributions")
tc = st.columns(len(data.TOY2D))
for col, toy in zip(tc, data.TOY2D):
    pts = data.toy2d(toy, 600, seed=0)
    fig = viz.scatter(pts, title=toy, marker_size=3)
    fig.update_layout(height=220, showlegend=False, margin=dict(l=0, r=0, t=30, b=0))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    col.plotly_chart(fig, key=f"ds:toy:{toy}", config={"displayModeBar": False})

with ctl:   # presenter mode: the classifier's heading and Train under the dataset's name, its text folded
    st.subheader("A first model: the digit classifier")
    with present.secondary("About this model", icon=":material/info:"):
        st.markdown(
            "A 64-128-11 network: ten digit classes plus one extra class, *not a digit*, learnt from noise and "
            "scrambled digits made on the fly. The extra class lets the same network later judge whether a VAE's or "
            "a GAN's samples look like digits at all. Below: the shipped model's answers on test images, then train "
            "your own.")
    if name != "digits":
        st.info("The classifier demo uses the digits dataset.", icon=":material/info:")


@st.cache_resource
def _judge():
    return load_judge()


digits = _load("digits")
x_show = digits.x_test[:16]


def _predictions(model, title: str) -> None:
    model.eval()
    with torch.no_grad():
        p = torch.softmax(model(digits.x_test.to(next(model.parameters()).device)).cpu(), 1)
    acc = (p.argmax(1) == digits.y_test).float().mean().item()
    pred = p[:16].argmax(1)
    labels = [("not a digit" if k == 10 else str(k)) + f" ({p[i, k]:.0%})" for i, k in enumerate(pred.tolist())]
    st.metric(f"{title}: accuracy on the {len(digits.x_test)} test digits", f"{acc:.1%}")
    image_grid(x_show, key=f"ds:pred:{title}", ncols=8, titles=labels, download_name="predictions.png")


with ctl:
    trainer = training_panel(
        "ds:clf", classifier.make_task, config=classifier.ClassifierConfig(), seconds=5.0, max_seconds=60.0,
        steps=1500, panels={"loss (cross-entropy)": ["loss"], "training accuracy": ["train_acc"]}, record_every=5)
    share.code_behind("ds:clf", classifier.make_task, classifier.ClassifierConfig(),
                      command='train classifier', steps=1500, seconds=5.0, title='Datasets and a first model')
if trainer is None:
    _predictions(_judge(), "Shipped model")
else:
    _predictions(trainer.task.model, "Your model")


def _probs(model, x):
    model.eval()
    with torch.no_grad():
        return torch.softmax(model(x.to(next(model.parameters()).device)).cpu(), 1).numpy()


with st.expander("Your own digit: draw it or photograph it, and the classifier reads it", icon=":material/draw:"):
    clf = _judge() if trainer is None else trainer.task.model
    digit_panel("ds:own", classify=lambda x: _probs(clf, x), encode=lambda x: x.flatten(1).numpy(), train=digits,
                test=digits.x_test, class_names=[*digits.class_names, "not a digit"], code_name="pixels")
