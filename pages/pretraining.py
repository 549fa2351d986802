"""Before end-to-end: greedy layer-wise pre-training, the RBM and the deep belief net."""

import streamlit as st
import torch

from dlplay import data, viz
from dlplay import pretraining as pt
from dlplay.errors import InputError
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, training_panel
from dlplay.ui import present, share

page_header(
    "Before end-to-end",
    "Deep networks were first made to train one layer at a time: train a shallow autoencoder (or an RBM) on the "
    "pixels, freeze it, train the next one on its codes, and so on; then stack them, put a classifier on top and "
    "fine-tune everything with the few labels there are. The unlabelled images do most of the work, so with 5 "
    "labels per class the pre-trained network beats the same network started from random weights. The RBM is the "
    "probabilistic layer of that era: an energy over pixels and hidden units, trained by contrastive divergence.",
    formula=r"E(v,h) = -b^\top v - c^\top h - v^\top W h,\qquad "
            r"p(h_j{=}1\mid v)=\sigma(c_j + v^\top W_{:j}),\qquad "
            r"\Delta W \propto \langle v h^\top\rangle_{\text{data}} - \langle v h^\top\rangle_{k\text{ Gibbs steps}}",
    try_list=[
        "*Greedy pre-training*: the shipped curve shows pre-trained, random and frozen features at 1, 5, 10 and 50 "
        "labels per class (3 seeds each). Press *Train* to re-run a point live; change the labels and press again.",
        "Switch the activation to **relu** and train at 5 labels: the gap to random initialisation almost closes. "
        "Pre-training mattered most when deep sigmoid networks were hard to train from scratch.",
        "At **50** labels per class the gap shrinks; raise the fine-tuning steps and it shrinks further: with "
        "enough labels, end-to-end training catches up.",
        "Watch the **linear probe**: with 1 or 5 labels per class the frozen features do about as well as "
        "fine-tuning everything; with 10 and 50, fine-tuning pulls ahead.",
        "*The RBM*: drag the Gibbs step slider under the chains (or press Play) and watch noise turn into digits.",
        "Train an RBM with **k = 1** and then **k = 10**: compare the reconstruction error and the chains.",
        "The free-energy histogram: real test digits sit far below the same digits with their pixels shuffled.",
        "*Deep belief net*: the RBM-initialised autoencoder against the same one from random weights, equal steps.",
        "*Reusing an ImageNet network*: its frozen features against fine-tuning its top block, at 5 and 50 labels "
        "per class (seed 001's 'reuse another network's weights').",
    ])
device_badge()
DS = data.load("digits")


@st.cache_resource(show_spinner="Loading the shipped models ...")
def _shipped(name: str):
    return pt.load(name)


@st.cache_resource(show_spinner="Running the Gibbs chains ...")
def _shipped_chain(steps: int):
    rbm = _shipped("rbm_digits")[0]
    return pt.gibbs_chain(rbm, 16, steps, torch.Generator().manual_seed(0))


def _sizes_ui(key: str, defaults) -> tuple[int, ...]:
    c = st.columns(len(defaults))
    return tuple(int(c[i].number_input(f"Layer {i + 1} units", 1, pt.MAX_WIDTH, int(d), key=f"{key}:size{i}",
                                       help=f"1 to {pt.MAX_WIDTH} units."))
                 for i, d in enumerate(defaults))


def _checked(config) -> bool:
    """True when the settings are usable; otherwise the reason is shown and nothing trains."""
    try:
        config.check()
        return True
    except InputError as e:
        st.error(str(e), icon=":material/error:")
        return False


def _pct(v: float) -> str:
    return f"{v:.1%}"


def _plan_status(trainer):
    task = trainer.task
    done = len(task.results)
    st.progress(min(1.0, task.progress), text=f"{task.phase or 'starting'} · {done} of {task.cfg.seeds} planned "
                f"seeds done" + (" (extra seeds tighten the spread)" if done > task.cfg.seeds else ""))


