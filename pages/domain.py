"""Domain adaptation: a classifier learned on clean digits, made to work on digits in the wild without their labels."""

import numpy as np
import streamlit as st
import torch

from dlplay import checkpoints
from dlplay import domain as D
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, present, training_panel
from dlplay.ui import share

page_header(
    "Domain adaptation",
    "A classifier trained on labelled clean digits (the **source**) fails on the same digits photographed in the "
    "wild (the **target**), whose labels we do not have. The reason shows in its features: a second network, a "
    "**domain discriminator**, can tell source features from target features almost perfectly. Adversarial "
    "adaptation trains the features to *fool* that discriminator while still classifying the source, so that "
    "what the classifier learned on the source carries over to the target.",
    formula=r"\min_{G_f,\,G_y}\ \max_{G_d}\;\; "
            r"\underbrace{L_y\big(G_y(G_f(x_s)),\,y_s\big)}_{\text{labelled source only}}"
            r"\;-\;\lambda\,\underbrace{L_d\big(G_d(G_f(x)),\,\text{domain}\big)}_{\text{source and target}}",
    try_list=[
        "Open the page: the shipped source-only network reads about all clean test digits and far fewer of the "
        "same digits on photo textures. The wrong guesses are marked with ✗.",
        "Answer the quiz, then read its measured answer: a discriminator tells the source-only features apart.",
        "Look at the two t-SNE maps of the features, coloured by domain and then by digit, before and after "
        "adaptation; the mixing number under each says how much the domains share neighbourhoods.",
        "Press **Source only (the control)** and train, then **DANN** with the same seed and steps: only the "
        "adversarial term differs. Compare target accuracy.",
        "Try **Alternating**: the two objectives of the course notes, one step each in turn.",
        "Press **Lambda too high**: fooling the discriminator now costs the digits. Against source only (same seed, "
        "300 steps, seeds 0-2) source accuracy falls by 15-39 points and target accuracy by 16-21. The page says "
        "*collapsed* when source accuracy ends below 60% (seed 0), and *no gain* when target accuracy is not above "
        "source only's (seeds 1, 2): it never calls such a run adapted.",
        "Switch the target to **inverted**: a simple change, yet the source-only network is below chance and the "
        "shipped DANN network gains little: matching feature distributions does not close every gap.",
    ])
device_badge()
share.link("domain", [share.choice("target", "da:target", list(D.TARGETS)),
                      share.choice("method", "da:method", list(D.METHODS), "grl"),
                      share.number("lam", "da:lam", 0.0, D.MAX_LAMBDA, 1.0, "lambda"),
                      share.choice("schedule", "da:schedule", list(D.SCHEDULES), "ramp"),
                      share.integer("ramp", "da:ramp", 1, 100_000, 1000, "ramp steps"),
                      share.choice("colour", "da:colour", ["domain", "digit"]),
                      *share.panel("da:train", steps=D.PRETRAIN_STEPS, seconds=60.0, max_seconds=180.0)])


@st.cache_resource(show_spinner="Drawing the digits in both domains ...")
def _domains(target: str):
    return D.domains(target, 16)


@st.cache_resource
def _shipped(name: str):
    return D.load(checkpoints.shipped(name))


def _tsne_of(extra: dict) -> dict | None:
    t = extra.get("tsne")
    return None if not t else {k: np.asarray(v) for k, v in t.items()}


def _pct(v: float) -> str:
    return f"{v:.1%}"


# presenter mode (issue 26): section 4 (the presets, Train, and the accuracies and guesses of the network shown) is
# drawn here, at the top
sec4 = present.ahead()

# -- 1. the two domains ------------------------------------------------------------------------------------------
target = st.radio("Target domain", list(D.TARGETS), horizontal=True, key="da:target",
                  format_func=lambda t: {"photo": "digits on photo textures", "inverted": "inverted digits"}[t],
                  help="Both are made offline from scikit-learn's digits and the bundled photographs.")
