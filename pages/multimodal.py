"""Images and words in one space: two encoders, a contrastive loss, retrieval both ways, arithmetic, a captioner."""

import numpy as np
import streamlit as st

from dlplay import checkpoints, data, embed
from dlplay import multimodal as mm
from dlplay.topics import checkpoint_bytes
from dlplay.ui import (Vectors, device_badge, errors_shown, image_grid, page_header, publish_vectors,
                       training_panel)
from dlplay.ui import present, share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
MM_STEPS = 2000       # about 190 steps/s: 11 s

page_header(
    "Images and words in one space",
    "A picture is a dense grid of numbers, a phrase a handful of discrete words: no single network reads both "
    "well. So each gets its own encoder, an MLP on pixels and an average of learned word vectors, and both end in "
    "a unit vector of the **same** space. A contrastive loss pulls each picture towards the phrases that describe "
    "it and pushes it away from the others in the batch. Then you can search pictures with words, tag a picture "
    "with words, add and subtract across modalities, and decode a picture's vector back into a caption.",
    formula=r"\mathcal{L} = \tfrac12\Big[\mathrm{CE}\big(\operatorname{softmax}_j \tfrac{\langle f(x_i), g(t_j)"
            r"\rangle}{\tau},\ P_{i\cdot}\big) + \mathrm{CE}\big(\operatorname{softmax}_i \tfrac{\langle f(x_i), "
            r"g(t_j)\rangle}{\tau},\ P_{\cdot j}\big)\Big],\quad P_{ij} \propto [\,t_j \text{ describes } x_i\,]",
    try_list=[
        "Open the page: type **seven** (or *the digit 7*) and get sevens from the shipped model; the numbers above "
        "say how often the top image is right over every wording.",
        "*Image → phrases*: pick a test digit; the bars are its tags, the caption is what the captioner writes.",
        "*Arithmetic*: an image of a 3, minus *three*, plus *seven*: the result is sevens.",
        "Dataset **shapes**: phrases like *small arrow pointing up*. Try *bar*, *large triangle*, *pointing down*.",
        "Shapes, *Arithmetic*: a small arrow pointing up, minus *arrow*, plus *bar*: small bars pointing up. The "
        "text *bar* alone finds bars of any size and direction; the image term keeps the rest.",
        "*The shared space*: both modalities in one map; each phrase (a star) sits among its pictures.",
        "Type a word it never saw (*eleven*, *circle*) to see the check; press **Train** for your own model.",
    ])
device_badge()
share.link("multimodal", [share.choice("dataset", "mm:dataset", ["digits", "shapes"]),
                          share.choice("dim", "mm:dim", [2, 4, 8, 16, 32, 64], 32),
                          share.choice("tau", "mm:tau", [0.03, 0.05, 0.1, 0.2, 0.5, 1.0], 0.1, "temperature"),
                          share.choice("lr", "mm:lr", [3e-4, 1e-3, 2e-3, 5e-3, 1e-2], 2e-3),
                          share.choice("capw", "mm:capw", [0.0, 0.5, 1.0, 2.0], 1.0, "caption weight"),
                          *share.panel("mm:train", steps=MM_STEPS, seconds=10.0),
                          share.choice("map", "mm:map", ["pca", "tsne", "umap"])])


@st.cache_resource(show_spinner="Loading the dataset ...")
def _data(name: str):
    return data.load(name)


@st.cache_resource(show_spinner="Loading the shipped model ...")
def _shipped(name: str):
    return mm.load(checkpoints.shipped(name))


@st.cache_resource(show_spinner=False)
def _shipped_vectors(name: str, dataset: str):
    return mm.encode_images(_shipped(name)[0], _data(dataset).x_test)