_ship_cfg = lambda v: _shipped("pretrain_stack_digits")[2]["config"]  # noqa: E731
share.link("pretraining", [share.choice("activation", "pt:stack:act", list(pt.ACTIVATIONS)),
                           share.choice("labels", "pt:stack:labels", list(pt.LABEL_CHOICES), 5,
                                        "labelled images per class"),
                           share.choice("pretrain_steps", "pt:stack:pre", [0, 100, 300, 600, 1000, 2000],
                                        lambda v: _ship_cfg(v)["pretrain_steps"]),
                           share.choice("finetune_steps", "pt:stack:ft", [30, 100, 300, 1000, 3000],
                                        lambda v: _ship_cfg(v)["finetune_steps"]),
                           *share.panel("pt:stack", seconds=20.0),
                           share.integer("rbm_hidden", "pt:rbm:hidden", 1, pt.MAX_WIDTH, 64),
                           share.integer("rbm_k", "pt:rbm:k", 1, pt.MAX_K, 1),
                           share.choice("rbm_lr", "pt:rbm:lr", [0.01, 0.02, 0.05, 0.1, 0.2], 0.1),
                           *share.panel("pt:rbm", steps=pt.SHIPPED["rbm_digits"].steps, seconds=10.0, prefix="rbm_")])
tab_stack, tab_rbm, tab_dbn, tab_bb = st.tabs(["1. Greedy layer-wise pre-training", "2. The RBM",
                                               "3. Deep belief net", "4. Reusing an ImageNet network"])

# -- 1. greedy layer-wise pre-training ------------------------------------------------------------------------------
with tab_stack:
    with present.secondary("How the three networks are trained", icon=":material/info:"):
        st.markdown(
            "Three shallow autoencoders are trained one after the other (64 pixels → layer 1, layer 1 → layer 2, "
            "layer 2 → layer 3), each on the frozen codes of the one below, using all 1,437 training digits **without "
            "labels**. Then a softmax head goes on top and three copies of the same network learn from the few labels: "
            "**pre-trained** (fine-tune everything), **random initialisation** (same network, same labels, same steps), "
            "and **linear probe** (pre-trained layers frozen, only the head learns).")
    ship_net, _, ship_extra = _shipped("pretrain_stack_digits")
    ship_cfg = ship_extra["config"]
    # presenter mode (issue 26): the settings and Train on the left, accuracy against labels per class on the right
    ctl, stage = present.stage()
    with ctl:
        c = [st.container(), *st.columns(2)] if present.presenting() else st.columns([3, 1.2, 1.6])
        with c[0]:
            sizes = _sizes_ui("pt:stack", ship_cfg["sizes"])
        activation = c[1].radio("Activation", pt.ACTIVATIONS, key="pt:stack:act", horizontal=True,
                                help="Sigmoid units, as in 2006; ReLU, as today.")
        labels = c[2].select_slider("Labelled images per class", pt.LABEL_CHOICES, 5, key="pt:stack:labels",
                                    help="Fine-tuning sees only this many labelled digits of each class (x10 in all).")
        c = st.columns(2)
        pre_steps = int(c[0].select_slider("Pre-training steps per layer", [0, 100, 300, 600, 1000, 2000],
                                           ship_cfg["pretrain_steps"], key="pt:stack:pre",
                                           help="Adam steps of each shallow autoencoder (batches of 64 unlabelled digits). "
                                                "0: no pre-training, so 'pre-trained' and 'random' are the same run."))
        ft_steps = int(c[1].select_slider("Fine-tuning steps (each of the three)", [30, 100, 300, 1000, 3000],
                                          ship_cfg["finetune_steps"], key="pt:stack:ft",
                                          help="Adam steps on all the labelled digits at once, the same for all three."))
        cfg = pt.StackConfig(sizes=sizes, activation=activation, labels_per_class=int(labels), pretrain_steps=pre_steps,
                             finetune_steps=ft_steps)
        ok = _checked(cfg)
        if ok:
            trainer = training_panel(
                "pt:stack", pt.make_task, config=cfg, seconds=20.0, max_seconds=120.0, record_every=10,
                panels={"pre-training: reconstruction MSE": ["pretrain_loss"],
                        "fine-tuning: cross-entropy on the labels": [f"{m}_loss" for m in pt.STACK_METHODS]},
                live=_plan_status, label="Train (pre-train + fine-tune)")
            share.code_behind("pt:stack", pt.make_task, cfg,
                              command='train pretrain-stack', seconds=20.0, title='Before end-to-end')
    if ok:
        mine = st.session_state.setdefault("pt:stack:points", {})
        arch = (sizes, activation, pre_steps, ft_steps)
        if trainer is not None and trainer.task.results:
            mine.setdefault(arch, {})[int(labels)] = pt.summarise(trainer.task.results, pt.STACK_METHODS)
        shipped_curve = {int(k): v for k, v in ship_extra["curve"].items()}
        same_as_shipped = (list(sizes) == list(ship_cfg["sizes"]) and activation == ship_cfg["activation"]
                           and (pre_steps, ft_steps) == (ship_cfg["pretrain_steps"], ship_cfg["finetune_steps"]))
        points = dict(shipped_curve) if same_as_shipped else {}
        points.update(mine.get(arch, {}))
        yours = sorted(mine.get(arch, {}))
        with stage:
            if points:
                parts = [f"your runs at {', '.join(map(str, yours))} labels per class"] if yours else []
                if same_as_shipped and len(points) > len(yours):
                    parts.append("the shipped runs")
                who = " and ".join(parts)
                st.plotly_chart(pt.accuracy_figure(points), key="pt:stack:curve")
                st.caption(f"Points: {who}. Each point is the mean test accuracy over "
                           "seeds (error bar: one standard deviation); every seed draws its own labelled digits and "
                           "initialisation, shared by the three networks.")
                at = points.get(int(labels))
                if at:
                    m = st.columns(4)
                    for i, meth in enumerate(pt.STACK_METHODS):
                        m[i].metric(f"{pt.STACK_NAMES[meth].capitalize()} ({labels}/class)", _pct(at[meth]),
                                    help=f"Test accuracy on 360 digits, mean of {int(at['seeds_done'])} seeds; "
                                         f"std {at[f'{meth}_std']:.1%}.")
                    m[3].metric("Pre-trained minus random", f"{(at['pretrained'] - at['random_init']) * 100:+.1f} points",
                                help="Difference of the two mean accuracies, in percentage points.")
            else:
                st.info("No runs for this architecture yet: press *Train* (about 20 s) to compute the point for "
                        f"{labels} labels per class.", icon=":material/info:")