data = _domains(target)
st.subheader("1. Two domains")
st.markdown(f"**Source:** {len(data.xs_train)} labelled clean handwritten digits (scikit-learn, 8x8 upsampled to "
            f"16x16). **Target:** {len(data.xt_train)} *other* digit images of the same set, redrawn in the wild. "
            f"{D.TARGETS[target]}")
n_show = 16
image_grid(torch.cat([data.xs_test[:n_show], data.xt_test[:n_show]]), key="da:domains", ncols=n_show,
           caption="Top: source test digits. Bottom: the same test digits in the target domain. Target labels are "
                   "used only to score, never to train.", download_name=f"domains_{target}.png")

# -- 2. source only ----------------------------------------------------------------------------------------------
so_model, _, so_extra = _shipped(D.shipped_name(target, adapted=False))
ad_model, _, ad_extra = _shipped(D.shipped_name(target, adapted=True))
st.subheader("2. Source only: learn on clean digits")
st.markdown(f"The shipped network was trained on the labelled source alone ({so_extra.get('steps', 0):,} steps). "
            "Test accuracy on clean digits and on the *same* digits in the target domain:")
m = st.columns(3)
m[0].metric("Source test accuracy (clean digits)", _pct(so_extra["source_accuracy"]))
m[1].metric("Target test accuracy (same digits, in the wild)", _pct(so_extra["target_accuracy"]),
            delta=f"{100 * (so_extra['target_accuracy'] - so_extra['source_accuracy']):+.1f} points vs source",
            help=f"{len(data.xt_test)} target test images; their labels are used only for this score.")
m[2].metric("Chance level", "10.0%", help="Ten digits: a random guess is right one time in ten.")
imgs, titles, wrong = D.wrong_guesses(so_model, data.xt_test, data.yt_test, 24)
image_grid(imgs, key="da:so_grid", ncols=12, titles=titles, download_name="source_only_guesses.png",
           caption=f"Target test images with the source-only network's guess; ✗ (true digit) marks the {wrong} "
                   f"wrong guesses of these {len(imgs)}.")

# -- 3. the quiz -------------------------------------------------------------------------------------------------
st.subheader("3. The quiz, measured")
answer = st.radio(
    "A discriminator trained on the source-only network's features tells source images from target images with "
    "about 100% accuracy. What does that tell you?",
    ["Nothing yet: pick an answer.",
     "The features are very informative, so the classifier will also do well on the target.",
     "The features differ by domain, so the classifier sees inputs on the target that it never learned from.",
     "The network overfitted its training images; more source data would fix it."],
    key="da:quiz")
if answer.startswith("The features differ"):
    st.success("Right: the classifier's input (the features) has a different distribution on the target, so what "
               "it learned on the source need not hold there. Adaptation makes the two distributions match.")
elif not answer.startswith("Nothing"):
    st.warning("Not quite: telling the *domains* apart says nothing good about telling the *digits* apart. It "
               "means the features carry the domain, so the classifier meets unfamiliar inputs on the target.")
q = st.columns(3)
q[0].metric("A discriminator on the source-only features: test accuracy", _pct(so_extra["fresh_domain_accuracy"]),
            help="A new MLP (one hidden layer of 64) trained to tell source from target features on the training "
                 "images, scored on the held-out test images. 50% = it cannot tell them apart.")
q[1].metric("The same test on the adapted (DANN) features", _pct(ad_extra["fresh_domain_accuracy"]),
            help="A new MLP trained on the finished DANN features.")
q[2].metric("The discriminator DANN played against: test accuracy", _pct(ad_extra["domain_accuracy"]),
            help="The discriminator trained together with the adapted network, scored on the held-out test images.")
st.caption("Read the three together: adaptation fools the discriminator it plays against, and the target accuracy "
           "rises (section 4), but a fresh discriminator trained afterwards can still tell the domains apart on "
           "these small networks: the features are *less* domain-specific, not domain-free.")
