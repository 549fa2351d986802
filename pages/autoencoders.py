"""Autoencoder Lab: every autoencoder of the lectures, compared with PCA, with latent sliders, morphing and search."""

import streamlit as st
import torch

from dlplay import autoencoders as ae
from dlplay import checkpoints, data, topics, viz
from dlplay.ui import (Vectors, device_badge, errors_shown, image_grid, latent_sliders, page_header, present,
                       publish_vectors, share, training_panel)
from dlplay.ui.draw import digit_panel

page_header(
    "Autoencoder Lab",
    "An autoencoder squeezes each image through a short **code** z = f(x) and rebuilds it as g(z); training "
    "minimises the reconstruction error. With only linear layers it can do no better than PCA, and it finds PCA's "
    "subspace; with hidden layers it bends and beats PCA at the same code size. The variants restrain the code "
    "in other ways (sparse, denoising, redundant, contractive), and the code itself is useful: slide it, walk "
    "between two codes, or search for similar images by code instead of by pixels.",
    formula=r"\min_{f,g}\ \frac{1}{N}\sum_{i=1}^{N}\frac{1}{D}\big\lVert x_i - g(f(x_i))\big\rVert^2"
            r"\;+\;\underbrace{\lambda\,\Omega(f, x_i)}_{\text{sparse: }|z|_1,\ \text{contractive: }"
            r"\lVert J_f(x_i)\rVert_F^2}",
    try_list=[
        "Open the page: the shipped deep model squeezes 64 pixels into 8 numbers; compare its error with PCA's.",
        "Switch to **Linear (= PCA)**: its error matches PCA's and its subspace is within a degree of PCA's. Train "
        "your own and watch the angle under the live view: far off at first, 7-18° after 1,000 steps, under 1° "
        "after 2,000 (digits, seeds 0-2).",
        "Tick **Tied weights** on the linear model: half the parameters, the same subspace.",
        "Dataset **rotations**, variant Deep: a 1-number code; the *Code map* tab plots it against the true angle, "
        "and the single latent slider turns the arrow.",
        "Code size **2**, variant Deep: the *Code map* tab puts the deep code beside PCA's 2-D projection, with "
        "how well each separates the classes: on digits the deep code wins by 18-24 points (seeds 0-2), on "
        "shapes the two are level.",
        "**Overcomplete**: near-perfect reconstructions, but it also reconstructs pure noise: it learned to copy.",
        "**Sparse**: the *Sparse code* tab compares the same ReLU network with and without the L1 penalty; set "
        "lambda to 0 and train to see the penalty's share yourself.",
        "**Redundant**: knock code numbers out in its tab; the plain network's error climbs much faster.",
        "**Denoising**: slide the noise level, train, and read the PSNR gained in the *Denoising* tab.",
        "**Convolutional, max-pooling + unpooling**: its reconstructions beat the stride-2 model's; the *Pooling "
        "and switches* tab shows why that is not a better code (decode the code alone).",
        "*Similar-image search*: all 64 pixels find same-label neighbours most often, for clean and distorted "
        "queries alike; the code's win is memory: compare it with the 8 best pixels and with PCA's 8 numbers.",
        "Options: set **L1 on the first layer's weights** to 0.1 and train: the *Weights* tab counts the weights "
        "that became exactly 0 (about 40% after 1,500 steps, for about the same error).",
        "Options: **perceptual** loss with code size 2: the digit classifier recognises more of the reconstructions "
        "than for the pixel-loss model, although their pixel error is higher.",
    ])
device_badge()


@st.cache_resource(show_spinner="Loading the dataset ...")
def _data(name: str):
    return data.load(name)


@st.cache_resource
def _shipped(name: str):
    return ae.load(checkpoints.shipped(name))


@st.cache_resource
def _pca(dataset: str, k: int):
    return ae.PCABaseline(_data(dataset), k)


@st.cache_data(show_spinner="Searching with every kind of query ...")
def _shipped_search(name: str, dataset: str):
    return ae.search_table(_shipped(name)[0], _data(dataset))


@st.cache_data
def _shipped_knockout(name: str, dataset: str):
    return ae.knockout_curve(_shipped(name)[0], _data(dataset))


SPECIAL_TABS = {"sparse": "Sparse code", "denoising": "Denoising", "overcomplete": "Overcomplete: copying",
                "contractive": "Contractive: Jacobian", "conv": "Learned filters", "linear": "Linear = PCA",
                "redundant": "Redundant: knock-outs", "conv_pool": "Pooling and switches"}


