"""GAN Lab: watch a generator and a discriminator play their game in 2-D, then on digit images."""

import time

import numpy as np
import streamlit as st
import torch

from dlplay import checkpoints, data, limits, viz
from dlplay.classifier import load_judge
from dlplay.errors import InputError
from dlplay.gan import (LOSSES, PRESETS, GAN2DConfig, GAN2DTask, generate, preset,
                        interpolate, image_task_from_checkpoint, load_2d, normalise_points, parse_points_csv,
                        save_2d)
from dlplay.gan import viz as ganviz
from dlplay.gan.gan2d import PRESET_NOTE, make_task as gan2d_make_task
from dlplay.gan.images import BUILDER as BUILDER_IMG, ImageGANConfig, make_task as image_make_task
from dlplay.runner import Job, resume_state, runner
from dlplay.train import Trainer
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, rerun_pending, share, training_panel
from dlplay.ui.board import as_png, submit_to_board, trainer_metrics
from dlplay.ui.copies import copy_check
from dlplay.ui.compat import session_id
from dlplay.ui.present import height as present_height, presenting, secondary, stage
from dlplay.ui.training import apply_message, settings_changed

page_header(
    "GAN Lab",
    "A generator G turns random noise z into samples; a discriminator D learns to tell its samples from real "
    "ones, and G learns from D's gradient how to fool it. Each iteration trains D for K steps on real versus "
    "generated points, then G for M steps against the fixed D. When D wins too clearly its sigmoid saturates "
    "and G's gradient vanishes; when G races ahead it piles onto a few modes (mode collapse).",
    formula=r"\min_G \max_D \; \mathbb{E}_{x\sim p_{data}}[\log D(x)] + "
            r"\mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))]",
    try_list=["Click **healthy training**, then Play: the purple points spread along the ring and split into the "
              "eight green modes; D's accuracy drifts towards 50%.",
              "Click **discriminator too strong**: the orange arrows (G's gradient) shrink and the 'gradient norm "
              "at G' number falls a hundredfold.",
              "Click **mode collapse**: the purple points squeeze into one clump that jumps around the ring ('modes "
              "covered' stays at 0 or 1); then **WGAN-GP fixes it**: after a few hundred iterations most of the "
              "eight modes are covered. Or press it while the collapsed run plays, without Reset: the same "
              "networks recover, 7-8 of the 8 modes 30 s after the switch (seeds 0-2).",
              "Pause and use the single-step buttons: one D step reshapes the background, one G step moves the points "
              "along the arrows.",
              "Draw your own target with the lasso, or upload a CSV of x,y points.",
              "Images: train the GAN (800 steps, about 10 seconds on an idle 2-core laptop) and watch the fixed grid of noise vectors "
              "turn into digits: the judge calls none of them digits at the start and about half or more at the "
              "end; with the conditional GAN, choose which digit to generate.",
              "Images: open *Does this GAN copy its training images?* under the grid. Each sample sits over its "
              "nearest training digit; the samples are farther from every training digit than new test digits "
              "are (1.4-1.9x their median distance, shipped and 800-step runs): not copies, and not yet as "
              "realistic as real digits."])
device_badge()

TARGETS = {**{k: v[0] for k, v in data.TOY2D.items()}, "draw": "your drawing (lasso on a grid)",
           "csv": "your points (CSV upload)"}
PLAY_FPS = 10           # frames a second while playing (drawn here from the latest weights the run sent)
SPEEDS = {"full speed": None, "slow motion (10 iterations a second)": 10, "very slow (2 iterations a second)": 2}
ss = st.session_state


@st.cache_resource(show_spinner=False)
def _judge():
    return load_judge()


@st.cache_resource(show_spinner=False)
def _digits(name: str):
    return data.load(name)


def gan2d_task(cfg, seed: int, device=None) -> GAN2DTask:
    return gan2d_make_task(cfg, seed, device=device)