# -- settings --------------------------------------------------------------------------------------------------------
# presenter mode (issue 26): the settings and Train on the left, the tabs (phrase -> images first) on the right
ctl, stage = present.stage()
with ctl:
    c = [*st.columns(2), *st.columns(3)] if present.presenting() else st.columns([1.2, 1, 1, 1, 1])
    dataset = c[0].selectbox("Dataset", ["digits", "shapes"], key="mm:dataset",
                             format_func={"digits": "digits (names: 'seven')",
                                          "shapes": "shapes (phrases: 'small arrow pointing up')"}.get)
    dim = c[1].select_slider("Size of the shared space", [2, 4, 8, 16, 32, 64], 32, key="mm:dim")
    temperature = c[2].select_slider("Temperature τ", [0.03, 0.05, 0.1, 0.2, 0.5, 1.0], 0.1, key="mm:tau",
                                     help="Divides the similarities before the softmax: small τ = sharp, only the "
                                          "closest match counts.")
    lr = c[3].select_slider("Learning rate", [3e-4, 1e-3, 2e-3, 5e-3, 1e-2], 2e-3, key="mm:lr")
    caption_weight = c[4].select_slider("Caption loss weight", [0.0, 0.5, 1.0, 2.0], 1.0, key="mm:capw",
                                        help="0 trains no captioner. It reads the image vector detached, so it never "
                                             "changes the shared space.")
    if dataset == "shapes":
        st.caption("Shape phrases name three factors: the shape (arrow, triangle, bar), its size (small: scale below "
                   f"{mm.SIZE_SPLIT}) and its direction (up: turned more than 30° anticlockwise, down: more than 30° "
                   "clockwise, else right; for a bar, its tilt). Training phrases sometimes leave a factor out "
                   "('arrow pointing up', 'large bar').")
    cfg = mm.MMConfig(dataset=dataset, dim=dim, temperature=temperature, lr=lr, caption_weight=caption_weight)
    ds = _data(dataset)
    f_test = mm.factors_of(ds, "test")
    phrases, _ = mm.canonical_phrases(dataset)


    def live(trainer):
        """Retrieval for one fixed phrase while training."""
        q = "seven" if dataset == "digits" else "small arrow pointing up"
        idx, sims = mm.text_to_images(trainer.task.model, ds.x_test, q, 12)
        st.session_state["mm:draws"] = st.session_state.get("mm:draws", 0) + 1
        image_grid(ds.x_test[idx], key=f"mm:live:{st.session_state['mm:draws']}", ncols=12,
                   titles=[f"{s:.2f}" for s in sims],
                   caption=f"Live: the 12 test images nearest to '{q}' (cosine similarity above each).")


    trainer = training_panel(
        "mm:train", mm.make_task, config=cfg, steps=MM_STEPS, seconds=10.0, max_seconds=120.0, live=live, record_every=10,
        panels={"contrastive loss (KL to the matches; 0 = perfect)": ["contrastive"],
                "captioner: next-word loss": ["caption"]})
    share.code_behind("mm:train", mm.make_task, cfg,
                      command='train multimodal', steps=MM_STEPS, seconds=10.0, title='Images and words in one space')

    # -- the model shown ---------------------------------------------------------------------------------------------------
    if trainer is not None and trainer.steps > 0:
        model, who = trainer.task.model, "your model"
        z_test = mm.encode_images(model, ds.x_test)
        scores = trainer.last_eval or mm.evaluate(model, ds)
        st.success(f"Showing **your model** ({trainer.steps:,} steps).", icon=":material/person:")
    else:
        name = mm.shipped_for(dataset)
        model, _, extra = _shipped(name)
        who = "the shipped model"
        z_test = _shipped_vectors(name, dataset)
        scores = extra
        st.info(f"Showing **the shipped model** for {dataset} ({extra.get('steps', 0):,} steps with the default "
                "settings). Press *Train* for your own with the settings above.", icon=":material/inventory_2:")

m = st.columns(4)
if dataset == "digits":
    m[0].metric("Text → image: top image shows the digit", f"{scores['text_to_image_top1']:.0%}",
                help="Over all 60 queries (10 digits x 6 wordings such as 'seven', 'the digit 7'), on the "
                     f"{len(ds.x_test)} test images.")
    m[1].metric("Image → text: nearest name is right", f"{scores['image_to_text_top1']:.1%}",
                help="For each test image, the nearest of the ten digit names.")
    m[2].metric("Captions right", f"{scores['caption_all']:.1%}", help="The captioner's word for each test image.")
    if "arithmetic_top1" in scores:
        m[3].metric("image(a) - 'a' + 'b' finds a b", f"{scores['arithmetic_top1']:.1%}",
                    help="200 random test images and target digits: the top result (query image excluded).")
