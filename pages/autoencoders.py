"""Autoencoder Lab: every autoencoder of the lectures, compared with PCA, with latent sliders, morphing and search."""

import numpy as np
import streamlit as st
import torch

from dlplay import autoencoders as ae
from dlplay import checkpoints, data, viz
from dlplay.ui import (Vectors, device_badge, errors_shown, image_grid, latent_sliders, page_header,
                       publish_vectors, training_panel)

page_header(
    "Autoencoder Lab",
    "An autoencoder squeezes each image through a short **code** z = f(x) and rebuilds it as g(z); training "
    "minimises the reconstruction error. With only linear layers it can do no better than PCA, and it finds PCA's "
    "subspace; with hidden layers it bends and beats PCA at the same code size. The variants restrain the code "
    "in other ways (sparse, denoising, contractive), and the code itself is useful: slide it, walk between two "
    "codes, or search for similar images by code instead of by pixels.",
    formula=r"\min_{f,g}\ \frac{1}{N}\sum_{i=1}^{N}\frac{1}{D}\big\lVert x_i - g(f(x_i))\big\rVert^2"
            r"\;+\;\underbrace{\lambda\,\Omega(f, x_i)}_{\text{sparse: }|z|_1,\ \text{contractive: }"
            r"\lVert J_f(x_i)\rVert_F^2}",
    try_list=[
        "Open the page: the shipped deep model squeezes 64 pixels into 8 numbers; compare its error with PCA's.",
        "Switch to **Linear (= PCA)**: its error matches PCA and the subspace angle is a few degrees.",
        "Dataset **rotations**, variant Deep: a 1-number code; the *Code map* tab plots it against the true angle, "
        "and the single latent slider turns the arrow.",
        "**Overcomplete**: near-perfect reconstructions, but it also reconstructs pure noise: it learned to copy.",
        "**Sparse**: raise the L1 weight and train; the code histogram piles up at zero, reconstructions stay good.",
        "**Denoising**: slide the noise level, train, and read the PSNR gained in the *Denoising* tab.",
        "*Morphing*: a 0 into an 8 through code space, beside a plain pixel cross-fade.",
        "*Similar-image search*: neighbours by code beside neighbours by pixels; count the matching labels.",
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


# -- settings ----------------------------------------------------------------------------------------------------
c = st.columns([1.2, 1.8, 1.2, 1.8])
dataset = c[0].selectbox("Dataset", data.dataset_names(available_only=True), key="ae:dataset",
                         help="MNIST / Fashion-MNIST appear once downloaded (`python -m dlplay download mnist`).")
variant = c[1].selectbox("Variant", list(ae.VARIANTS), format_func=lambda v: ae.VARIANTS[v].title, key="ae:variant")
ds = _data(dataset)
shipped_name = ae.shipped_name(dataset, variant)
default_k = ae.SHIPPED[shipped_name][2] if shipped_name else ae.default_code_size(variant, ds)
code_size = int(c[2].number_input("Code size K", 1, ae.MAX_CODE, default_k, key=f"ae:k:{dataset}:{variant}",
                                  help=f"Numbers in the code; the image has {ds.n_pixels} pixels."))
v = ae.VARIANTS[variant]
weight, noise = v.knob_default, "gaussian"
if v.knob:
    weight = c[3].slider(v.knob, *map(float, v.knob_range), float(v.knob_default), key=f"ae:knob:{variant}",
                         step=(v.knob_range[1] - v.knob_range[0]) / 100)
if variant == "denoising":
    noise = c[3].radio("Corruption", ae.NOISE_KINDS, horizontal=True, key="ae:noise",
                       format_func=lambda n: {"gaussian": "Gaussian noise (std = level)",
                                              "dropout": "pixels dropped (prob = level)"}[n])
st.caption(v.blurb)

idx_show = ae.showcase(ds, 10 if len(ds.class_names) >= 10 else 12)
x_show = ds.x_test[idx_show]


def live(trainer):
    """Reconstructions of fixed test images, refreshed while training."""
    rec = ae.reconstruct(trainer.task.model, x_show)
    st.image(viz.tile(torch.cat([x_show, rec]), len(x_show)), width=min(900, 90 * len(x_show)),
             caption="Live: test images (top) and their reconstructions by the model being trained (bottom).")


panels = {"training loss": ["loss"]}
if variant in ("sparse", "contractive"):
    panels = {"training loss": ["loss"], "its parts": ["mse", "penalty"]}
trainer = training_panel(
    "ae:train", lambda seed: ae.AutoencoderTask(ds, variant, code_size, weight, noise, seed=seed),
    config=(dataset, variant, code_size, weight, noise), seconds=10.0, max_seconds=120.0, panels=panels,
    live=live, record_every=20)

# -- the model shown: the user's, else the shipped one ------------------------------------------------------------
if trainer is not None and trainer.steps > 0:
    model, extra, who = trainer.task.model, trainer.task.extra, "your model"
    codes_test = ae.encode(model, ds.x_test)
    publish_vectors(Vectors(name=f"Autoencoder Lab: your {variant} codes ({dataset}, K={code_size})",
                            vectors=codes_test.numpy(), labels=ds.y_test.numpy(), images=ds.x_test.numpy(),
                            class_names=ds.class_names,
                            description=f"Test-set codes of the {v.title.lower()} autoencoder you trained."))
    st.download_button("Download your model (checkpoint)", checkpoints.to_bytes(model, trainer.task.config, ae.BUILDER,
                       {**extra, **trainer.last_eval}), file_name=f"autoencoder_{variant}_{dataset}.pt",
                       key="ae:ckpt", on_click="ignore")
elif shipped_name:
    model, cfg, extra = _shipped(shipped_name)
    who = "the shipped model"
    codes_test = ae.encode(model, ds.x_test)
    st.info(f"Showing **the shipped {v.title.lower()} model** ({dataset}, code size {cfg['code_size']}, "
            f"{extra.get('steps', 0):,} training steps). Press *Train* for your own with the settings above.",
            icon=":material/inventory_2:")
else:
    st.info(f"No shipped {v.title.lower()} model for {dataset}: press *Train* (about 10 s) to see every view.",
            icon=":material/info:")
    st.stop()

K = model.code_size
with errors_shown():
    # -- versus PCA --------------------------------------------------------------------------------------------
    st.subheader(f"Reconstructions: {who} versus PCA with the same {K} numbers")
    pca = _pca(dataset, K)
    rec_ae, rec_pca = ae.reconstruct(model, x_show), pca.reconstruct(x_show)
    mse_ae = ae.mse(ae.decode(model, codes_test), ds.x_test)
    mse_pca = pca.test_mse(ds.x_test)
    m = st.columns(4)
    m[0].metric("Autoencoder test MSE", f"{mse_ae:.4f}", help="Mean squared error per pixel on the test images.")
    m[1].metric(f"PCA test MSE ({pca.k} comp.)", f"{mse_pca:.4f}",
                help=f"PCA with {pca.k} components fitted on the training images, same test images.")
    m[2].metric("Autoencoder / PCA", f"{mse_ae / max(mse_pca, 1e-12):.2f}x" if mse_pca > 1e-9 else "PCA exact",
                help="Ratio of the two test errors. Below 1: the autoencoder reconstructs better than PCA.")
    if variant == "linear":
        m[3].metric("Angle to PCA's subspace", f"{ae.subspace_angle(model, pca):.1f}°",
                    help="Principal angle between the decoder's columns and PCA's top components: 0° = same subspace.")
    image_grid(torch.cat([x_show, rec_ae, rec_pca]), key="ae:vs_pca", ncols=len(x_show),
               caption=f"Rows: test images, {who}, PCA with {pca.k} components.", download_name="ae_vs_pca.png")

    tab_names = ["Latent sliders", "Code map", "Morphing", "Similar-image search"]
    special = {"sparse": "Sparse code", "denoising": "Denoising", "overcomplete": "Overcomplete: copying",
               "contractive": "Contractive: Jacobian", "conv": "Learned filters", "linear": "Linear = PCA"}
    if variant in special:
        tab_names.append(special[variant])
    tabs = st.tabs(tab_names)
    pick_labels = {int(i): f"test image #{int(i)} ({ds.class_names[int(ds.y_test[i])]})" for i in
                   ae.showcase(ds, 30)}

    with tabs[0]:
        st.markdown("Drag a slider: the decoder turns the changed code into an image. Start from a test image's code.")
        start_i = st.selectbox("Start from", list(pick_labels), format_func=pick_labels.get, key="ae:lat_start")
        latent_sliders("ae:lat", lambda z: ae.decode(model, z).numpy(), codes_test.numpy(),
                       start=codes_test[start_i].numpy(), title=f"Decoded from the {K}-number code")

    with tabs[1]:
        if K == 1 and ds.factors_test:
            fname = next(iter(ds.factors_test))
            r2 = ae.factor_recovery(model, ds)[fname]
            st.metric(f"How well the 1-number code determines the true {fname} (R², 1 = exactly)", f"{r2:.3f}",
                      help="Cross-validated R² of predicting the factor from the code with 5 nearest neighbours.")
            st.caption("An arrow at -90° and at +90° looks almost the same, so the images form nearly a loop; "
                       "one number has to cut the loop somewhere: that is the jump in the curve.")
            st.plotly_chart(ae.factor_plot(codes_test[:, 0].numpy(), ds.factors_test[fname], fname),
                            key="ae:factor")
        else:
            method = "PCA"
            if K > 2:
                method = st.radio("Map the codes to 2-D with", ["PCA", "t-SNE"], horizontal=True, key="ae:map")
            xy = ae.code_map(codes_test.numpy(), method)
            hover = [f"test #{i}: {ds.class_names[int(y)]}" for i, y in enumerate(ds.y_test)]
            title = "The code itself" if K == 2 else f"{method} of the {K}-number codes" if K > 2 else "The code (1-D)"
            fig = viz.scatter(xy, ds.y_test.numpy(), hover=hover, class_names=ds.class_names, title=title)
            ev = st.plotly_chart(fig, key="ae:codemap", on_select="rerun", selection_mode=("points", "box", "lasso"))
            picked = [p.get("customdata") for p in (ev.selection.points if ev else [])
                      if isinstance(p.get("customdata"), int)]
            if picked:
                image_grid(ds.x_test[picked[:32]], key="ae:picked", ncols=16, download_name="selected.png",
                           titles=[ds.class_names[int(ds.y_test[i])] for i in picked[:32]])
            else:
                st.caption("Each dot is a test image, coloured by its label. Select dots (click, box or lasso) to "
                           "see their images.")

    with tabs[2]:
        cc = st.columns(3)
        keys = list(pick_labels)
        a = cc[0].selectbox("From", keys, index=0, format_func=pick_labels.get, key="ae:morph_a")
        b = cc[1].selectbox("To", keys, index=min(8, len(keys) - 1), format_func=pick_labels.get, key="ae:morph_b")
        steps = cc[2].slider("Steps", 3, 16, 10, key="ae:morph_steps")
        path, fade = ae.interpolate(model, ds.x_test[a], ds.x_test[b], steps)
        image_grid(torch.cat([path, fade]), key="ae:morph", ncols=steps, download_name="morph.png",
                   caption="Top: decoded from (1-t)·z_a + t·z_b, a straight walk in code space. "
                           "Bottom: the pixel cross-fade (1-t)·x_a + t·x_b, for comparison.")

    with tabs[3]:
        q = st.selectbox("Query (a test image)", list(pick_labels), format_func=pick_labels.get, key="ae:query")
        res = ae.search(model, ds, q, 8)
        agree = ae.search_agreement(model, ds, 8)
        s = st.columns(4)
        s[0].metric("By code: neighbours with the query's label", f"{res['code_same']} / 8")
        s[1].metric("By pixels: neighbours with the query's label", f"{res['pixel_same']} / 8")
        s[2].metric("By code, over all test queries", f"{agree['code']:.1%}",
                    help="Share of the 8 nearest training images (by code distance) that share the query's label.")
        s[3].metric("By pixels, over all test queries", f"{agree['pixel']:.1%}")
        names = lambda ix: [ds.class_names[int(ds.y_train[i])] for i in ix]  # noqa: E731
        grid = torch.cat([ds.x_test[q:q + 1], ds.x_train[res["code"]], ds.x_test[q:q + 1], ds.x_train[res["pixel"]]])
        image_grid(grid, key="ae:search", ncols=9, download_name="search.png",
                   titles=["query", *names(res["code"]), "query", *names(res["pixel"])],
                   caption="Row 1: the 8 nearest training images by code distance. Row 2: by pixel distance.")

    if variant in special:
        with tabs[4]:
            ref = _shipped("autoencoder_digits")[0] if dataset == "digits" else None
            if variant == "sparse":
                hist = {f"{who} (K={K})": codes_test.numpy()}
                if ref is not None:
                    hist["shipped deep model (K=8)"] = ae.encode(ref, ds.x_test).numpy()
                st.metric("Share of code numbers within 0.01 of zero", f"{ae.code_sparsity(codes_test):.1%}")
                st.plotly_chart(ae.code_histogram(hist), key="ae:hist")
            elif variant == "denoising":
                level = st.slider("Noise level to test with", 0.0, 0.9, float(extra.get("weight", weight)), 0.05,
                                  key="ae:dn_level")
                kind = extra.get("noise", noise)
                noisy = ae.noisy_test(ds, kind, level)
                out = ae.reconstruct(model, noisy)
                d = st.columns(3)
                d[0].metric("PSNR of the noisy test images", f"{ae.psnr(noisy, ds.x_test):.1f} dB")
                d[1].metric("PSNR after the autoencoder", f"{ae.psnr(out, ds.x_test):.1f} dB")
                d[2].metric("Gained", f"{ae.psnr(out, ds.x_test) - ae.psnr(noisy, ds.x_test):+.1f} dB",
                            help="Peak signal-to-noise ratio 10·log10(1/MSE) against the clean images.")
                image_grid(torch.cat([noisy[idx_show], out[idx_show], x_show]), key="ae:denoise",
                           ncols=len(x_show), download_name="denoising.png",
                           caption=f"Rows: corrupted input ({kind}, level {level:.2f}), the model's output, "
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
                o[2].metric("Search by code vs by pixels: label agreement", f"{agree['code']:.1%} vs {agree['pixel']:.1%}",
                            help="Same numbers: the code ranks neighbours just as the pixels do; it adds nothing.")
                image_grid(torch.cat(rows), key="ae:overc", ncols=len(x_show), download_name="overcomplete.png",
                           caption="Rows: noisy test digits, this model's reconstruction (the noise is copied too)"
                                   + (", the deep 8-number model's (its bottleneck drops much of the noise)."
                                      if ref is not None else "."))
                st.markdown("With more code numbers than pixels and nothing else asked of it, the network can pass "
                            "the pixels straight through: near-perfect reconstructions, noise and all. The code is "
                            "the image in disguise: searching by it finds the same neighbours as searching by "
                            "pixels, so the network learned nothing about digits. A bottleneck, sparsity or noise "
                            "is what forces a useful code.")
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
            elif variant == "linear":
                w = model.decoder[0].weight.detach().T.reshape(K, *ds.image_shape)
                comps = torch.as_tensor(pca.pca.components_, dtype=torch.float32).view(-1, *ds.image_shape)
                scale = lambda t: (t - t.amin((1, 2, 3), True)) / (t.amax((1, 2, 3), True) - t.amin((1, 2, 3), True) + 1e-8)  # noqa: E731,E501
                image_grid(torch.cat([scale(w), scale(comps)]), key="ae:lin", ncols=K, download_name="linear_vs_pca.png",
                           caption="Top: the decoder's columns. Bottom: PCA's components. Different bases (any "
                                   "rotation of a subspace is as good), the same subspace.")