@st.cache_data(show_spinner=False)
def _shipped_2d():
    model, cfg, extra = load_2d(checkpoints.shipped("gan_2d_ring8"))
    return model.state_dict(), cfg, extra


# -- 2-D playground -------------------------------------------------------------------------------------------
DEFAULTS = GAN2DConfig()
GAN_TABS = ["2-D playground", "Images: DCGAN and conditional GAN"]
WIDTHS, LRS = [8, 16, 32, 64, 128, 256], [1e-5, 1e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 3e-2]
KNOB_CHOICES = {"loss": list(LOSSES), "optimizer": ["adam", "sgd", "rmsprop"],
                "batch_size": [32, 64, 128, 256, 512, 1024],
                "noise": ["gaussian", "uniform"], "gp_weight": [0.0, 0.01, 0.1, 1.0, 10.0], "g_hidden": WIDTHS,
                "d_hidden": WIDTHS, "lr_g": LRS, "lr_d": LRS}
KNOB_RANGES = {"noise_dim": (1, 16), "g_layers": (1, 6), "d_layers": (1, 6), "m_g": (1, 10), "k_d": (1, 10)}
img_names = [n for n in data.dataset_names(available_only=True) if n in ("digits", "mnist", "fashion_mnist")]
share.link("gan", [share.choice("tab", "gan:tab", GAN_TABS), share.choice("preset", "gan:preset", list(PRESETS)),
                   share.choice("target", "gan:target", [t for t in TARGETS if t not in ("csv", "draw")]),
                   *[share.choice(k, f"gan:{k}", c, getattr(DEFAULTS, k)) for k, c in KNOB_CHOICES.items()],
                   *[share.integer(k, f"gan:{k}", lo, hi, getattr(DEFAULTS, k)) for k, (lo, hi) in KNOB_RANGES.items()],
                   share.integer("seed", "gan:seed", 0, 2**31 - 1, 0), share.choice("speed", "gan:speed", list(SPEEDS)),
                   share.integer("playfor", "gan:playfor", 1, int(limits.MAX_RUN_SECONDS), 60,
                                 "seconds one Play lasts"),
                   share.choice("img_ds", "gan:img:ds", img_names), share.flag("img_cond", "gan:img:cond", True),
                   share.choice("img_loss", "gan:img:loss", list(LOSSES), list(LOSSES)[1]),
                   *share.panel("gan:img", steps=800, seconds=20.0, max_seconds=180.0, prefix="img_")])
tab2d, tabimg = share.tabs(GAN_TABS, "gan:tab")


def _apply_preset(name: str) -> None:
    cfg = preset(name)   # the preset's knobs on the target it was calibrated for
    for k, v in cfg.as_dict().items():
        if k != "dataset":
            ss[f"gan:{k}"] = v
    ss["gan:target"] = cfg.dataset
    ss["gan:preset"] = name


for k, v in DEFAULTS.as_dict().items():
    if k != "dataset":
        ss.setdefault(f"gan:{k}", v)