# -- 2. the RBM -----------------------------------------------------------------------------------------------------
with tab_rbm:
    st.markdown(
        "A restricted Boltzmann machine on the digits made binary (a pixel is on when brighter than 0.5). Each "
        "hidden unit has a weight for every pixel (its *filter*); the hidden units are independent given the "
        "pixels and vice versa, so one Gibbs step samples all hidden units, then all pixels. Contrastive "
        "divergence lowers the energy of the training digits and raises that of what a k-step chain produces.")
    st.latex(r"F(v) = -b^\top v - \sum_j \log\!\left(1 + e^{\,c_j + v^\top W_{:j}}\right),\qquad p(v) \propto e^{-F(v)}")
    c = st.columns(3)
    hidden = int(c[0].number_input("Hidden units", 1, pt.MAX_WIDTH, 64, key="pt:rbm:hidden"))
    k = int(c[1].slider("k: Gibbs steps per update (CD-k)", 1, pt.MAX_K, 1, key="pt:rbm:k"))
    lr = float(c[2].select_slider("Learning rate", [0.01, 0.02, 0.05, 0.1, 0.2], 0.1, key="pt:rbm:lr"))
    rcfg = pt.RBMConfig(hidden=hidden, k=k, lr=lr)
    x_show = DS.x_test[:12]

    def _rbm_live(trainer):
        rec = pt.reconstruct(trainer.task.model, x_show)
        st.image(viz.tile(torch.cat([pt.binarise(x_show).view_as(x_show), rec]), 12), width=720,
                 caption="Live: binarised test digits (top) and their reconstructions p(v | p(h | v)) (bottom).")

    rtrainer = training_panel("pt:rbm", pt.make_task, config=rcfg, steps=pt.SHIPPED["rbm_digits"].steps, seconds=10.0,
                              max_seconds=120.0, record_every=20,
                              panels={"reconstruction error (training batch, per pixel)": ["recon_error"]},
                              live=_rbm_live)
    share.code_behind("pt:rbm", pt.make_task, rcfg, command='train rbm', steps=pt.SHIPPED["rbm_digits"].steps, seconds=10.0, title='Before end-to-end')
    if rtrainer is not None and rtrainer.steps > 0:
        rbm, rev, who = rtrainer.task.model, rtrainer.last_eval or rtrainer.task.evaluate(), "your RBM"
        chain = pt.gibbs_chain(rbm, 16, 1000, torch.Generator().manual_seed(0))
    else:
        rbm, _, rev = _shipped("rbm_digits")
        who = "the shipped RBM"
        chain = _shipped_chain(1000)
        st.info(f"Showing **the shipped RBM** (64 hidden units, CD-1, {rev.get('steps', 0):,} updates). Press "
                "*Train* for your own with the settings above.", icon=":material/inventory_2:")
    with errors_shown():
        steps, frames = chain
        m = st.columns(4)
        m[0].metric("Test reconstruction error", f"{rev['recon_error']:.4f}",
                    help="Mean squared error per pixel between binarised test digits and p(v | p(h | v)).")
        m[1].metric("Real digit below its shuffled copy", _pct(rev["free_energy_real_below_shuffled"]),
                    help="Share of the 360 test digits whose free energy is lower than that of the same digit with "
                         "its pixels shuffled (same number of pixels on).")
        m[2].metric("Mean free energy: real / shuffled",
                    f"{rev['free_energy_real']:.0f} / {rev['free_energy_shuffled']:.0f}")
        m[3].metric("Chains judged digits after 1,000 steps", _pct(pt.judge_samples(frames[-1])),
                    help="Share of the 16 chains' final images that the project's digit classifier calls a digit "
                         "with probability above 0.5 (it also knows a 'not a digit' class).")
        st.subheader(f"Gibbs chains of {who}, started from noise")
        st.plotly_chart(pt.chain_figure(steps, frames), key="pt:rbm:chain")
        st.caption("16 chains v → h → v → ... started from random pixels (step 0); each later frame shows the pixel "
                   "probabilities p(v | h) at that Gibbs step (the step numbers are spaced on a log scale).")
        cc = st.columns(2)
        with cc[0]:
            st.subheader("Filters: the weights into each hidden unit")
            image_grid(pt.filters(rbm, 64), key="pt:rbm:filters", ncols=8, download_name="rbm_filters.png",
                       caption="Column W[:, j] of each hidden unit j as an 8x8 image (white = large weight).")
        with cc[1]:
            st.subheader("Free energy: real against shuffled")
            real, shuf = pt.free_energies(rbm, DS)
            st.plotly_chart(pt.free_energy_figure(real, shuf), key="pt:rbm:fe")