else:
    m[0].metric("Image → text recall@5", f"{scores['image_to_text_recall5']:.1%}",
                help="Share of test images whose full phrase is among the 5 nearest of the 18 phrases.")
    m[1].metric("Text → image precision@5", f"{scores['text_to_image_precision5']:.1%}",
                help="For each of the 18 phrases, the share of its 5 nearest test images that fit it exactly.")
    m[2].metric("Captions with every factor right", f"{scores['caption_all']:.1%}",
                help="Shape, size and direction all right, on the test shapes.")
    m[3].metric("Caption right per factor (shape / size / direction)",
                " / ".join(f"{scores[f'caption_{k}']:.0%}" for k in ("shape", "size", "direction")))

# Each tab shows its own bad input (errors_shown), so a wrong word in one tab leaves the others working.
with stage:
    tabs = st.tabs(["Phrase → images", "Image → phrases (tagging)", "Arithmetic across modalities",
                    "The shared space", "Captions", "Downloads"])

with tabs[0], errors_shown():
    default = "seven" if dataset == "digits" else "small arrow pointing up"
    q = st.text_input("Phrase", default, key=f"mm:q:{dataset}", max_chars=120,
                      help="Words the model knows: " + ", ".join(model.vocab[3:]))
    idx, sims = mm.text_to_images(model, ds.x_test, q, 16, z_test)
    image_grid(ds.x_test[idx], key="mm:t2i", ncols=8, download_name="phrase_to_images.png",
               titles=[f"{s:.2f}" for s in sims],
               caption=f"The 16 test images nearest to '{q}' ({who}); cosine similarity above each. True "
                       "labels: " + "; ".join(mm.phrase_for(dataset, f_test[i]) for i in idx[:8]) + " ...")

pick = {int(i): f"test image #{int(i)} ({mm.phrase_for(dataset, f_test[i])})"
        for i in np.linspace(0, len(ds.x_test) - 1, 40).astype(int)}
with tabs[1], errors_shown():
    i = st.selectbox("Image", list(pick), format_func=pick.get, key=f"mm:img:{dataset}")
    cc = st.columns([1, 2])
    with cc[0]:
        image_grid(ds.x_test[i:i + 1], key="mm:tagimg", ncols=1, download_name="image.png")
        cap = mm.caption(model, ds.x_test[i:i + 1])[0]
        st.metric("The captioner writes", f"“{cap}”")
    tags = mm.image_to_texts(model, ds.x_test[i], phrases, 5)
    cc[1].plotly_chart(mm.similarity_bars(tags, "Nearest phrases (tags)"), key="mm:tags")
    words = mm.DIGIT_WORDS if dataset == "digits" else mm.SIZES + mm.SHAPE_WORDS + mm.DIRECTIONS
    single = mm.image_to_texts(model, ds.x_test[i], words, len(words))
    cc[1].plotly_chart(mm.similarity_bars(single[:6], "Nearest single words"), key="mm:words")

with tabs[2], errors_shown():
    st.markdown("A query vector is a signed sum of an image's vector and phrases' vectors, normalised; the "
                "page shows the test images nearest to it (the query image itself left out).")
    a = st.columns(3)
    default_i = next((j for j in pick if (f_test[j, 0] == 3 if dataset == "digits" else
                                          tuple(f_test[j]) == (0, 0, 2))), list(pick)[0])
    i = a[0].selectbox("Image", list(pick), index=list(pick).index(default_i), format_func=pick.get,
                       key=f"mm:ar_img:{dataset}")
    minus = a[1].text_input("minus the phrase", "three" if dataset == "digits" else "arrow",
                            key=f"mm:ar_minus:{dataset}")
    plus = a[2].text_input("plus the phrase", "seven" if dataset == "digits" else "bar",
                           key=f"mm:ar_plus:{dataset}")
    terms = [(1, int(i))] + ([(-1, minus)] if minus.strip() else []) + ([(1, plus)] if plus.strip() else [])
    qv = mm.query_vector(model, terms, ds.x_test)
    top, sims = mm.nearest_images(qv, z_test, 8, exclude=[i])
    image_grid(np.concatenate([ds.x_test[i:i + 1].numpy(), ds.x_test[top].numpy()]), key="mm:arith",
               ncols=9, download_name="arithmetic.png",
               titles=["query image"] + [mm.phrase_for(dataset, f_test[t]) for t in top],
               caption=f"image #{i} − '{minus}' + '{plus}': its 8 nearest test images, with their true labels.")
    if plus.strip():
        top_t, _ = mm.nearest_images(mm.encode_texts(model, [plus])[0], z_test, 8, exclude=[i])
        image_grid(ds.x_test[top_t], key="mm:arith_text", ncols=8, download_name="text_only.png",
                   titles=[mm.phrase_for(dataset, f_test[t]) for t in top_t],
                   caption=f"For comparison, the phrase '{plus}' alone (no image term).")
    if st.button("Measure it over 200 random test images", key="mm:ar_measure"):
        with st.spinner("Measuring ..."):
            st.session_state[f"mm:ar_scores:{who}:{dataset}"] = mm.arithmetic_scores(model, ds)
    sc = st.session_state.get(f"mm:ar_scores:{who}:{dataset}") or (scores if "arithmetic_top1" in scores or
                                                                      "arithmetic_kept5" in scores else None)
    if sc and dataset == "digits" and "arithmetic_top1" in sc:
        st.metric("image of a − name(a) + name(b): the top image shows b", f"{sc['arithmetic_top1']:.1%}")
    elif sc and "arithmetic_kept5" in sc:
        k = st.columns(3)
        k[0].metric("Top 5 with the new shape", f"{sc['arithmetic_new_shape5']:.1%}")
        k[1].metric("... that also keep the image's size and direction", f"{sc['arithmetic_kept5']:.1%}",
                    help="image − its shape word + another shape word, 200 random test images.")
        k[2].metric("The new shape word alone: same share", f"{sc['text_only_kept5']:.1%}",
                    help="What the image term adds: without it, size and direction are left to chance.")