def _tab_names(variant: str, dataset: str) -> list[str]:
    return (["Latent sliders", "Code map", "Morphing", "Similar-image search", "Weights"]
            + ([SPECIAL_TABS[variant]] if variant in SPECIAL_TABS else [])
            + (["What each variant learns"] if dataset == "digits" else []))


def _default_k(dataset: str, variant: str) -> int:
    first = ae.shipped_name(dataset, variant)
    return ae.SHIPPED[first].config.code_size if first else ae.AutoencoderConfig(
        dataset=dataset, variant=variant).resolved().code_size


_knob = lambda v: ae.VARIANTS[v["variant"]]  # noqa: E731
share.link("autoencoders", [
    share.choice("dataset", "ae:dataset", data.dataset_names(available_only=True)),
    share.choice("variant", "ae:variant", list(ae.VARIANTS)),
    share.integer("k", lambda v: f"ae:k:{v['dataset']}:{v['variant']}", 1, ae.MAX_CODE,
                  lambda v: _default_k(v["dataset"], v["variant"]), "code size"),
    share.number("weight", lambda v: f"ae:knob:{v['variant']}", lambda v: float(_knob(v).knob_range[0]),
                 lambda v: float(_knob(v).knob_range[1]), lambda v: float(_knob(v).knob_default)),
    share.choice("noise", "ae:noise", ae.NOISE_KINDS), share.flag("tied", "ae:tied"),
    share.number("wl1", "ae:wl1", 0.0, 1.0, 0.0, "L1 on the weights"), share.choice("loss", "ae:loss", ae.LOSSES),
    *share.panel("ae:train", steps=lambda v: 2000 if v["variant"] == "linear" else 4000,
                 seconds=lambda v: 20.0 if v["variant"] == "linear" else 10.0),
    share.choice("tab", "ae:tab", lambda v: _tab_names(v["variant"], v["dataset"]))])

# -- settings ----------------------------------------------------------------------------------------------------
# presenter mode (issue 26): settings and Train on the left, the reconstructions versus PCA on the right
ctl, stage = present.stage()
with ctl:
    c = [*st.columns([1, 1.4]), *st.columns(2)] if present.presenting() else st.columns([1.2, 1.8, 1.2, 1.8])
    dataset = c[0].selectbox("Dataset", data.dataset_names(available_only=True), key="ae:dataset",
                             help="MNIST / Fashion-MNIST appear once downloaded (`python -m dlplay download mnist`).")
    variant = c[1].selectbox("Variant", list(ae.VARIANTS), format_func=lambda v: ae.VARIANTS[v].title, key="ae:variant")
    ds = _data(dataset)
    v = ae.VARIANTS[variant]
    default_k = _default_k(dataset, variant)
    code_size = int(c[2].number_input("Code size K", 1, ae.MAX_CODE, default_k, key=f"ae:k:{dataset}:{variant}",
                                      help=f"Numbers in the code; the image has {ds.n_pixels} pixels."))
    shipped_name = ae.shipped_name(dataset, variant, code_size)
    weight, noise = None, "gaussian"
    if v.knob:
        weight = c[3].slider(v.knob, *map(float, v.knob_range), float(v.knob_default), key=f"ae:knob:{variant}",
                             step=(v.knob_range[1] - v.knob_range[0]) / 100)
    if variant == "denoising":
        noise = c[3].radio("Corruption", ae.NOISE_KINDS, horizontal=True, key="ae:noise",
                           format_func=lambda n: {"gaussian": "Gaussian noise (std = level)",
                                                  "dropout": "pixels dropped (prob = level)"}[n])
    st.caption(v.blurb)
    with st.expander("Options: tied weights, L1 on the first layer's weights, perceptual loss"):
        o = st.columns(3)
        tied = o[0].checkbox("Tied weights (decoder = encoder transposed)", key="ae:tied",
                             disabled=variant not in ae.TIED_VARIANTS,
                             help="For the linear and deep models: the decoder reuses the encoder's weight matrices, "
                                  "transposed, so the model has about half the parameters.")
        weight_l1 = o[1].slider("L1 on the first layer's weights mu", 0.0, 1.0, 0.0, 0.05, key="ae:wl1",
                                help="After every step each weight of the first layer (the one that looks at the "
                                     "pixels) moves lr·mu towards 0 and stops there (soft thresholding): weights the "
                                     "data does not need become exactly 0.")
        loss = o[2].radio("Reconstruction loss", ae.LOSSES, key="ae:loss", horizontal=True,
                          disabled=dataset != "digits",
                          format_func={"pixel": "pixels (MSE)", "perceptual": "perceptual"}.get,
                          help="Perceptual: compare the image and its reconstruction through the digit classifier's "
                               "hidden layer (a frozen network) instead of pixel by pixel. Digits only.")
    cfg = ae.AutoencoderConfig(dataset=dataset, variant=variant, code_size=code_size, weight=weight, noise=noise,
                               weight_l1=float(weight_l1), tied=bool(tied and variant in ae.TIED_VARIANTS),
                               loss=loss if dataset == "digits" else "pixel")