with tab2d:
    # presenter mode (issue 26): presets, target and knobs on the left; Play and the playground's figure on the right
    ctl, stage_col = stage()
    with ctl:
        st.markdown("**Presets** (each sets the knobs below and the ring-of-8 target it was calibrated on; then press "
                    "Play):")
        pc = st.columns(2) * 2 if presenting() else st.columns(len(PRESETS))
        for i, name in enumerate(PRESETS):
            pc[i % len(pc)].button(name, key=f"gan:preset:{i}", on_click=_apply_preset, args=(name,), width="stretch")
        if ss.get("gan:preset"):
            st.info(f"**{ss['gan:preset']}**: {PRESETS[ss['gan:preset']][1]}", icon=":material/visibility:")
            if ss.get("gan:target") != preset(ss["gan:preset"]).dataset:
                st.caption(PRESET_NOTE)

        target = st.selectbox("Target distribution", list(TARGETS), format_func=TARGETS.get, key="gan:target")
        points = None
        with errors_shown():
            if target == "csv":
                f = st.file_uploader("CSV with two columns x, y (a header line is fine)", type=["csv", "txt"],
                                     key="gan:csv")
                if f is not None:
                    points = parse_points_csv(f.getvalue())
                    st.caption(f"{len(points):,} points, centred and scaled to fit the window.")
            elif target == "draw":
                g = np.linspace(-2.5, 2.5, 51)
                grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
                fig = ganviz.drawing_canvas(grid, ss.get("gan:drawn"))
                ev = st.plotly_chart(fig, key="gan:canvas", on_select="rerun", selection_mode=("lasso", "box"),
                                     config={"displayModeBar": True})
                sel = [p["point_index"] for p in (ev.selection.points if ev and ev.selection else [])
                       if p.get("curve_number", 0) == 0]
                if sel:
                    ss["gan:drawn"] = grid[sorted(set(sel))]
                if ss.get("gan:drawn") is not None:
                    rng = np.random.default_rng(0)
                    picked = ss["gan:drawn"]
                    pts = picked[rng.integers(0, len(picked), 4000)] + rng.uniform(-0.05, 0.05, (4000, 2))
                    points = normalise_points(pts) if len(picked) >= 10 else None
                    if points is None:
                        st.warning("Select at least 10 grid points to make a target.", icon=":material/edit:")
                else:
                    st.caption("Pick the lasso (or box) tool in the chart's toolbar and draw a shape: the grid points "
                               "inside it become the target distribution.")

        with st.expander("Model and training knobs", expanded=False):
            k1, k2, k3, k4 = st.columns(4)
            k1.selectbox("Loss", list(LOSSES), format_func=LOSSES.get, key="gan:loss")
            k1.selectbox("Optimiser", KNOB_CHOICES["optimizer"], key="gan:optimizer")
            k1.select_slider("Batch size", KNOB_CHOICES["batch_size"], key="gan:batch_size")
            k2.slider("Noise dimension", 1, 16, key="gan:noise_dim")
            k2.selectbox("Noise distribution", ["gaussian", "uniform"], key="gan:noise")
            k2.select_slider("WGAN-GP penalty weight lambda", KNOB_CHOICES["gp_weight"], key="gan:gp_weight")
            k3.slider("G hidden layers", 1, 6, key="gan:g_layers")
            k3.select_slider("G width", WIDTHS, key="gan:g_hidden")
            k3.select_slider("G learning rate", LRS, key="gan:lr_g")
            k3.slider("M generator steps per iteration", 1, 10, key="gan:m_g")
            k4.slider("D hidden layers", 1, 6, key="gan:d_layers")
            k4.select_slider("D width", WIDTHS, key="gan:d_hidden")
            k4.select_slider("D learning rate", LRS, key="gan:lr_d")
            k4.slider("K discriminator steps per iteration", 1, 10, key="gan:k_d")

    knobs = {k: ss[f"gan:{k}"] for k in DEFAULTS.as_dict() if k != "dataset"}
    cfg = GAN2DConfig(dataset=target if target in data.TOY2D else "points", **knobs,
                      points=None if points is None else np.asarray(points, np.float32).tobytes())
    state = ss.setdefault("gan:2d", {"trainer": None, "config": None, "run": None, "error": ""})
    if state["config"] != cfg:   # the loss, learning rates, K, M...: applied mid-run; G or D's shape: a fresh pair
        if state["trainer"] is not None:
            settings_changed(state, cfg)
        state.update(config=cfg)

    def _new_trainer(seed: int) -> Trainer:
        if target in ("csv", "draw") and points is None:
            raise InputError("Upload a CSV of points or draw a shape first: there is no target to learn yet.")
        return Trainer(gan2d_task(cfg, seed, device="cpu"), record_every=5)

    def _metrics_row(box, tr: Trainer) -> None:
        m, t = tr.latest, tr.task
        with box.container():
            c = st.columns(7)
            c[0].metric("iterations (D steps / G steps)", f"{t.iterations:,}", f"{t.d_steps:,} / {t.g_steps:,}",
                        delta_color="off")
            c[1].metric("D accuracy on real", f"{m.get('d_acc_real', float('nan')):.0%}")
            c[2].metric("D accuracy on fake", f"{m.get('d_acc_fake', float('nan')):.0%}")
            c[3].metric("gradient norm at G", f"{m.get('g_grad_norm', float('nan')):.3g}",
                        help="||dL_G/dtheta_G|| over all of G's weights, at the last G step.")
            c[4].metric("MMD (real vs generated)", f"{m.get('mmd', float('nan')):.3g}",
                        help="Kernel distance between the two point clouds; 0 when they match.")
            c[5].metric("JS divergence (bits)", f"{m.get('js', float('nan')):.2f}",
                        help="Jensen-Shannon divergence of 40x40 histograms: 0 = same, 1 = no overlap.")
            if "modes_covered" in m:
                c[6].metric("modes covered / near a mode", f"{m['modes_covered']:.0f} / {m['high_quality']:.0%}",
                            help="Modes with at least 2% of the generated points within 3 standard deviations; "
                                 "share of points within 3 standard deviations of some mode.")

    @st.fragment
    def playground():
        share.sync()   # the seed and Play's length are set in here: keep the URL's link current
        s = state

        def _toggle():  # a callback runs before the rerun, so the button's label already shows the new state
            s["request"] = "pause" if s.get("run") is not None else "play"

        c = st.columns(5)
        d1 = c[1].button("D step", key="gan:dstep", width="stretch", help="One discriminator update.")
        g1 = c[2].button("G step", key="gan:gstep", width="stretch", help="One generator update.")
        it1 = c[3].button("Iteration", key="gan:istep", width="stretch", shortcut="right" if presenting() else None,
                          help="One full iteration: K discriminator steps, then M generator steps.")
        reset = c[4].button("Reset", key="gan:reset", width="stretch", help="Back to the untrained networks of this seed.")
        with secondary("Speed, seed and length of a Play"):
            c2 = st.columns([2, 1, 2])
            speed = c2[0].selectbox("Speed", list(SPEEDS), key="gan:speed")
            seed = c2[1].number_input("Seed", 0, 2**31 - 1, 0, key="gan:seed")
            play_for = c2[2].slider("Seconds one Play lasts at most", 1, int(limits.MAX_RUN_SECONDS), 60, key="gan:playfor")
        layers = st.segmented_control("Layers", ganviz.LAYERS, selection_mode="multi", default=list(ganviz.LAYERS),
                                      key="gan:layers", label_visibility="collapsed")
        request, s["request"] = s.get("request"), None
        if (reset or (s["trainer"] is not None and s.get("seed") != seed)) and s.get("run") is not None:
            s["run"].stop()
            s["run"] = None
        if reset or (s["trainer"] is not None and s.get("seed") != seed):
            s.update(trainer=None, error="")
        if (d1 or g1 or it1) and s.get("run") is not None:
            request = "pause"
        if request == "pause" and s.get("run") is not None:
            _follow_until_end(s)          # the run stops after its current chunk; its weights come back
        try:
            if s["trainer"] is None and (request == "play" or d1 or g1 or it1):
                s["trainer"], s["seed"] = _new_trainer(int(seed)), seed
            tr = s["trainer"]
            for phase, pressed in (("d", d1), ("g", g1), ("iteration", it1)):
                if pressed:   # a single update of these tiny networks takes a millisecond: done here
                    tr.task.phase = phase
                    tr.run(steps=1, evaluate=False)
            if request == "play":
                s["run"] = runner().submit(Job(
                    gan2d_make_task, cfg, int(seed), seconds=float(play_for), record_every=5,
                    resume=resume_state(tr) if tr.task.iterations or tr.steps else None,
                    live_seconds=1.0 / PLAY_FPS, rate=SPEEDS[speed], owner=session_id()))
                s["error"] = ""
        except InputError as e:
            s.update(error=str(e))
        running = s.get("run") is not None
        c[0].button("Pause" if running else "Play", key="gan:play", type="primary", width="stretch",
                    on_click=_toggle, shortcut="space" if presenting() else None)   # presenter mode's keys
        tr = s["trainer"]
        if s["error"]:
            st.error(s["error"], icon=":material/error:")
        fig_box, cap_box, metric_box, curve_box = st.empty(), st.empty(), st.empty(), st.empty()

        if tr is None:  # nothing trained in this session yet: the shipped generator, or fresh networks
            shipped = cfg == DEFAULTS and target == "ring8"
            try:
                task = gan2d_task(cfg, int(seed), device="cpu")
            except InputError as e:
                st.info(str(e), icon=":material/info:")
                return
            if shipped:
                sd, _, extra = _shipped_2d()
                task.model.load_state_dict(sd)
                title = f"Shipped GAN: {extra.get('iterations', 0):,} iterations of healthy training"
                st.caption("Press Play (or a step button) to train your own from scratch with these presets and knobs.")
            else:
                title = "Untrained networks of this seed: press Play or a step button"
            fig_box.plotly_chart(ganviz.playground(task.view(), task.bounds, cfg.loss, layers or (), title=title,
                                                   height=present_height(620, 470)), key="gan:fig:static")
            return

        def draw(curves: bool) -> None:
            s["frame"] = s.get("frame", 0) + 1   # element keys must be unique within one script run
            t = tr.task
            title = f"iteration {t.iterations:,}  ({tr.seconds:.1f} s of training)"
            if s.get("run") is not None:
                # While playing: a picture the browser swaps in place (a plotly figure rebuilt several times a
                # second can stay blank on a slow browser). Written straight into the placeholder, so each frame
                # updates the same <img>, which shows the last frame until the next has loaded; a new container
                # per frame made a new, empty <img> each time (a blank flash on a loaded server).
                fig_box.image(ganviz.playground_frame(t.view(), t.bounds, cfg.loss, layers or (), title=title),
                              width=present_height(560, 470))
                cap_box.caption("Background: D(x), purple = fake, green = real · green dots: real samples · purple "
                                "dots: generated · orange: G's gradient · grey grid: the generator's manifold. "
                                "Pause for the interactive figure.")
            else:
                fig_box.plotly_chart(ganviz.playground(t.view(), t.bounds, cfg.loss, layers or (), title=title,
                                                       height=present_height(620, 470)), key=f"gan:fig:{s['frame']}")
            _metrics_row(metric_box, tr)
            if curves and tr.history:
                curve_box.plotly_chart(viz.curve_panels(tr.history, {
                    "losses": ["d_loss", "g_loss"], "D accuracy": ["d_acc_real", "d_acc_fake"],
                    "gradient norm at G": ["g_grad_norm"], "distances": ["mmd", "js"]}, marks=tr.marks), key=f"gan:curves:{s['frame']}")

        draw(curves=True)
        if s.get("run") is None:
            return
        # Play: the run trains in a worker; this loop draws the latest weights it sent, PLAY_FPS times a second.
        run, last_curves, fresh = s["run"], time.monotonic(), False
        while True:
            for m in run.messages():
                apply_message(tr, m)
                fresh = fresh or m.get("live") is not None
            if run.finished:
                break
            if run.status == "queued":
                fig_box.caption(f"Waiting for a free training slot: {run.ahead} ahead of you.")
            elif fresh:
                now = time.monotonic()
                draw(curves=now - last_curves > 1.0)
                if now - last_curves > 1.0:
                    last_curves = now
                fresh = False
            if rerun_pending():   # Pause or another click is queued behind this fragment: let it run now
                return
            time.sleep(0.01)
        _end_of_run(s)
        st.rerun()  # redraw the whole page (downloads included) with the trained model

    def _follow_until_end(s):
        run = s["run"]
        run.stop()
        while not run.finished:
            for m in run.messages():
                apply_message(s["trainer"], m)
            time.sleep(0.01)
        _end_of_run(s)

    def _end_of_run(s):
        end, s["run"] = s["run"].end, None
        if end and end.get("error"):
            s["error"] = end["error"]

    with stage_col:
        playground()
    if points is None:
        share.code_behind("gan", gan2d_make_task, cfg, command="train gan2d", seconds=float(ss.get("gan:playfor", 60)),
                          title="GAN Lab, 2-D playground")

    tr2d = state["trainer"]
    if tr2d is not None and tr2d.steps:
        d1, d2 = st.columns(2)
        pts = tr2d.task.samples(2000, torch.Generator().manual_seed(7))
        d1.download_button("Download 2,000 generated points (CSV)",
                           "x,y\n" + "\n".join(f"{x:.5f},{y:.5f}" for x, y in pts), file_name="gan_points.csv",
                           mime="text/csv", key="gan:dl:csv", on_click="ignore")
        import io
        buf = io.BytesIO()
        save_2d(buf, tr2d.task, {"iterations": tr2d.task.iterations})
        d2.download_button("Download the trained 2-D GAN (.pt)", buf.getvalue(), file_name="gan2d.pt",
                           key="gan:dl:pt", on_click="ignore")
        if state.get("run") is None:   # the class board (issue 28): e.g. modes covered by loss across the room
            submit_to_board("gan:2d", tr2d, "gan", cfg, int(state.get("seed") or 0),
                            metrics=lambda tr: {**trainer_metrics(tr), **tr.task.distances()},
                            picture_png=lambda tr: as_png(ganviz.playground_frame(
                                tr.task.view(), tr.task.bounds, cfg.loss, ("real", "generated"), size=320)))