# -- 3. the deep belief net -----------------------------------------------------------------------------------------
with tab_dbn:
    st.markdown(
        "Seed 002's recipe, scaled to 8x8 digits: a stack of RBMs (64 → 128 → 64 → 16), each trained with CD on the "
        "hidden probabilities of the one below, is *unrolled* into an autoencoder (the encoder uses each W, the "
        "decoder its transpose) and fine-tuned end to end on the reconstruction error. Beside it the same "
        "autoencoder starts from random weights and gets one Adam step for every RBM update and every fine-tuning "
        "step, so both have had the same number of updates.")
    dnet, _, dextra = _shipped("dbn_digits")
    dcfg0 = dextra["config"]
    st.caption("What to expect: on these small digits with Adam the RBMs' head start is small and depends on the "
               "settings. Measured at the default budget, 2 seeds each: at learning rate 0.002 the RBM-initialised "
               "autoencoder ends slightly lower on seeds 0-1 and level on seeds 2-3; at 0.001 (slower optimisation) "
               "it is clearly lower; at 0.005 the random one ends lower. At this short budget PCA beats both. "
               "Pre-training paid off most when deep sigmoid networks were hard to train from scratch (tab 1).")
    c = st.columns([3, 1, 1])
    with c[0]:
        dsizes = _sizes_ui("pt:dbn", dcfg0["sizes"])
    dk = int(c[1].slider("k (CD-k)", 1, pt.MAX_K, 1, key="pt:dbn:k"))
    dlr = float(c[2].select_slider("Fine-tuning learning rate", [0.0005, 0.001, 0.002, 0.005, 0.01], dcfg0["lr"],
                                   key="pt:dbn:lr", help="Adam's step size for both autoencoders."))
    dcfg = pt.DBNConfig(sizes=dsizes, k=dk, lr=dlr)
    ok = _checked(dcfg)
    if ok:
        dtrainer = training_panel("pt:dbn", pt.make_task, config=dcfg, seconds=30.0, max_seconds=120.0,
                                  record_every=10, live=_plan_status,
                                  panels={"RBM reconstruction error": ["rbm_recon_error"],
                                          "autoencoder MSE (training batch)": ["dbn_loss", "random_init_loss"]})
        if dtrainer is not None and dtrainer.task.results:
            summary, model, who = pt.summarise(dtrainer.task.results, pt.DBN_METHODS), dtrainer.task.model, "your run"
            pca = pt.pca_mse(DS, dsizes[-1])
        else:
            summary, model, who = dextra, dnet, "the shipped run"
            pca = dextra["pca_mse"]
            st.info(f"Showing **the shipped comparison** ({int(dextra['seeds_done'])} seeds). Press *Train* for "
                    "your own; results appear when the first seed is done.", icon=":material/inventory_2:")
        m = st.columns(3)
        m[0].metric("RBM-initialised: test MSE", f"{summary['dbn']:.4f}", help="Mean squared error per pixel on the "
                    f"360 test digits, mean of {int(summary['seeds_done'])} seeds; std {summary['dbn_std']:.4f}.")
        m[1].metric("Random initialisation: test MSE", f"{summary['random_init']:.4f}",
                    help=f"Same autoencoder, same total number of updates; std {summary['random_init_std']:.4f}.")
        m[2].metric(f"PCA with {dsizes[-1] if who == 'your run' else dcfg0['sizes'][-1]} components", f"{pca:.4f}",
                    help="The linear baseline with as many numbers as the code.")
        st.plotly_chart(pt.mse_bars(summary, pca), key="pt:dbn:bars")
        x = DS.x_test[:12]
        rows = [x] + [pt.reconstruct(model[mth], x) for mth in pt.DBN_METHODS]
        image_grid(torch.cat(rows), key="pt:dbn:rec", ncols=12, download_name="dbn_reconstructions.png",
                   caption=f"Rows: test digits; {who}: RBM-initialised autoencoder; randomly initialised one.")