idx_show = ae.showcase(ds, 10 if len(ds.class_names) >= 10 else 12)
x_show = ds.x_test[idx_show]


def live(trainer):
    """Reconstructions of fixed test images, refreshed while training (and the angle to PCA, for the linear one)."""
    model = trainer.task.model
    rec = ae.reconstruct(model, x_show)
    st.image(viz.tile(torch.cat([x_show, rec]), len(x_show)), width=min(900, 90 * len(x_show)),
             caption="Live: test images (top) and their reconstructions by the model being trained (bottom).")
    if model.variant == "linear":
        st.caption(f"Largest angle between this model's subspace and PCA's: "
                   f"**{ae.subspace_angle(model, _pca(dataset, model.code_size)):.1f}°** (0° = the same subspace).")


panels = {"training loss": ["loss"]}
if variant in ("sparse", "contractive"):
    panels = {"training loss": ["loss"], "its parts": ["mse", "penalty"]}
with ctl:
    trainer = training_panel("ae:train", ae.make_task, config=cfg, seconds=20.0 if variant == "linear" else 10.0,
                             max_seconds=120.0, panels=panels, live=live, record_every=20,
                             board_picture=lambda tr: viz.to_png(torch.cat([x_show, ae.reconstruct(tr.task.model, x_show)]),
                                                                 len(x_show)),   # the class board's picture
                             steps=2000 if variant == "linear" else 4000)   # the shipped models' budgets
    share.code_behind("ae:train", ae.make_task, cfg, command="train autoencoder",
                      steps=2000 if variant == "linear" else 4000, title="Autoencoder Lab")

    # -- the model shown: the user's, else the shipped one ------------------------------------------------------------
    if trainer is not None and trainer.steps > 0:
        task = trainer.task
        model, run, who = task.model, task.config, "your model"
        codes_test = ae.encode(model, ds.x_test)
        publish_vectors(Vectors(name=f"Autoencoder Lab: your {variant} codes ({dataset}, K={code_size})",
                                vectors=codes_test.numpy(), labels=ds.y_test.numpy(), images=ds.x_test.numpy(),
                                class_names=ds.class_names,
                                description=f"Test-set codes of the {v.title.lower()} autoencoder you trained."))
        st.download_button("Download your model (checkpoint)", topics.checkpoint_bytes(ae, task, {
                           **task.extra, **trainer.last_eval}), file_name=f"autoencoder_{variant}_{dataset}.pt",
                           key="ae:ckpt", on_click="ignore")
    elif shipped_name:
        model, _, extra = _shipped(shipped_name)
        run, who = ae.settings(extra), "the shipped model"
        codes_test = ae.encode(model, ds.x_test)
        st.info(f"Showing **the shipped {v.title.lower()} model** ({dataset}, code size {model.code_size}, "
                f"{extra.get('steps', 0):,} training steps). Press *Train* for your own with the settings above.",
                icon=":material/inventory_2:")
    else:
        st.info(f"No shipped {v.title.lower()} model for {dataset}: press *Train* (about 10 s) to see every view.",
                icon=":material/info:")
        st.stop()

