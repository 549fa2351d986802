"""VAE and latent space: the 2-D latent manifold, sliders, the encoder's posteriors, AE versus VAE sampling."""

import numpy as np
import streamlit as st
import torch

from dlplay import checkpoints, data, vae, viz
from dlplay.device import cpu_copy
from dlplay.classifier import judge, load_judge
from dlplay.ui import (Vectors, device_badge, errors_shown, image_grid, latent_sliders, page_header,
                       publish_vectors, share, training_panel)
from dlplay.ui.copies import copy_check
from dlplay.ui import present
from dlplay.ui.draw import digit_panel

page_header(
    "VAE and latent space",
    "A variational autoencoder encodes an image not to one code but to a small Gaussian cloud q(z|x), decodes a "
    "random point of that cloud, and is pulled towards a fixed prior N(0, I) by a KL penalty. Because training "
    "codes are smeared out and packed around the origin, *every* point near the prior decodes to something "
    "plausible, so the decoder becomes a generator: draw z from N(0, I), decode. A plain autoencoder makes no "
    "such promise. Training maximises the evidence lower bound (ELBO), in nats per image:",
    formula=r"\begin{aligned}\log p(x) \;\ge\; \mathrm{ELBO}(x) &= \underbrace{\mathbb{E}_{q(z|x)}[\log p(x\mid z)]}_"
            r"{-\text{recon}} \;-\; \beta\,\underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0,I)\big)}_{\text{kl}}"
            r"\\ z &= \mu(x) + \sigma(x)\odot\varepsilon,\quad \varepsilon\sim\mathcal N(0,I)"
            r"\end{aligned}",
    try_list=["Look at the latent manifold: a whole map of digits, smoothly morphing into each other.",
              "Press *Sample from the prior* under the sliders, then drag z1 and z2.",
              "Open *AE versus VAE*: the same random draws decoded by a plain autoencoder and by a VAE; compare the "
              "judge's numbers.",
              "Open *beta trade-off*: the same VAE trained at five values of beta. Prior samples are best at a "
              "moderate beta; at beta = 0 the codes spread away from the prior, and at beta = 4 the posterior "
              "collapses (0 active latent units, KL 0): every sample is the same blob.",
              "Train your own with latent size 8 and beta = 4: *Active latent units* falls to 0 of 8 and the 16 "
              "live samples turn into one blob; then try beta = 0.5.",
              "Train with latent size 8, then pick two dimensions for the manifold.",
              "Under *Sliders and sampling*, each prior draw sits over its nearest training digit: the draws are "
              "about as near the training set as new test digits are (0.9x their median distance, shipped and "
              "freshly trained): new digits, not copies."])
device_badge()

ACTIVE_NOTE = (f"units whose posterior mean mu(x) varies across the test images (variance > "
               f"{vae.ACTIVE_THRESHOLD:g}, Burda et al. 2016); a unit that does not vary tells the decoder nothing: "
               "with 0 active units the posterior has collapsed onto the prior")
PAIRS = ["shipped, 16-number code", "shipped, 2-number code", "train my own pair"]
JUDGE_NOTE = ("judge: the project's digit classifier with an extra *not a digit* class; a sample counts as a digit "
              "when the judge gives some digit probability > 0.5")


@st.cache_resource(show_spinner="Loading the dataset ...")
def _data(name: str):
    return data.load(name)


@st.cache_resource
def _shipped(name: str):
    return vae.load(checkpoints.shipped(name))


@st.cache_resource
def _judge():
    return load_judge()


@st.cache_data(show_spinner=False)
def _beta_table():
    return vae.shipped_beta_table()


def _beta_rows(rows):
    return [{"beta": r["beta"], "prior samples judged digits": (f"{r['sampled_digits']:.0%}" if "sampled_digits" in r
                                                                else "(digits only)"),
             "active latent units": f"{r['active_units']} of {r['latent']}", "test KL (nats)": r["test_kl"],
             "test recon (nats)": r["test_recon"], "posterior collapse": "yes" if vae.collapsed(r) else ""}
            for r in rows]


@st.cache_data(show_spinner=False)
def _available():
    return data.dataset_names(available_only=True)


TABS = ["Latent manifold", "Sliders and sampling", "Encoder view", "AE versus VAE", "Interpolation",
        "beta trade-off"]