# -- Images ------------------------------------------------------------------------------------------------------
with tabimg:
    st.markdown(
        "The same loop on images: G is a small DCGAN (a linear layer, then transposed convolutions that double the "
        "picture's side), D a small convolutional network. The grid below always decodes the **same 64 noise "
        "vectors**, so you watch one set of samples improve. The shipped digit classifier judges how many of them "
        "look like some digit.")
    names = img_names
    c1, c2, c3 = st.columns(3)
    ds_name = c1.selectbox("Dataset", names, key="gan:img:ds")
    conditional = c2.toggle("Conditional GAN", value=True, key="gan:img:cond",
                            help="G and D also see the class, so you can ask for a chosen digit.")
    img_loss = c3.selectbox("Loss", list(LOSSES), index=1, format_func=LOSSES.get, key="gan:img:loss")
    with errors_shown():
        ds = _digits(ds_name)
        judge = _judge() if ds.image_shape == (1, 8, 8) else None

        def _grid_view(tr: Trainer) -> None:
            ss["gan:img:frame"] = ss.get("gan:img:frame", 0) + 1
            st.plotly_chart(viz.image_grid(tr.task.grid(), ncols=16, height=300,
                                           title=f"The fixed 64 noise vectors after {tr.steps:,} steps"),
                            key=f"gan:img:live:{ss['gan:img:frame']}", config={"displayModeBar": False})

        panels = {"losses": ["d_loss", "g_loss"], "D accuracy": ["d_acc_real", "d_acc_fake"],
                  "gradient norm at G": ["g_grad_norm"], "MMD (pixels)": ["mmd"]}
        if judge is not None:
            panels["judge: share digit-like"] = ["judge_digit_share"]
        trainer = training_panel(
            "gan:img", image_make_task,
            config=ImageGANConfig(dataset=ds_name, loss=img_loss, conditional=bool(conditional)), seconds=20.0,
            steps=800, max_seconds=180.0, panels=panels,
            live=_grid_view, record_every=10,
            board_picture=lambda tr: viz.to_png(tr.task.grid(), 16))   # the class board's picture
        share.code_behind("gan:img", image_make_task, ImageGANConfig(dataset=ds_name, loss=img_loss,
                                                                     conditional=bool(conditional)),
                          command="train gan", steps=800, seconds=20.0, title="GAN Lab, images")

        if trainer is None:
            if ds_name != "digits":
                st.info("The shipped GANs were trained on the 8x8 digits; press Train to make one for this dataset.",
                        icon=":material/info:")
                st.stop()
            name = "gan_cgan_digits" if conditional else "gan_dcgan_digits"
            task = image_task_from_checkpoint(checkpoints.shipped(name), ds, judge=judge)
            who = f"Shipped {'conditional ' if conditional else ''}GAN ({task.config['noise_dim']}-number noise)"
        else:
            task = trainer.task
            who = f"Your {'conditional ' if conditional else ''}GAN after {trainer.steps:,} steps"
        model = task.model
        ev = task.evaluate()
        m1, m2 = st.columns(2)
        if "judge_digit_share" in ev:
            m1.metric(f"{who}: share of the grid the digit judge calls a digit", f"{ev['judge_digit_share']:.0%}")
        m2.metric("MMD between generated and real test images (pixels; lower is closer)", f"{ev['mmd']:.3f}")
        image_grid(task.grid(), key="gan:img:grid", ncols=16, download_name="gan_samples.png",
                   caption=f"{who}: the fixed 64 noise vectors"
                           + (" (column j asks for class j mod 10)." if model.n_classes else "."))
        with st.expander("Does this GAN copy its training images?", expanded=False):
            copy_check(generate(model, 500, seed=0), ds, key="gan:img:copies", what="generated images")

        if model.n_classes:
            st.subheader("Choose what to generate")
            cc1, cc2 = st.columns([1, 3])
            label = cc1.selectbox("Class", list(range(model.n_classes)), format_func=lambda i: ds.class_names[i],
                                  key="gan:img:label")
            seed_c = cc1.number_input("Noise seed", 0, 10_000, 0, key="gan:img:cseed")
            with cc2:
                image_grid(generate(model, 32, seed=int(seed_c), label=int(label)), key="gan:img:chosen", ncols=16,
                           caption=f"32 noise vectors, all asked for '{ds.class_names[label]}'.",
                           download_name=f"gan_{ds.class_names[label]}.png")

        st.subheader("Walk between two noise vectors")
        i1, i2, i3 = st.columns(3)
        s_a = i1.number_input("Noise seed A", 0, 10_000, 1, key="gan:img:za")
        s_b = i2.number_input("Noise seed B", 0, 10_000, 2, key="gan:img:zb")
        slerp = i3.toggle("Spherical path (slerp)", value=True, key="gan:img:slerp",
                          help="A Gaussian z lives near a sphere; slerp stays there, a straight line cuts inside.")
        za = torch.randn(model.noise_dim, generator=torch.Generator().manual_seed(int(s_a))).numpy()
        zb = torch.randn(model.noise_dim, generator=torch.Generator().manual_seed(int(s_b))).numpy()
        lab = int(ss.get("gan:img:label", 0)) if model.n_classes else None
        image_grid(interpolate(model, za, zb, steps=12, label=lab, spherical=slerp), key="gan:img:interp", ncols=12,
                   caption="Left: G(z_A), right: G(z_B); in between: G of the points on the path.",
                   download_name="gan_interpolation.png")
        st.download_button("Download this GAN (.pt)",
                           checkpoints.to_bytes(model, task.config, BUILDER_IMG, {"loss": task.loss}),
                           file_name="gan_images.pt", key="gan:img:dl", on_click="ignore")