K = model.code_size
results = st.session_state.setdefault("ae:results", {})   # what was computed from this model's weights, per user
twin = ae.TWINS.get(variant) if dataset == "digits" else None
with errors_shown():
    # -- versus PCA --------------------------------------------------------------------------------------------
    with stage:
        st.subheader(f"Reconstructions: {who} versus PCA with the same {K} numbers")
        pca = _pca(dataset, K)
        rec_ae, rec_pca = ae.reconstruct(model, x_show), pca.reconstruct(x_show)
        mse_ae = ae.mse(ae.reconstruct(model, ds.x_test), ds.x_test)
        mse_pca = pca.test_mse(ds.x_test)
        m = st.columns(4)
        m[0].metric("Autoencoder test MSE", f"{mse_ae:.4f}", help="Mean squared error per pixel on the test images.")
        m[1].metric(f"PCA test MSE ({pca.k} comp.)", f"{mse_pca:.4f}",
                    help=f"PCA with {pca.k} components fitted on the training images, same test images.")
        m[2].metric("Autoencoder / PCA", f"{mse_ae / max(mse_pca, 1e-12):.2f}x" if mse_pca > 1e-9 else "PCA exact",
                    help="Ratio of the two test errors. Below 1: the autoencoder reconstructs better than PCA.")
        m[3].metric("Parameters (weights and biases)", f"{ae.parameter_count(model):,}",
                    help="Tied weights roughly halve this: the decoder reuses the encoder's matrices.")
        image_grid(torch.cat([x_show, rec_ae, rec_pca]), key="ae:vs_pca", ncols=len(x_show),
                   caption=f"Rows: test images, {who}, PCA with {pca.k} components.", download_name="ae_vs_pca.png")
        if run.loss == "perceptual":
            r = st.columns(2)
            r[0].metric("Reconstructions the digit classifier recognises (this model)",
                        f"{ae.recognition_rate(model, ds):.0%}", help="Share of test reconstructions classified as "
                        "the digit they came from, by the shipped classifier (whose hidden layer is the loss's network).")
            if K == 2:
                r[1].metric("... the shipped pixel-loss model with the same 2-number code",
                            f"{ae.recognition_rate(_shipped('autoencoder_z2_digits')[0], ds):.0%}")

    special = SPECIAL_TABS
    tab_names = _tab_names(variant, dataset)
    tabs = dict(zip(tab_names, share.tabs(tab_names, "ae:tab")))
    pick_labels = {int(i): f"test image #{int(i)} ({ds.class_names[int(ds.y_test[i])]})" for i in
                   ae.showcase(ds, 30)}

    with tabs["Latent sliders"]:
        st.markdown("Drag a slider: the decoder turns the changed code into an image. Start from a test image's code.")
        start_i = st.selectbox("Start from", list(pick_labels), format_func=pick_labels.get, key="ae:lat_start")
        latent_sliders("ae:lat", lambda z: ae.decode(model, z).numpy(), codes_test.numpy(),
                       start=codes_test[start_i].numpy(), title=f"Decoded from the {K}-number code")

    with tabs["Code map"]:
        hover = [f"test #{i}: {ds.class_names[int(y)]}" for i, y in enumerate(ds.y_test)]
        if K == 1 and ds.factors_test:
            fname = next(iter(ds.factors_test))
            r2 = ae.factor_recovery(model, ds)[fname]
            st.metric(f"How well the 1-number code determines the true {fname} (R², 1 = exactly)", f"{r2:.3f}",
                      help="Cross-validated R² of predicting the factor from the code with 5 nearest neighbours.")
            st.caption("An arrow at -90° and at +90° looks almost the same, so the images form nearly a loop; "
                       "one number has to cut the loop somewhere: that is the jump in the curve.")
            st.plotly_chart(ae.factor_plot(codes_test[:, 0].numpy(), ds.factors_test[fname], fname),
                            key="ae:factor")
        elif K == 2:
            knn = ae.per_model(results, model, (dataset, "knn"), lambda: ae.knn_accuracy(
                ae.train_codes(model, ds), ds.y_train, codes_test, ds.y_test))
            knn_pca = ae.knn_accuracy(pca.encode(ds.x_train), ds.y_train, pca.encode(ds.x_test), ds.y_test)
            cm = st.columns(2)
            cm[0].plotly_chart(viz.scatter(codes_test.numpy(), ds.y_test.numpy(), hover=hover,
                                           class_names=ds.class_names, title=f"{who}: the 2-number code"),
                               key="ae:codemap")
            cm[0].metric("5-nearest-neighbour accuracy in this 2-D code", f"{knn:.0%}",
                         help="A 5-NN classifier fitted on the training images' codes, scored on the test codes: "
                              "how well the 2 numbers keep the digits apart.")
            cm[1].plotly_chart(viz.scatter(pca.encode(ds.x_test), ds.y_test.numpy(), hover=hover,
                                           class_names=ds.class_names, title="PCA: the top 2 components"),
                               key="ae:codemap_pca")
            cm[1].metric("... in PCA's 2-D projection", f"{knn_pca:.0%}")
        else:
            method = "PCA"
            if K > 2:
                method = st.radio("Map the codes to 2-D with", ["PCA", "t-SNE"], horizontal=True, key="ae:map")
            xy = ae.per_model(results, model, (dataset, "map", method), lambda: ae.code_map(codes_test.numpy(), method))
            if method == "t-SNE" and len(xy) > ae.CODE_MAP_TSNE_POINTS:
                st.caption(f"t-SNE of a random sample of {ae.CODE_MAP_TSNE_POINTS:,} of the {len(xy):,} test codes "
                           "(computed once per model).")
            title = f"{method} of the {K}-number codes" if K > 2 else "The code (1-D)"
            fig = viz.scatter(xy, ds.y_test.numpy(), hover=hover, class_names=ds.class_names, title=title)
            ev = st.plotly_chart(fig, key="ae:codemap", on_select="rerun", selection_mode=("points", "box", "lasso"))
            picked = [p.get("customdata") for p in (ev.selection.points if ev else [])
                      if isinstance(p.get("customdata"), int)]
            if picked:
                image_grid(ds.x_test[picked[:32]], key="ae:picked", ncols=16, download_name="selected.png",
                           titles=[ds.class_names[int(ds.y_test[i])] for i in picked[:32]])
            else:
                st.caption("Each dot is a test image, coloured by its label. Select dots (click, box or lasso) to "
                           "see their images. With code size 2 this tab shows the code beside PCA's 2-D map.")

    with tabs["Morphing"]:
        cc = st.columns(3)
        keys = list(pick_labels)
        a = cc[0].selectbox("From", keys, index=0, format_func=pick_labels.get, key="ae:morph_a")
        b = cc[1].selectbox("To", keys, index=min(8, len(keys) - 1), format_func=pick_labels.get, key="ae:morph_b")
        steps = cc[2].slider("Steps", 3, 16, 10, key="ae:morph_steps")
        path, fade = ae.interpolate(model, ds.x_test[a], ds.x_test[b], steps)
        image_grid(torch.cat([path, fade]), key="ae:morph", ncols=steps, download_name="morph.png",
                   caption="Top: decoded from (1-t)·z_a + t·z_b, a straight walk in code space. "
                           "Bottom: the pixel cross-fade (1-t)·x_a + t·x_b, for comparison.")

    with tabs["Similar-image search"]:
        sc = st.columns(2)
        q = sc[0].selectbox("Query (a test image)", list(pick_labels), format_func=pick_labels.get, key="ae:query")
        kind = sc[1].radio("The query as given", list(ae.QUERY_KINDS), horizontal=True, key="ae:qkind",
                           format_func=lambda k: k, help="; ".join(f"{k}: {d}" for k, d in ae.QUERY_KINDS.items()))
        res = ae.search(model, ds, q, 8, kind)
        table = (_shipped_search(shipped_name, dataset) if who == "the shipped model"
                 else ae.per_model(results, model, (dataset, "search"), lambda: ae.search_table(model, ds, pca=pca)))
        agree = table[kind]
        s = st.columns(4)
        s[0].metric("By code: neighbours with the query's label", f"{res['code_same']} / 8")
        s[1].metric("By pixels: neighbours with the query's label", f"{res['pixel_same']} / 8")
        s[2].metric(f"By code, over all {kind} test queries", f"{agree['code']:.1%}",
                    help="Share of the 8 nearest training images (by code distance) that share the query's label.")
        s[3].metric(f"By pixels, over all {kind} test queries", f"{agree['pixel']:.1%}")
        names = lambda ix: [ds.class_names[int(ds.y_train[i])] for i in ix]  # noqa: E731
        grid = torch.cat([res["query"][None], ds.x_train[res["code"]], res["query"][None], ds.x_train[res["pixel"]]])
        image_grid(grid, key="ae:search", ncols=9, download_name="search.png",
                   titles=["query", *names(res["code"]), "query", *names(res["pixel"])],
                   caption="Row 1: the 8 nearest training images by code distance. Row 2: by pixel distance.")
        rows = [{"query": f"{k}: {ae.QUERY_KINDS[k]}", f"code ({K} numbers)": f"{t['code']:.1%}",
                 f"all {ds.n_pixels} pixels": f"{t['pixel']:.1%}", f"the {K} most varying pixels": f"{t['pixel_k']:.1%}",
                 f"PCA, {K} components": f"{t['pca_k']:.1%}"} for k, t in table.items()]
        st.dataframe(rows, hide_index=True)
        st.caption(f"Share of the 8 nearest training images with the query's label, over every test image, for "
                   f"each kind of query and four indexes. Memory: the code keeps {agree['code_bytes']} bytes per "
                   f"image, all pixels {agree['pixel_bytes']} ({agree['pixel_bytes'] / agree['code_bytes']:.0f}x "
                   "more). Measured on digits: all the pixels agree with the labels most often for every kind of "
                   "query (by 2-4 points on clean queries, more on distorted ones). The code's win is memory: at "
                   f"the same {K} numbers it beats the {K} most varying pixels on every kind of query (by 15-30 "
                   f"points on clean and shifted ones, by little on noisy ones) and PCA's {K} numbers on clean and "
                   "shifted queries; on noisy queries PCA does much better than the deep code, which was never "
                   "trained on noise (the denoising model's code does better there). Deep models, seeds 0-2.")

    with tabs["Weights"]:
        w = ae.first_layer(model).weight.detach().cpu().numpy()
        wz = ae.weight_zero_fraction(model)
        st.metric("First-layer weights exactly 0", f"{wz:.1%}",
                  help="Weights of the layer that looks at the pixels that are exactly zero.")
        hist = {f"{who}": w}
        if run.weight_l1 > 0 and dataset == "digits":
            hist["shipped deep model (no penalty)"] = ae.first_layer(_shipped("autoencoder_digits")[0]).weight.detach().numpy()
        st.plotly_chart(ae.weight_histogram(hist), key="ae:whist")
        st.caption("With L1 on the first layer's weights (Options above, then Train) each step also pulls every "
                   "one of them towards 0 by a fixed amount and stops it there: weights the data does not keep "
                   "pushing become exactly 0 (many look at the border pixels, which are blank in almost every "
                   "digit). Plain gradient descent on |w| would only make them jitter around 0.")

    if variant in special:
        with tabs[special[variant]]:
            ref = _shipped("autoencoder_digits")[0] if dataset == "digits" else None
            if variant == "sparse":
                rep = ae.sparsity_report(codes_test)
                hist = {f"{who} (lambda = {run.weight:g})": codes_test.numpy()}
                if twin and K == 16 and not (who == "the shipped model" and run.weight == 0):
                    tw = _shipped(twin)[0]
                    z_tw = ae.encode(tw, ds.x_test)
                    rep0 = ae.sparsity_report(z_tw)
                    rep0["mse"] = ae.mse(ae.decode(tw, z_tw), ds.x_test)
                    hist["the same ReLU network, lambda = 0 (shipped)"] = z_tw.numpy()
                else:
                    rep0 = None
                sp = st.columns(4)
                sp[3].metric("Test MSE", f"{mse_ae:.4f}",
                             delta=f"{mse_ae / rep0['mse']:.2f}x the lambda = 0 network's" if rep0 else None,
                             delta_color="off", help="What the zeros cost in reconstruction error.")
                sp[0].metric("Code numbers exactly 0", f"{rep['zero_share']:.0%}",
                             delta=f"{rep['zero_share'] - rep0['zero_share']:+.0%} vs lambda = 0" if rep0 else None,
                             help="Share of all code numbers (every unit, every test image) that are exactly zero. "
                                  "Exact zeros cannot be faked by shrinking the code, which the penalty also does.")
                sp[1].metric("Non-zero numbers per image", f"{rep['active_per_image']:.1f} of {K}",
                             delta=f"{rep['active_per_image'] - rep0['active_per_image']:+.1f}" if rep0 else None,
                             delta_color="inverse")
                sp[2].metric("Units never used (0 for every test image)", f"{rep['dead_units']:.0f} of {K}",
                             delta=f"{rep['dead_units'] - rep0['dead_units']:+.0f}" if rep0 else None,
                             delta_color="off")
                st.plotly_chart(ae.code_histogram(hist), key="ae:hist")
                used = K - rep["dead_units"]
                st.caption("Both networks have the same ReLU code, so any zeros of the lambda = 0 network come from "
                           "the ReLU alone; the difference is the penalty's. Read the numbers together: of the "
                           f"{K} units this model uses {used:.0f}, and each image switches on "
                           f"{rep['active_per_image']:.1f} of those ({rep['active_per_image'] / max(used, 1):.0%}). "
                           "So the zeros come from whole units the penalty retired (in effect a shorter code) "
                           "and from units an image leaves off; at lambda = 0.01 on digits it is mostly the first. "
                           "A smaller lambda retires fewer units.")
            elif variant == "redundant":
                kk = st.slider("Code numbers knocked out (set to 0) at test time", 0, K, K // 4, key="ae:knock")
                curves = {f"{who} (dropout {run.weight:g})": ae.knockout_curve(model, ds, range(0, K // 2 + 1))}
                if twin and K == 16:
                    curves["plain deep model, same size (shipped)"] = _shipped_knockout(twin, dataset)
                kd = st.columns(2)
                e0, ek = ae.knockout_mse(model, ds, 0), ae.knockout_mse(model, ds, kk)
                kd[0].metric(f"Test MSE with {kk} of {K} knocked out (this model)", f"{ek:.4f}",
                             delta=f"{ek / max(e0, 1e-12):.1f}x its full-code error", delta_color="off")
                if twin and K == 16:
                    tw = _shipped(twin)[0]
                    t0, tk = ae.knockout_mse(tw, ds, 0), ae.knockout_mse(tw, ds, kk)
                    kd[1].metric("... the plain deep model", f"{tk:.4f}",
                                 delta=f"{tk / max(t0, 1e-12):.1f}x its full-code error", delta_color="off")
                st.plotly_chart(ae.knockout_figure(curves, K), key="ae:knockfig")
                st.caption("Each point: test MSE with that many code numbers (random ones, the same draws for both "
                           "models) set to 0. Dropout on the code during training makes the numbers cover for one "
                           "another; the price is a higher error with the full code (compare the curves at 0).")
            elif variant == "denoising":
                level = st.slider("Noise level to test with", 0.0, 0.9, float(run.weight), 0.05, key="ae:dn_level")
                noisy = ae.noisy_test(ds, run.noise, level)
                out = ae.reconstruct(model, noisy)
                d = st.columns(3)
                d[0].metric("PSNR of the noisy test images", f"{ae.psnr(noisy, ds.x_test):.1f} dB")
                d[1].metric("PSNR after the autoencoder", f"{ae.psnr(out, ds.x_test):.1f} dB")
                d[2].metric("Gained", f"{ae.psnr(out, ds.x_test) - ae.psnr(noisy, ds.x_test):+.1f} dB",
                            help="Peak signal-to-noise ratio 10·log10(1/MSE) against the clean images.")
                image_grid(torch.cat([noisy[idx_show], out[idx_show], x_show]), key="ae:denoise",
                           ncols=len(x_show), download_name="denoising.png",
                           caption=f"Rows: corrupted input ({run.noise}, level {level:.2f}), the model's output, "
                                   "the clean target.")
            elif variant == "overcomplete":
                noisy = ae.noisy_test(ds, "gaussian", 0.1)[idx_show]
                rows = [noisy, ae.reconstruct(model, noisy)]
                o = st.columns(3)
                o[0].metric("Noisy input vs its reconstruction: MSE (this model)", f"{ae.identity_error(model, ds):.4f}",
                            help="Test digits with Gaussian noise (std 0.1). Near 0: it copies its input, noise "
                                 "included.")
                if ref is not None:
                    rows.append(ae.reconstruct(ref, noisy))
                    o[1].metric("... the 8-number deep model", f"{ae.identity_error(ref, ds):.4f}")
                clean = table["clean"]
                o[2].metric("Search by code vs by pixels: label agreement", f"{clean['code']:.1%} vs {clean['pixel']:.1%}",
                            help="Near-equal numbers: the code ranks neighbours much as the pixels do.")
                image_grid(torch.cat(rows), key="ae:overc", ncols=len(x_show), download_name="overcomplete.png",
                           caption="Rows: noisy test digits, this model's reconstruction (the noise is copied too)"
                                   + (", the deep 8-number model's (its bottleneck drops much of the noise)."
                                      if ref is not None else "."))
                st.markdown("With more code numbers than pixels and nothing else asked of it, the network can pass "
                            "the pixels straight through: near-perfect reconstructions, noise and all. The code is "
                            "the image in disguise, so the network learned little about digits. A bottleneck, "
                            "sparsity or noise is what forces a useful code.")
            elif variant == "contractive":
                j = st.columns(2)
                j[0].metric("Jacobian norm ||dz/dx||_F of this model (mean over test images)",
                            f"{ae.jacobian_norm(model, ds.x_test):.3f}")
                if ref is not None:
                    j[1].metric("... of the plain deep model", f"{ae.jacobian_norm(ref, ds.x_test):.3f}")
                st.markdown("The penalty makes the code insensitive to small input changes: it only moves along "
                            "the directions the data actually varies in.")
            elif variant == "conv":
                filt = ae.first_filters(model)
                image_grid(filt, key="ae:filters", ncols=8, download_name="filters.png",
                           caption=f"The {len(filt)} learned 3x3 filters of the first convolution (each scaled to "
                                   "black..white).")
            elif variant == "conv_pool":
                no_sw = ae.decode_code_only(model, ds.x_test)
                e_sw, e_no = mse_ae, ae.mse(no_sw, ds.x_test)
                pm = st.columns(3)
                pm[0].metric("Test MSE, unpooled with the image's own switches", f"{e_sw:.4f}")
                pm[1].metric("... decoded from the code alone (no switches)", f"{e_no:.4f}",
                             delta=f"{e_no / max(e_sw, 1e-12):.1f}x", delta_color="off")
                rows = [x_show, rec_ae, no_sw[idx_show]]
                if dataset == "digits":
                    stride = _shipped("autoencoder_conv_digits")[0]
                    pm[2].metric("The stride-2 convolutional model (shipped, same steps)",
                                 f"{ae.mse(ae.reconstruct(stride, ds.x_test), ds.x_test):.4f}")
                    rows.append(ae.reconstruct(stride, x_show))
                image_grid(torch.cat(rows), key="ae:pool", ncols=len(x_show), download_name="pooling.png",
                           caption="Rows: test images; unpooled through their own switches; decoded from the code "
                                   "alone (each value put back in its window's top-left corner)"
                                   + ("; the stride-2 model." if dataset == "digits" else "."))
                st.markdown("Max-pooling keeps the largest value of each 2x2 window and throws away *where* it was; "
                            "the encoder remembers those positions (the switches) and unpooling puts each value "
                            "back there. The switches are information that goes around the code: the "
                            "reconstruction uses them, but a code alone (the sliders, morphing) has none. So the "
                            "pooling model's lower error beside the stride-2 one is not a better code: measured on "
                            "digits (1,500 steps, seeds 0 and 1), it is 0.3-0.4x the stride-2 error with its "
                            "switches and 8x the stride-2 error from the code alone.")
            elif variant == "linear":
                angle = ae.subspace_angle(model, pca)
                st.metric("Largest angle between this model's subspace and PCA's", f"{angle:.1f}°",
                          help="The largest principal angle between the decoder's columns and PCA's top "
                               f"{K} components: 0° = the same subspace.")
                st.caption("Measured (digits, K = 8, the page's defaults, seeds 0-2): 35-64° after 500 steps, 7-18° "
                           "after 1,000, 0.6-1.9° after 1,500 and under 0.5° after 2,000 (tied weights: under 2°; "
                           "shapes: 1.1° after 2,000); the shipped model trained "
                           "3,000 steps. A short run is still turning: the last directions are slow because PCA's "
                           "8th and 9th components explain almost the same variance, so the error barely changes "
                           "as the subspace turns between them. Watch the angle under the live view as it trains.")
                wd = ae.decoder_matrix(model).T.reshape(K, *ds.image_shape)
                comps = torch.as_tensor(pca.pca.components_, dtype=torch.float32).view(-1, *ds.image_shape)
                scale = lambda t: (t - t.amin((1, 2, 3), True)) / (t.amax((1, 2, 3), True) - t.amin((1, 2, 3), True) + 1e-8)  # noqa: E731,E501
                image_grid(torch.cat([scale(wd), scale(comps)]), key="ae:lin", ncols=K,
                           download_name="linear_vs_pca.png",
                           caption="Top: the decoder's columns. Bottom: PCA's components. Different bases (any "
                                   "rotation of a subspace is as good), the same subspace.")

    if "What each variant learns" in tabs:
        with tabs["What each variant learns"]:
            names = {"plain (deep)": "autoencoder_digits", "sparse": "autoencoder_sparse_digits",
                     "redundant": "autoencoder_redundant_digits", "denoising": "autoencoder_denoising_digits"}
            st.caption("The first 16 first-layer filters (what each hidden unit looks for in the 64 pixels, scaled "
                       "to black..white) of four shipped models, all trained for 4,000 steps from seed 0.")
            cols = st.columns(len(names))
            for col, (label, name) in zip(cols, names.items()):
                with col:
                    image_grid(ae.first_filters(_shipped(name)[0])[:16], key=f"ae:atoms:{name}", ncols=4,
                               title=label, download_name=f"filters_{name}.png")

if dataset == "digits":
    with st.expander("Your own digit: draw it or photograph it, and see it reconstructed and placed among the "
                     "training codes", icon=":material/draw:"):
        digit_panel("ae:own", reconstruct=lambda x: ae.reconstruct(model, x),
                    encode=lambda x: ae.encode(model, x).numpy(), train=ds, test=ds.x_test,
                    class_names=ds.class_names)