BETAS = [0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
share.link("vae", [share.choice("dataset", "vae:dataset", _available()),
                   share.integer("latent", "vae:latent", *vae.LATENT_RANGE, 2),
                   share.choice("arch", "vae:arch", ["auto", "mlp", "conv"]),
                   share.choice("beta", "vae:beta", BETAS, 1.0),
                   *share.panel("vae:train", steps=3000, seconds=20.0),
                   share.choice("tab", "vae:tab", TABS), share.integer("grid", "vae:grid", 6, 25, 15),
                   share.choice("pair", "vae:pair:which", PAIRS)])

# -- settings and training -----------------------------------------------------------------------------------------
# presenter mode (issue 26): settings and Train on the left, the tabs (the latent manifold first) on the right
ctl, stage = present.stage()
with ctl:
    st.subheader("Train your own VAE")
    c = [*st.columns(2), *st.columns(2)] if present.presenting() else st.columns([1.2, 1, 1.2, 1.6])
    ds_name = c[0].selectbox("Dataset", _available(), key="vae:dataset")
    latent = c[1].number_input("Latent size", *vae.LATENT_RANGE, 2, key="vae:latent",
                               help="2 gives the manifold map; larger codes reconstruct better.")
    arch = c[2].selectbox("Network", ["auto", "mlp", "conv"], key="vae:arch",
                          help="auto: MLP for 8x8 digits, convolutional for larger images.")
    beta = c[3].select_slider("beta (weight of the KL term)", BETAS, 1.0,
                              key="vae:beta")
    with present.secondary("What beta does", icon=":material/info:"):
        st.caption("**beta** trades the two terms. Small beta favours sharp reconstructions and lets codes spread away "
                   "from the prior (beta = 0 is an autoencoder with noise), so some prior draws land where no image was "
                   "encoded. A moderate beta packs the codes onto the prior and sampling works best. Larger beta makes "
                   "each latent unit cost more KL than its detail is worth: the encoder switches units off, and at "
                   "beta = 4 on the digits *all* of them (posterior collapse): every sample is the same blob. The "
                   "*beta trade-off* tab shows the measurement.")

    with errors_shown():
        ds = _data(ds_name)
        arch_used = vae.default_arch(ds) if arch == "auto" else arch

        cfg = vae.VAEConfig(dataset=ds_name, latent=int(latent), beta=float(beta), arch=arch_used)

        fixed_eps = torch.randn(16, int(latent), generator=torch.Generator().manual_seed(0))

        def live(tr):
            m = tr.task.model
            with torch.no_grad():
                imgs = m.decode(fixed_eps.to(m.mu.weight.device)).cpu()
            st.image(viz.tile(imgs, 16), caption="16 fixed draws from the prior, decoded as training goes",
                     width="stretch")

        trainer = training_panel(
            "vae:train", vae.make_task, config=cfg, seconds=20.0, steps=3000,
            max_seconds=120.0, record_every=10, live=live,
            board_picture=lambda tr: viz.to_png(vae.decode_np(tr.task.model, fixed_eps), 8),   # the class board's picture
            panels={"ELBO (nats per image, higher is better)": ["elbo"],
                    "recon = -E log p(x|z) and KL (nats)": ["recon", "kl"]})
        share.code_behind("vae:train", vae.make_task, cfg, command="train vae", steps=3000, seconds=20.0,
                          title="VAE and latent space")

    own = trainer is not None and trainer.steps > 0
    if own:
        model, ds_view = trainer.task.model, ds
        st.success(f"Showing **your VAE** ({ds_name}, latent {trainer.task.config['latent']}, beta {trainer.task.beta:g}, "
                   f"{trainer.steps:,} steps).", icon=":material/check_circle:")
        st.download_button("Download your VAE (checkpoint)", checkpoints.to_bytes(
            model, trainer.task.config, vae.BUILDER, {"dataset": ds_name, "beta": trainer.task.beta}),
            file_name=f"vae_{ds_name}_z{trainer.task.config['latent']}.pt", key="vae:ckpt", on_click="ignore")
    else:
        model, _, _ = _shipped("vae_digits")
        ds_view = _data("digits")
        st.info("Showing the **shipped VAE** (digits, 2-number latent code, 3,000 steps). Press Train for your own."
                + ("" if ds_name == "digits" else f" The views below use digits until you train on {ds_name}."),
                icon=":material/info:")

model = cpu_copy(model).eval()   # a CPU copy on a GPU: moving the trainer's own model would break its next step
mu, sd = vae.encode_means(model, ds_view.x_test)
d = mu.shape[1]
if own:
    publish_vectors(Vectors(name=f"VAE: your posterior means ({ds_name}, latent {d})", vectors=mu,
                            labels=ds_view.y_test.numpy(), images=ds_view.x_test.numpy(),
                            class_names=ds_view.class_names,
                            description="Posterior means mu(x) of the test images under your trained VAE."))

ev = trainer.last_eval if own else _shipped("vae_digits")[2]
m = st.columns(4)
if ds_view.image_shape == (1, 8, 8):
    q = vae.sample_quality(model, _judge(), 500, 0)
    m[0].metric("Digits among 500 prior samples", f"{q['confident_share']:.0%}", help=JUDGE_NOTE)
    m[1].metric("Judge's mean confidence", f"{q['mean_confidence']:.2f}", help=JUDGE_NOTE)
n_active, _ = vae.active_units(model, ds_view.x_test)
m[3].metric("Active latent units", f"{n_active} of {d}", help=ACTIVE_NOTE)
if ev.get("test_elbo") is not None:
    m[2].metric("Test ELBO (nats/image)", f"{ev['test_elbo']:.1f}",
                help=f"= -(recon {ev['test_recon']:.1f} + KL {ev['test_kl']:.1f}), on the test split")

with stage:
    tabs = share.tabs(TABS, "vae:tab")

# -- latent manifold ------------------------------------------------------------------------------------------------
with tabs[0], errors_shown():
    cc = st.columns([1, 1, 1, 3])
    n = cc[0].slider("Grid size", 6, 25, 15, key="vae:grid")
    dims = (0, 1)
    if d > 2:
        dims = (cc[1].selectbox("Horizontal: dimension", range(1, d + 1), 0, key="vae:dx") - 1,
                cc[2].selectbox("Vertical: dimension", range(1, d + 1), 1, key="vae:dy") - 1)
    imgs = vae.manifold(model, n, dims)
    st.plotly_chart(vae.manifold_figure(imgs, n, dims, height=present.height(720, 540)), key="vae:manifold",
                    config={"displayModeBar": False})
    st.caption(f"Each tile decodes one code on a {n}x{n} grid spaced evenly in the prior's quantiles (5% to 95%), "
               "as in Kingma & Welling's figure 4" + (f"; the other {d - 2} dimensions are held at 0, the prior "
                                                      "mean." if d > 2 else ".")
               + " Every point decodes to something: there are no holes.")
    st.download_button("Download PNG", viz.to_png(imgs, n), file_name="vae_manifold.png", key="vae:manifold:png",
                       on_click="ignore")

# -- sliders and sampling -------------------------------------------------------------------------------------------
with tabs[1], errors_shown():
    if st.button("Sample from the prior", key="vae:prior", type="primary"):
        st.session_state["vae:draw"] = st.session_state.get("vae:draw", 0) + 1
    draw = st.session_state.get("vae:draw", 0)
    start = np.random.default_rng(draw).standard_normal(d) if draw else None
    latent_sliders("vae:sl", lambda z: vae.decode_np(model, z), mu, start, prior_std=1.0,
                   title="Decoded from the sliders' code")
    st.caption("Slider ranges are +-3 standard deviations of the prior N(0, 1). " +
               (f"Sliders start at prior draw #{draw}." if draw else "Sliders start at the mean test code."))
    samples = model.sample(32, generator=torch.Generator().manual_seed(draw))
    image_grid(samples, key="vae:samples", ncols=16, caption="32 draws z ~ N(0, I), decoded (press the button for "
               "new ones).", download_name="vae_samples.png")
    with torch.no_grad():   # the lecture's "samples imitate training images": are these new digits or copies?
        copy_check(model.sample(500, generator=torch.Generator().manual_seed(draw)), ds_view, key="vae:copies",
                   what="prior draws")

# -- encoder view ---------------------------------------------------------------------------------------------------
with tabs[2], errors_shown():
    st.plotly_chart(vae.encoder_figure(mu, sd, ds_view.y_test.numpy(), ds_view.class_names),
                    key="vae:encoder")
    st.caption("Each dot is the posterior mean mu(x) of one test image" +
               (", each ellipse one standard deviation of q(z|x) (drawn for 150 of them): the encoder says *where* "
                "and *how sure*. The KL term pulls the whole cloud towards N(0, I)." if d == 2 else
                "; for a code longer than 2 the means are projected on their two main principal directions."))

    if d == 2:   # click the plane: that point is decoded
        g = np.linspace(-3, 3, 41)
        grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
        cl, cr = st.columns([3, 1])
        ev = cl.plotly_chart(viz.code_map_with_input(mu, ds_view.y_test.numpy(), ds_view.class_names, None,
                                                     click_grid=grid, title="Click anywhere on the plane: that "
                                                     "point z is decoded"),
                             key="vae:click", on_select="rerun", selection_mode="points",
                             config={"displayModeBar": False})
        picked = [p for p in (ev.selection.points if ev and ev.selection else []) if "x" in p and "y" in p]
        zc = np.array([[picked[-1]["x"], picked[-1]["y"]]] if picked else [[0.0, 0.0]], np.float32)
        cr.image(viz.tile(vae.decode_np(model, zc), 1, pad=0), width=200,
                 caption=f"Decoded at z = ({zc[0, 0]:.2f}, {zc[0, 1]:.2f})" + ("" if picked else ", the prior's "
                         "mean: click the plane for another point"))

# -- AE versus VAE --------------------------------------------------------------------------------------------------
with tabs[3], errors_shown():
    st.markdown("The same network trained twice on the same batches: once as a VAE, once without the noise and "
                "without the KL term (a plain autoencoder). Both decode the **same random draws** eps ~ N(0, I), "
                "each placed in its own model's code region (z = mean + std * eps of its test codes). The VAE's "
                "region is full of digits; the plain autoencoder's has gaps between its training codes. The gap "
                "shows best with a longer code: with only 2 numbers even a plain autoencoder must fill the plane.")
    pair_name = st.radio("Models", PAIRS, horizontal=True, key="vae:pair:which")
    pair = None
    if pair_name.startswith("train"):
        pair_tr = training_panel(
            "vae:pair", vae.make_pair_task, config=cfg, seconds=20.0, max_seconds=120.0, steps=3000,
            record_every=10, label="Train both",
            panels={"VAE ELBO (nats)": ["vae_elbo"], "reconstruction term (nats)": ["vae_recon", "ae_recon"]})
        st.caption(f"Uses the settings above: {ds_name}, latent {int(latent)}, beta {beta:g}.")
        if pair_tr is not None and pair_tr.steps > 0:
            pair = (pair_tr.task.vae.model, pair_tr.task.ae.model, ds)   # the session's replica, on the CPU
    else:
        z = "_z16" if pair_name.startswith("shipped, 16") else ""
        pair = (_shipped(f"vae_digits{z}")[0], _shipped(f"ae_digits{z}")[0], _data("digits"))
    if pair is not None:
        n_show = 48
        cols = st.columns(2)
        for col, (label, m_) in zip(cols, [("VAE", pair[0]), ("Plain autoencoder", pair[1])]):
            codes = vae.encode_means(m_, pair[2].x_test)[0]
            z = vae.random_codes(m_, codes, 500, seed=1)
            imgs = vae.decode_np(m_, z)
            with col:
                st.markdown(f"**{label}** ({m_.latent}-number code)")
                if pair[2].image_shape == (1, 8, 8):
                    q = judge(_judge(), torch.as_tensor(imgs))
                    k = st.columns(2)
                    k[0].metric("Digits among 500 random codes", f"{q['confident_share']:.0%}",
                                help=JUDGE_NOTE)
                    k[1].metric("Judge's mean confidence", f"{q['mean_confidence']:.2f}", help=JUDGE_NOTE)
                image_grid(imgs[:n_show], key=f"vae:pair:{label}", ncols=8, download_name=f"{label}_random.png",
                           caption=f"{n_show} of the 500 decoded random codes.")
    else:
        st.info("Press *Train both* to train a VAE and a plain autoencoder with your settings.", icon=":material/info:")

# -- interpolation --------------------------------------------------------------------------------------------------
with tabs[4], errors_shown():
    nt = len(ds_view.x_test)
    cc = st.columns(3)
    a = cc[0].number_input("First test image #", 0, nt - 1, 0, key="vae:ia")
    b = cc[1].number_input("Second test image #", 0, nt - 1, 5, key="vae:ib")
    steps = cc[2].slider("Steps", 3, 16, 10, key="vae:isteps")
    xa, xb = ds_view.x_test[int(a)], ds_view.x_test[int(b)]
    path = vae.interpolate(model, xa, xb, steps)
    t = torch.linspace(0, 1, steps).view(-1, 1, 1, 1)
    fade = ((1 - t) * xa + t * xb).numpy()
    both = np.concatenate([path, fade])
    image_grid(both, key="vae:interp", ncols=steps, titles=None, download_name="vae_interpolation.png",
               caption="Top row: decoded along the straight line between the two posterior means. Bottom row: a "
                       "pixel cross-fade of the same two images, for contrast (ghosts, not digits).")

# -- the beta trade-off -----------------------------------------------------------------------------------------------
with tabs[5], errors_shown():
    st.markdown("The same VAE trained once per value of beta, from the same seed on the same batches: only the "
                "weight of the KL term differs. Two numbers per model: how many of 500 draws z ~ N(0, I) the judge "
                "accepts as digits, and how many latent units are **active** (their posterior mean changes with "
                "the input). When none is active the encoder ignores the image and q(z|x) is the prior for every "
                "x: **posterior collapse**. KL is then 0 and the decoder can only draw its one average blob.")
    bt = _beta_table()
    st.plotly_chart(vae.beta_figure(bt["rows"]), key="vae:beta:fig", config={"displayModeBar": False})
    st.caption(f"Shipped measurement: {bt['dataset']}, latent size {bt['latent']}, {bt['steps']:,} steps per "
               f"model, seed {bt['seed']}. Bottom: 8 prior draws decoded by each model (the same draws). "
               f"{JUDGE_NOTE}; active units: {ACTIVE_NOTE}.")
    st.dataframe(_beta_rows(bt["rows"]), hide_index=True, width="stretch")
    st.markdown("**Measure it yourself** with the settings above (dataset, latent size, network; beta is swept) "
                "and another seed:")

    def live_sweep(tr):
        rows = vae.beta_table(tr.task.models(), tr.task.data, _judge() if tr.task.data.image_shape == (1, 8, 8)
                              else None, n=500, seed=0)
        n_draw = st.session_state["vae:beta:draws"] = st.session_state.get("vae:beta:draws", 0) + 1  # unique keys
        st.plotly_chart(vae.beta_figure(rows), key=f"vae:beta:live:{n_draw}", config={"displayModeBar": False})
        st.caption(f"Your measurement: {tr.task.data.name}, latent size {tr.task.tasks[0].model.latent}, "
                   f"{tr.steps:,} steps per model, seed {st.session_state.get('vae:beta:seed', 0)}.")
        st.dataframe(_beta_rows(rows), hide_index=True, width="stretch")

    sweep_cfg = vae.VAEConfig(dataset=ds_name, latent=int(latent), arch=arch_used)   # beta is what is swept
    training_panel("vae:beta", vae.make_beta_sweep_task, config=sweep_cfg, seconds=60.0, steps=vae.BETA_SWEEP_STEPS,
                   max_seconds=120.0, record_every=25, live=live_sweep, label="Train one VAE per beta",
                   panels={f"KL (nats) at beta {b:g}": [f"kl_beta{b:g}"] for b in (0.5, 4.0)})

if ds_view.image_shape == (1, 8, 8):
    with st.expander("Your own digit: draw it or photograph it, and see where the encoder puts it",
                     icon=":material/draw:"):
        digit_panel("vae:own",
                    reconstruct=lambda x: torch.as_tensor(vae.decode_np(model, vae.encode_means(model, x)[0])),
                    encode=lambda x: vae.encode_means(model, x)[0], train=ds_view, test=ds_view.x_test,
                    class_names=ds_view.class_names, code_name="posterior mean")