ts_so, ts_ad = _tsne_of(so_extra), _tsne_of(ad_extra)
colour = st.radio("Colour the t-SNE maps by", ["domain", "digit"], horizontal=True, key="da:colour")
t = st.columns(2)
if ts_so is not None:
    t[0].plotly_chart(D.tsne_figure(ts_so, colour, target, "Source only: features"), key="da:tsne_so")
    t[0].caption(f"Domain mixing {D.mixing(ts_so):.2f} (share of each point's 10 map neighbours from the other "
                 "domain, over the 0.5 of a perfect mix; 0 = two islands).")
if ts_ad is not None:
    t[1].plotly_chart(D.tsne_figure(ts_ad, colour, target, "Adapted (DANN): features"), key="da:tsne_ad")
    t[1].caption(f"Domain mixing {D.mixing(ts_ad):.2f}. Circles: source; crosses: target (the same test digits).")

# -- 4. adversarial adaptation -----------------------------------------------------------------------------------
with sec4:
    st.subheader("4. Adversarial adaptation")
    with present.secondary("The two forms of the course, as equations", icon=":material/functions:"):
        st.markdown("Features $G_f$, label classifier $G_y$ and domain discriminator $G_d$ trained together, in the two "
                    "forms of the course. **Alternating** (a GAN-like game, one step each in turn; $D = G_d$ gives "
                    "P(target | features)):")
        st.latex(r"\text{D step:}\ \ -\log D(G_f(x_t)) - \log\big(1 - D(G_f(x_s))\big) \to \min_{G_d}"
                 r"\qquad \text{F+C step:}\ \ L_y\big(y_s, G_y(G_f(x_s))\big) - \lambda \log D(G_f(x_s)) \to \min_{G_f, G_y}")
        st.markdown("**Gradient reversal (DANN)**: one loss and one step; a layer between the features and the "
                    "discriminator passes values forward unchanged and multiplies the gradient by $-\\lambda$ backward, so "
                    "the discriminator minimises $L_d$ while the features maximise it. Lambda ramps up (the default):")
        st.latex(r"L = L_y + L_d\big(G_d(R_\lambda(G_f(x)))\big),\quad \frac{\partial R_\lambda}{\partial h} = -\lambda I,"
                 r"\qquad \lambda_p = \lambda\Big(\frac{2}{1+e^{-10p}} - 1\Big),\ p = \min(1, \tfrac{\text{step}}"
                 r"{\text{ramp steps}})")

    ctl, stage = present.stage()    # presenter mode: presets, knobs and Train left; the network's accuracies right
    PRESETS = {
        "DANN (gradient reversal)": ({"method": "grl", "lam": 1.0, "schedule": "ramp", "ramp": 1000},
                                     "Lambda ramps from 0 to 1 over 1,000 steps: the shipped adapted network's recipe."),
        "Alternating (course notes)": ({"method": "alternating", "lam": 1.0, "schedule": "ramp", "ramp": 1000},
                                       "A discriminator step, then a features + classifier step with the fooling term."),
        "Source only (the control)": ({"method": "source-only", "lam": 0.0, "schedule": "ramp", "ramp": 1000},
                                      "The same network, data, batches and budget; no adversarial term."),
        "Lambda too high": ({"method": "alternating", "lam": 20.0, "schedule": "constant", "ramp": 1000},
                            "Alternating, lambda 20 from the first step: fooling the discriminator outweighs the digits "
                            "and source and target accuracy both drop; on some seeds the features collapse."),
    }
    ss = st.session_state


    def _apply_preset(name: str) -> None:
        v = PRESETS[name][0]
        ss.update({"da:method": v["method"], "da:lam": v["lam"], "da:schedule": v["schedule"], "da:ramp": v["ramp"],
                   "da:preset": name})


    for k, v in {"da:method": "grl", "da:lam": 1.0, "da:schedule": "ramp", "da:ramp": 1000}.items():
        ss.setdefault(k, v)
    with ctl:
        pc = st.columns(2) * 2 if present.presenting() else st.columns(len(PRESETS))
        for i, name in enumerate(PRESETS):
            pc[i % len(pc)].button(name, key=f"da:preset:{i}", on_click=_apply_preset, args=(name,), width="stretch")
        if ss.get("da:preset"):
            st.info(f"**{ss['da:preset']}**: {PRESETS[ss['da:preset']][1]}", icon=":material/visibility:")
        c = [*st.columns(2), *st.columns(2)] if present.presenting() else st.columns([1.6, 1.4, 1.2, 1.2])
        method = c[0].radio("Method", list(D.METHODS), key="da:method", horizontal=True,
                            format_func={"source-only": "source only", "alternating": "alternating", "grl": "DANN (GRL)"}.get)
        lam = c[1].slider("Lambda (the adversarial weight)", 0.0, D.MAX_LAMBDA, step=0.1, key="da:lam",
                          disabled=method == "source-only", help="Source only ignores it (lambda = 0).")
        schedule = c[2].radio("Lambda schedule", list(D.SCHEDULES), key="da:schedule", horizontal=True,
                              format_func={"ramp": "ramp (DANN)", "constant": "constant"}.get)
        ramp = int(c[3].number_input("Ramp steps", 1, 100_000, step=100, key="da:ramp", disabled=schedule == "constant",
                                     help="The ramp reaches lambda after this many steps."))
        st.caption(D.METHODS[method])
        with present.secondary("Measured gains over seeds", icon=":material/info:"):
            st.caption("Measured on the photo target (1,500 steps, lambda ramped to 1, against source only with the same seed): "
                       "DANN gained +11.7, +0.6 and +10.8 points of target accuracy on seeds 0, 1, 2 (on seed 1 the "
                       "discriminator won), with source accuracy within half a point; the alternating form gained nothing on "
                       "seed 0 (-0.8 points). Adversarial adaptation helps here, but not on every run: try several seeds.")

        cfg = None
        with errors_shown():
            cfg = D.DomainConfig(target=target, method=method, lam=float(lam), schedule=schedule, ramp_steps=ramp).check()
        if cfg is None:
            st.stop()

        trainer = training_panel(
            "da:train", D.make_task, config=cfg, steps=D.PRETRAIN_STEPS, seconds=60.0, max_seconds=180.0, record_every=10,
            panels={"label loss (source)": ["label_loss"],
                    "discriminator accuracy (training batches)": ["domain_acc"],
                    "target test accuracy (evaluation only)": ["target_acc"],
                    "lambda": ["lambda"]})
        share.code_behind("da:train", D.make_task, cfg,
                          command='train domain-adapt', steps=D.PRETRAIN_STEPS, seconds=60.0, title='Domain adaptation')

        # -- the network shown after training: the user's, else the shipped adapted one ----------------------------------
        if trainer is not None and trainer.steps > 0:
            model, ev, who = trainer.task.model, trainer.last_eval, "your network"
            if not ev:   # stopped by hand: the panel evaluates only finished runs
                if ss.get("da:ev:key") != (id(trainer), trainer.steps):
                    ss["da:ev"], ss["da:ev:key"] = trainer.task.evaluate(), (id(trainer), trainer.steps)
                ev = ss["da:ev"]
            state, sentence = D.verdict(ev, method, so_extra)
            if state == "collapsed":
                st.error(sentence, icon=":material/heart_broken:")
            elif state in ("not adapted", "no gain"):
                st.warning(sentence, icon=":material/warning:")
            elif method == "source-only":
                st.info("A source-only run: the control for the adapted runs (same network, data and budget).",
                        icon=":material/info:")
            else:
                st.success(f"Adapted: target accuracy {_pct(ev['target_accuracy'])} against the shipped source-only "
                           f"network's {_pct(so_extra['target_accuracy'])}.", icon=":material/check_circle:")
            st.download_button("Download your network (checkpoint)", D.model_bytes(trainer.task, ev),
                               file_name=f"domain_{target}_{method}.pt", key="da:ckpt", on_click="ignore")
        else:
            model, ev, who = ad_model, ad_extra, "the shipped DANN network"
            gain = ad_extra["target_accuracy"] - so_extra["target_accuracy"]
            if gain < 0.05:
                st.warning(f"On this target the shipped DANN network gains only {100 * gain:+.1f} points over source only "
                           "(measured): its discriminator is fooled, but the target digits did not line up with the right "
                           "source digits.", icon=":material/warning:")
            st.info(f"Showing **the shipped DANN network** ({ad_extra.get('steps', 0):,} steps, lambda ramped to 1). Press "
                    "*Train* for your own with the settings above.", icon=":material/inventory_2:")

    with stage:
        r = [*st.columns(2), *st.columns(2)] if present.presenting() else st.columns(4)
        r[0].metric(f"Source test accuracy ({who})", _pct(ev["source_accuracy"]),
                    delta=f"{100 * (ev['source_accuracy'] - so_extra['source_accuracy']):+.1f} points vs source only")
        r[1].metric("Target test accuracy (labels only to score)", _pct(ev["target_accuracy"]),
                    delta=f"{100 * (ev['target_accuracy'] - so_extra['target_accuracy']):+.1f} points vs source only")
        r[2].metric("The discriminator it played against, test images", _pct(ev["domain_accuracy"]),
                    delta=f"{100 * (ev['domain_accuracy'] - so_extra['domain_accuracy']):+.1f} points vs source only",
                    delta_color="inverse", help="The discriminator trained with the network, scored on held-out images of "
                                                "both domains; 50% = fooled.")
        r[3].metric("A fresh discriminator, test images", _pct(ev["fresh_domain_accuracy"]),
                    delta=f"{100 * (ev['fresh_domain_accuracy'] - so_extra['fresh_domain_accuracy']):+.1f} points vs "
                          "source only", delta_color="inverse",
                    help="A new MLP trained on the finished features. Often still high: fooling the discriminator you "
                         "played against is not the same as features no discriminator can separate.")
        with present.secondary("How the discriminators are scored", icon=":material/info:"):
            st.caption("Source only trains its discriminator too, on features it cannot change; its number is that "
                       "discriminator's. Batch norm in the features normalises each domain's training batches separately, "
                       "which already hides part of the domain from the discriminator played against.")
        with errors_shown():
            imgs, titles, wrong = D.wrong_guesses(model, data.xt_test, data.yt_test, 24)
            image_grid(imgs, key="da:ad_grid", ncols=12, titles=titles, download_name="adapted_guesses.png",
                       caption=f"The same target test images, guessed by {who}: {wrong} of {len(imgs)} wrong.")
            if who == "your network":
                key = (id(trainer), trainer.steps)
                if st.button("Draw the t-SNE of your network's features (a few seconds)", key="da:tsne:go"):
                    with st.spinner("t-SNE of your network's features ..."):
                        ss["da:tsne:map"], ss["da:tsne:key"] = D.tsne_map(model, data, 250), key
                if ss.get("da:tsne:key") == key:
                    mine = ss["da:tsne:map"]
                    st.plotly_chart(D.tsne_figure(mine, colour, target, "Your network: features"), key="da:tsne_mine")
                    st.caption(f"Domain mixing {D.mixing(mine):.2f} (1 = fully mixed, 0 = two islands).")

# -- 5. the failure mode -----------------------------------------------------------------------------------------
with st.expander("When adaptation fails", expanded=False):
    st.markdown(
        "- **Lambda too high** (try the preset): the cheapest way to fool the discriminator is features that carry "
        "less about the digits. The discriminator is fooled more often, but source *and* target accuracy drop "
        "(on the inverted target, where source only is below chance, the target moves up to about chance). The "
        f"page calls a run *collapsed* when source accuracy ends below {D.COLLAPSE_SOURCE_ACC:.0%}.\n"
        "- **The discriminator wins**: lambda too small or training too short; its discriminator still "
        f"separates the features ({D.DISCRIMINATOR_WINS:.0%} or more) and the target gains little.\n"
        "- Mixing domains does not guarantee that a target 3 lands on the source 3s: the classes must line up too, "
        "which is why the source labels keep pulling on the same features.")