# -- 4. reusing another network's weights ---------------------------------------------------------------------------
with tab_bb:
    st.markdown(
        "Today's pre-training is someone else's network: EfficientNet-Lite0, trained on ImageNet photos, sees the "
        "digits upsampled to 64x64. **Frozen**: its pooled 1,280 features stay fixed and only a new linear head "
        "learns from the labels. **Fine-tuned**: its top block and head convolution learn too. Both start from "
        "the same new head, see the same labelled digits and take the same number of Adam steps.")
    bextra = _shipped("backbone_digits")[2]
    bcurve = {int(k): v for k, v in bextra["curve"].items()}
    c = st.columns(2)
    blabels = int(c[0].select_slider("Labelled images per class", pt.LABEL_CHOICES, 5, key="pt:bb:labels"))
    bsteps = int(c[1].select_slider("Adam steps (each of the two)", [30, 100, 300], bextra["config"]["finetune_steps"],
                                    key="pt:bb:steps"))
    bcfg = pt.BackboneConfig(labels_per_class=blabels, finetune_steps=bsteps)
    if _checked(bcfg):
        btrainer = training_panel("pt:bb", pt.make_task, config=bcfg, seconds=30.0, max_seconds=120.0,
                                  record_every=5, live=_plan_status,
                                  panels={"cross-entropy on the labels": ["frozen_loss", "fine_tuned_loss"]})
        bmine = st.session_state.setdefault("pt:bb:points", {})
        if btrainer is not None and btrainer.task.results:
            bmine.setdefault(bsteps, {})[blabels] = pt.summarise(btrainer.task.results, pt.BACKBONE_METHODS)
        rows = dict(bcurve) if bsteps == bextra["config"]["finetune_steps"] else {}
        rows.update(bmine.get(bsteps, {}))
        if rows:
            st.plotly_chart(pt.backbone_figure(rows), key="pt:bb:fig")
            st.caption(("Your runs and the shipped ones" if bmine.get(bsteps) else "The shipped runs") +
                       ": mean test accuracy on the 360 test digits over seeds; error bar: one standard deviation.")
            for n in sorted(rows):
                r = rows[n]
                st.markdown(f"- **{n} labels per class** ({int(r['seeds_done'])} seeds): frozen {_pct(r['frozen'])} "
                            f"± {r['frozen_std']:.1%}, fine-tuned {_pct(r['fine_tuned'])} ± {r['fine_tuned_std']:.1%}")
        else:
            st.info("No runs with these settings yet: press *Train*.", icon=":material/info:")