with tabs[3], errors_shown():
    method = st.radio("Map to 2-D with", ["pca", "tsne", "umap"], horizontal=True, key="mm:map",
                      format_func=lambda k: embed.METHODS[k].split(" (")[0],
                      help="The Embedding Explorer's methods, on 400 test images and every phrase together.")
    vecs, labels, modality, hover, img_idx = mm.space_points(model, ds)
    ck = (who, trainer.steps if trainer is not None else 0, dataset, method)
    if st.session_state.get("mm:map_key") != ck:
        with st.spinner(f"Running {method} ..."):
            st.session_state["mm:map_xy"] = embed.embed(vecs, method, 2, seed=0)
        st.session_state["mm:map_key"] = ck
    xy = st.session_state["mm:map_xy"]
    colour = labels if dataset == "digits" else [lab.split(" ")[1] for lab in labels]
    st.plotly_chart(mm.space_figure(xy, labels, modality, hover, colour_by=colour,
                                    title=f"{len(img_idx)} test images (dots) and {len(phrases)} phrases "
                                          f"(stars), {who}"), key="mm:space")
    st.caption("Colour = " + ("the digit" if dataset == "digits" else "the shape") + ". The map is drawn from "
               "the unit vectors of both encoders at once; a phrase lying among its pictures is the point of "
               "the loss.")
    publish_vectors(Vectors(name=f"Multimodal: images and phrases in one space ({dataset}, {who})",
                            vectors=vecs, labels=np.array([m_ + ": " + lab for m_, lab in zip(modality, labels)]),
                            hover=hover, description="Image vectors and phrase vectors of the shared space."))

with tabs[4], errors_shown():
    show = np.linspace(0, len(ds.x_test) - 1, 16).astype(int)
    caps = mm.caption(model, ds.x_test[show])
    image_grid(ds.x_test[show], key="mm:caps", ncols=8, titles=caps, download_name="captions.png",
               caption="Test images and what the captioner writes for each: a GRU started from the image's "
                       "vector in the shared space, one word at a time, until it writes <eos>.")
    truth = [mm.phrase_for(dataset, f_test[i]) for i in show]
    st.caption("True: " + "; ".join(truth))

with tabs[5], errors_shown():
    if trainer is not None and trainer.steps > 0:
        st.download_button("Download your model (checkpoint)",
                           checkpoint_bytes(mm, trainer.task, {"config": cfg.as_dict(), **trainer.last_eval}),
                           file_name=f"multimodal_{dataset}.pt", key="mm:ckpt", on_click="ignore")
    st.download_button("Download the shared-space vectors (CSV)",
                       embed.coords_csv(vecs, np.array(labels), hover),
                       file_name=f"multimodal_{dataset}_vectors.csv", key="mm:csv", on_click="ignore")
