"""Convolutional layers: build a CNN layer by layer and read its arithmetic, train it, step a filter across an input,
pool and unpool, and see what the layers of an ImageNet network respond to."""

import hashlib

import numpy as np
import pandas as pd
import streamlit as st
import torch

from dlplay import convolution as cnn
from dlplay import data, style, topics
from dlplay.errors import InputError
from dlplay.ui import (device_badge, draw_key, errors_shown, get_trainer, image_grid, page_header, training_panel,
                       upload_image)
from dlplay.ui import present, share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
CNN_STEPS = 3000      # about 470 steps/s: 6 s

page_header(
    "Convolutional layers",
    "A convolutional layer slides a few small filters across the picture; each filter answers the same question "
    "(\"is there a vertical edge here?\") at every position, so it needs few weights and finds a pattern wherever "
    "it is. Its output is a stack of maps whose size follows from the kernel F, the stride S and the zero padding "
    "P; pooling shrinks the maps, and every layer makes each value depend on a larger patch of the input, its "
    "**receptive field**. Build a network below and read the numbers, then train it and look inside.",
    formula=r"W_{\text{out}}=\frac{W-F+2P}{S}+1,\qquad \#\text{params}=C_{\text{out}}\,(C_{\text{in}}F^2+1),"
            r"\qquad r_l=r_{l-1}+(F-1)\,j_{l-1},\ \ j_l=j_{l-1}S",
    try_list=[
        "Read the lecture's stack `conv(12,3,1,1) relu pool(2) fc(10)` on the 32x32x3 cat: 32x32x12, then "
        "16x16x12, then 1x1x10, and the fc layer holds 99% of the parameters.",
        "Choose the preset **Broken: stride 2 does not fit**: the page names the layer and the 15.5.",
        "Change the padding of the first conv from 1 to 0: the maps shrink by 2 and the fc layer's weights change.",
        "**Dilated convolutions**: three 3x3 layers with dilation 1, 2, 4 see 15 pixels with 3x3 kernels.",
        "*Train*: the digits reach 95% test accuracy in a few seconds; watch the 3x3 filters turn into strokes.",
        "*Step by step*: press **Step** and read the multiply-and-add; then set the stride to 2 and padding to 1.",
        "*Pooling and transposed convolution*: unpooling with switches keeps the positions; repetition does not. "
        "The transposed convolution and the zero-stuffed convolution agree exactly (difference 0).",
        "*What layers see*: compare the stem's fine maps with stage 6's coarse ones (receptive field 3 px against "
        "787 px). Pick a channel of each and look at the patches that excite it: colours and edges, or parts of "
        "things? Then draw what the channel wants by gradient ascent.",
    ])
device_badge()

PICTURE, DIGIT = "a picture, resized to 32x32x3", "a digit, 8x8x1"


@st.cache_resource(show_spinner="Loading the digits ...")
def _digits():
    return data.load("digits")


@st.cache_resource
def _shipped():
    return cnn.load_shipped()


@st.cache_data(show_spinner=False, max_entries=16)
def _example(name: str):
    return style.example(name)


def _digest(img) -> str:
    return hashlib.sha1(img.tobytes()).hexdigest()[:16] + str(img.size)


def _set_stack(text: str):
    st.session_state["cnn:stack"] = text


def _preset_changed():
    name = st.session_state.get("cnn:preset")
    if name in cnn.PRESETS:
        _set_stack(cnn.PRESETS[name])


def _add_layer():
    ss = st.session_state
    kind = ss["cnn:add:kind"]
    if kind == "conv":
        layer = cnn.Layer("conv", (int(ss["cnn:add:depth"]), int(ss["cnn:add:k"]), int(ss["cnn:add:s"]),
                                   int(ss["cnn:add:p"]), int(ss["cnn:add:d"])))
    elif kind in ("maxpool", "avgpool"):
        layer = cnn.Layer(kind, (int(ss["cnn:add:k"]), int(ss["cnn:add:s"])))
    elif kind == "fc":
        layer = cnn.Layer("fc", (int(ss["cnn:add:units"]),))
    else:
        layer = cnn.Layer(kind)
    _set_stack((ss.get("cnn:stack", "").strip() + " " + str(layer)).strip())


def _remove_last():
    text = st.session_state.get("cnn:stack", "")
    try:
        _set_stack(cnn.stack_text(cnn.parse_stack(text)[:-1]))
    except InputError:   # not readable as layers: drop the last word as written
        _set_stack(" ".join(text.split()[:-1]))


share.link("convolution", [share.text("stack", "cnn:stack", cnn.DEFAULT_STACK, "layers"),
                           share.choice("lr", "cnn:lr", [3e-4, 1e-3, 3e-3, 1e-2, 3e-2], 3e-3),
                           *share.panel("cnn:train", steps=CNN_STEPS, seconds=8.0, max_seconds=60.0)])
st.session_state.setdefault("cnn:stack", cnn.DEFAULT_STACK)
digits = _digits()
tabs = st.tabs(["Build a network", "Train it on the digits", "Convolution step by step",
                "Pooling, unpooling, transposed convolution", "What layers see"])

# -- 1. the layer builder -----------------------------------------------------------------------------------------
with tabs[0]:
    # presenter mode (issue 26): the input and the layers on the left, the receptive fields on the right
    ctl, stage = present.stage()
    c = [ctl, ctl] if present.presenting() else st.columns([1.3, 2])
    source = c[0].radio("Input", [PICTURE, DIGIT], key="cnn:input", horizontal=True)
    if source == PICTURE:
        names = [n for n, (_, kind) in style.EXAMPLES.items() if kind == "photo"] + \
                [n for n, (_, kind) in style.EXAMPLES.items() if kind != "photo"]
        pick = c[0].selectbox("Built-in picture", names, key="cnn:pic")
        with ctl, present.secondary("Upload a picture", icon=":material/upload:"):
            up = upload_image("... or upload a picture (it is centre-cropped and resized to 32x32)", key="cnn:pic:up")
        img = up if up is not None else _example(pick)
        x_in = cnn.picture_input(img, 32)
        in_label = "your upload" if up is not None else pick
    else:
        i = c[0].number_input("Test digit number", 0, len(digits.x_test) - 1, 0, key="cnn:digit")
        x_in = digits.x_test[int(i):int(i) + 1]
        in_label = f"test digit #{int(i)} (a {digits.class_names[int(digits.y_test[int(i)])]})"
    in_shape = tuple(x_in.shape[1:])

    with c[1]:
        st.selectbox("Preset networks", list(cnn.PRESETS), key="cnn:preset", on_change=_preset_changed,
                     index=None, placeholder="Choose a preset, or edit the layers below")
        st.text_input("Layers", key="cnn:stack",
                      help="conv(depth, kernel, stride=1, padding=0, dilation=1), relu, pool(kernel, stride=kernel), "
                           "avgpool(kernel, stride), flatten, fc(units); separated by spaces.")
        with present.secondary("Add or remove a layer", icon=":material/add:"):
            a = st.columns([1.3, 1, 1, 1, 1, 1])
            kind = a[0].selectbox("Add a layer", list(cnn.KIND_HELP), key="cnn:add:kind",
                                  format_func=lambda k: {"maxpool": "max-pool", "avgpool": "average-pool"}.get(k, k))
            if kind == "conv":
                a[1].number_input("depth", 1, cnn.MAX_DEPTH, 16, key="cnn:add:depth")
            if kind in ("conv", "maxpool", "avgpool"):
                a[2].number_input("kernel F", 1, cnn.MAX_KERNEL, 3 if kind == "conv" else 2, key="cnn:add:k")
                a[3].number_input("stride S", 1, cnn.MAX_STRIDE, 1 if kind == "conv" else 2, key="cnn:add:s")
            if kind == "conv":
                a[4].number_input("padding P", 0, cnn.MAX_PADDING, 1, key="cnn:add:p")
                a[5].number_input("dilation", 1, cnn.MAX_DILATION, 1, key="cnn:add:d")
            if kind == "fc":
                a[1].number_input("units", 1, cnn.MAX_UNITS, 10, key="cnn:add:units")
            b = st.columns(3)
            b[0].button("Add layer", key="cnn:add", on_click=_add_layer, width="stretch")
            b[1].button("Remove last layer", key="cnn:pop", on_click=_remove_last, width="stretch")
            b[2].button("Reset to the lecture's stack", key="cnn:reset", on_click=_set_stack, args=(cnn.DEFAULT_STACK,),
                        width="stretch")

    stack = st.session_state["cnn:stack"]
    rows = None
    try:
        rows = cnn.layer_table(stack, in_shape)
    except InputError as e:
        st.error(f"This network does not fit a {in_shape[1]}x{in_shape[2]}x{in_shape[0]} input. {e}",
                 icon=":material/error:")

    if rows is not None:
        table = pd.DataFrame({
            "#": [r.index for r in rows],
            "layer": [r.layer for r in rows],
            "output H x W x C": [f"{r.shape[1]} x {r.shape[2]} x {r.shape[0]}" for r in rows],
            "how the size follows": [r.formula for r in rows],
            "parameters": [r.params for r in rows],
            "receptive field (input pixels)": [f"{r.rf} x {r.rf}" + (" (all of it)" if r.rf >= max(in_shape[1:])
                                                                    else "") for r in rows],
        })
        st.dataframe(table, hide_index=True, width="stretch")
        total = sum(r.params for r in rows)
        m = st.columns(4)
        m[0].metric("Parameters in all", f"{total:,}", help="Weights plus biases of every layer.")
        biggest = max(rows, key=lambda r: r.params)
        m[1].metric("Largest layer", f"{biggest.layer}",
                    help=f"{biggest.params:,} parameters, {biggest.params / max(total, 1):.0%} of the network.")
        m[2].metric("Output shape", " x ".join(map(str, (rows[-1].shape[1], rows[-1].shape[2], rows[-1].shape[0]))),
                    help="Height x width x depth of the last layer's output.")
        m[3].metric("Receptive field of the last layer", f"{rows[-1].rf} px",
                    help="The side of the square of input pixels one output value depends on (padding included).")

        # the weights the maps come from: the trained digit model when it is this very stack, else random ones
        trained = get_trainer("cnn:train")
        model, who = None, "random (untrained) weights, seed 0"
        if source == DIGIT:
            if trained is not None and trained.steps and trained.task.model_config["stack"] == stack:
                model, who = trained.task.model, "your trained model"
            elif _shipped()[1]["stack"] == stack:
                model, who = _shipped()[0], "the shipped trained model"
        if model is None:
            model = cnn.random_model(stack, in_shape, seed=0)
        maps = cnn.feature_maps(model, x_in)

        f = (stage, st.container()) if present.presenting() else st.columns([1, 1.4])
        with f[0]:
            st.plotly_chart(cnn.receptive_field_figure(x_in, rows, f"Receptive fields on {in_label}"),
                            key="cnn:rf", config={"displayModeBar": False})
            st.caption("Each square is the patch of the input that the centre value of that layer's output depends "
                       "on (numbered by layer). Pooling and strides make it grow faster: they multiply the jump "
                       "j between neighbouring outputs.")
        with f[1]:
            spatial = [r for r in rows[1:] if r.kind not in ("fc", "flatten")]
            if spatial:
                which = st.selectbox("Feature maps of layer", [r.index for r in spatial], key="cnn:maps:layer",
                                     format_func=lambda i: f"{i}: {rows[i].layer} "
                                                           f"({rows[i].shape[1]}x{rows[i].shape[2]}x{rows[i].shape[0]})")
                fm = maps[which - 1][0]
                image_grid(cnn.map_tiles(fm, 32), key="cnn:maps", ncols=8, download_name="feature_maps.png",
                           caption=f"Channels 0 to {min(32, fm.shape[0]) - 1} (row by row) of the {fm.shape[0]} maps "
                                   f"of layer {which} for "
                                   f"{in_label}, computed with {who}; each map scaled to its own range (dark = low).")
            else:
                st.info("This network has no convolution or pooling layer, so there are no maps to show.")

# -- 2. training on the digits ------------------------------------------------------------------------------------
with tabs[1]:
    with present.secondary("What is trained", icon=":material/info:"):
        st.markdown("The network from the first tab, trained as a digit classifier on the 8x8 digits (1,437 "
                    "training, 360 test images) with cross-entropy and Adam. A final `fc(10)` is added if your stack "
                    "does not end with one.")
    ctl1, stage1 = present.stage()   # presenter mode: Train on the left, the model's accuracy and filters right
    cc = ctl1.columns([2, 1])
    lr = cc[1].select_slider("Learning rate", [3e-4, 1e-3, 3e-3, 1e-2, 3e-2], 3e-3, key="cnn:lr")
    cfg, cfg_error = None, ""
    try:
        cfg = cnn.CNNConfig(stack=stack, lr=float(lr)).check()
    except InputError as e:
        cfg_error = str(e)
    cc[0].markdown(f"Training: `{cnn.stack_text(cnn.classifier_stack(stack)) if cfg else stack}`")
    test_x, test_y = digits.x_test, digits.y_test

    def live(trainer):
        """The first layer's filters and the test accuracy of the model being trained (read-only)."""
        model = trainer.task.model
        filt = cnn.first_filters(model)
        st.metric("Test accuracy now", f"{cnn.accuracy(model, test_x, test_y):.1%}",
                  help="Share of the 360 held-out digits classified correctly.")
        if filt is not None:
            image_grid(filt, key=draw_key("cnn:live"), ncols=16,
                       caption=f"The first convolution's {len(filt)} filters after {trainer.steps:,} steps "
                               "(each scaled to its own range).", download_name="filters.png")

    with ctl1:
        if cfg is None:
            st.error(f"This network cannot be trained on the 8x8x1 digits: {cfg_error}", icon=":material/error:")
            trainer = None
        else:
            trainer = training_panel("cnn:train", cnn.make_task, config=cfg, steps=CNN_STEPS, seconds=8.0, max_seconds=60.0,
                                     panels={"training loss (cross-entropy)": ["loss"],
                                             "training accuracy (this batch)": ["train_acc"]},
                                     live=live, record_every=10)
            share.code_behind("cnn:train", cnn.make_task, cfg,
                              command='train cnn', steps=CNN_STEPS, seconds=8.0, title='Convolutional layers')
        if trainer is not None and trainer.steps:
            model, who = trainer.task.model, "your model"
            st.download_button("Download your model (checkpoint)", topics.checkpoint_bytes(cnn, trainer.task,
                               {"config": cfg.as_dict(), **trainer.last_eval}), file_name="cnn_digits.pt",
                               key="cnn:ckpt", on_click="ignore")
        else:
            model, ship_cfg, extra = _shipped()
            who = "the shipped model"
            st.info(f"Showing **the shipped model** `{ship_cfg['stack']}` ({extra['steps']:,} steps, test accuracy "
                    f"{extra['test_acc']:.1%}). Press *Train* for your own network from the first tab.",
                    icon=":material/inventory_2:")
    with stage1:
        m = st.columns(2)
        m[0].metric(f"Test accuracy of {who}", f"{cnn.accuracy(model, test_x, test_y):.1%}",
                    help="Share of the 360 held-out digits classified correctly.")
        m[1].metric("Its parameters", f"{sum(p.numel() for p in model.parameters()):,}")
        filt = cnn.first_filters(model)
        if filt is not None and not (trainer is not None and trainer.steps):
            image_grid(filt, key="cnn:filters", ncols=16, download_name="filters.png",
                       caption=f"The first convolution's filters of {who} (each scaled to its own range: dark = "
                               "negative weights, light = positive).")

# -- 3. one filter, step by step ------------------------------------------------------------------------------------
@st.fragment
def _walk_section():
    """One filter, step by step (a fragment: Step reruns only this tab)."""
    st.markdown("One 3x3 filter slides over a digit (its pixels as the dataset stores them, 0 to 16). Each output "
                "value is the sum of the window's pixels times the filter's weights; the stride is how far the window "
                "jumps, the padding how many rings of zeros surround the input.")
    w = st.columns(5)
    kname = w[0].selectbox("Filter", list(cnn.KERNELS), key="cnn:walk:k")
    s = w[1].slider("Stride S", 1, 3, 1, key="cnn:walk:s")
    p = w[2].slider("Padding P", 0, 2, 0, key="cnn:walk:p")
    d = w[3].number_input("Digit", 0, len(digits.x_test) - 1, 3, key="cnn:walk:digit")
    raw = (digits.x_test[int(d), 0] * 16).round().numpy()
    walk = cnn.conv_walk(raw, cnn.KERNELS[kname], s, p)
    key_t = "cnn:walk:t"
    if st.session_state.get(key_t, 0) >= walk.positions:
        st.session_state[key_t] = 0

    def _step():
        st.session_state[key_t] = (st.session_state.get(key_t, 0) + 1) % walk.positions

    w[4].button("Step", key="cnn:walk:step", on_click=_step, type="primary", width="stretch",
                help="Move the window to the next output position.")
    t = st.slider("Output position (row by row)", 0, walk.positions - 1, key=key_t)
    st.plotly_chart(cnn.walk_figure(walk, t), key="cnn:walk:fig", config={"displayModeBar": False})
    st.code(walk.sum_text(t), language=None, wrap_lines=True)
    ho, wo = walk.output.shape
    st.caption(f"Output size: (W - F + 2P)/S + 1 = (8 - 3 + 2·{p})/{s} + 1 → {ho} x {wo} values "
               f"({walk.positions} positions). Red square: the window and the value it makes.")
    if walk.note:
        st.warning(walk.note, icon=":material/warning:")


# -- 4. pooling, unpooling, transposed convolution ----------------------------------------------------------------
@st.fragment
def _pool_section():
    """Pooling, unpooling and transposed convolution (a fragment)."""
    st.markdown("**Max-pooling** keeps the largest value of each block and, if asked, remembers where it was (the "
                "*switches*). Going back up, **unpooling with switches** puts each maximum back at its place and "
                "zeros elsewhere; **unpooling by repetition** copies it over the whole block. Convolutional "
                "autoencoders and segmentation networks use both on their way back to full size.")
    pc = st.columns(2)
    pd_ = pc[0].number_input("Digit", 0, len(digits.x_test) - 1, 7, key="cnn:pool:digit")
    k = pc[1].radio("Pool size", [2, 4], horizontal=True, key="cnn:pool:k")
    xp = digits.x_test[int(pd_), 0]
    pool = cnn.pool_unpool(xp, int(k))
    st.plotly_chart(cnn.grids_figure({"input 8x8": xp.numpy(), "switches (where each max was)": pool.switches.numpy(),
                                      f"max-pooled {8 // k}x{8 // k}": pool.pooled.numpy(),
                                      "unpooled with switches": pool.unpooled_switches.numpy(),
                                      "unpooled by repetition": pool.unpooled_repeat.numpy()}, height=260),
                    key="cnn:pool:fig", config={"displayModeBar": False})
    m = st.columns(2)
    m[0].metric("Error of unpooling with switches (mean |x - x̂|)",
                f"{(pool.unpooled_switches - xp).abs().mean():.3f}",
                help="Mean absolute difference from the input, pixel values 0 to 1. Both lose the non-maxima.")
    m[1].metric("Error of unpooling by repetition (mean |x - x̂|)", f"{(pool.unpooled_repeat - xp).abs().mean():.3f}")

    st.subheader("Transposed convolution is a convolution over a zero-stuffed input")
    st.markdown("A transposed convolution (\"deconvolution\") with stride S makes a map bigger. It is the same as "
                "putting S - 1 zeros between the input's pixels, F - 1 - P zeros around them, and running an "
                "ordinary stride-1 convolution with the filter flipped. Both are computed below.")
    st.latex(r"W_{\text{out}} = (W-1)\,S - 2P + F")
    tc = st.columns(3)
    ts = tc[0].slider("Stride S", 1, 3, 2, key="cnn:tr:s")
    tf = tc[1].slider("Kernel F", 1, 4, 3, key="cnn:tr:f")
    tp = tc[2].slider("Padding P", 0, 3, 0, key="cnn:tr:p")
    g = torch.Generator().manual_seed(0)
    tx = torch.randint(1, 5, (1, 1, 3, 3), generator=g).float()
    tw = torch.randint(-2, 3, (1, 1, tf, tf), generator=g).float()
    with errors_shown():
        tr_ = cnn.transposed_as_conv(tx, tw, ts, tp)
        st.plotly_chart(cnn.grids_figure({"input 3x3": tx[0, 0].numpy(), "kernel": tw[0, 0].numpy(),
                                          "zero-stuffed and padded": tr_.stuffed[0, 0].numpy(),
                                          "conv2d(stuffed, flipped kernel)": tr_.via_conv[0, 0].numpy(),
                                          "conv_transpose2d(input, kernel)": tr_.direct[0, 0].numpy()}, height=300),
                        key="cnn:tr:fig", config={"displayModeBar": False})
        st.metric("Largest difference between the two results", f"{tr_.max_diff:.1e}",
                  help="max |conv_transpose2d(x, w) - conv2d(zero_stuff(x), flip(w))| over all output values.")


# -- 5. what the layers of a trained ImageNet network see ---------------------------------------------------------
rfs = cnn.lite0_receptive_fields()


@st.cache_data(show_spinner="Computing the feature maps ...", max_entries=32)
def _bb_maps(digest: str, _img):
    return cnn.backbone_maps(cnn.backbone_input(_img))


@st.fragment
def _backbone_section():
    """The backbone's maps of a picture (a fragment: an upload reruns only this part)."""
    st.markdown("EfficientNet-Lite0, trained on ImageNet (1.3 million photos, 1,000 classes), ships with the app. "
                "The lecture's point: early layers respond to edges, colours and fine textures; deeper layers, "
                "whose receptive fields cover much of the picture, respond to parts and objects. Judge for yourself "
                "from the maps, the patches and the pictures drawn by gradient ascent below.")
    v = st.columns([1, 2])
    photos = [n for n, (_, kind) in style.EXAMPLES.items() if kind == "photo"]
    vpick = v[0].selectbox("Picture", photos + [n for n in style.EXAMPLES if n not in photos], key="cnn:bb:pic")
    with v[0]:
        vup = upload_image("... or upload a picture", key="cnn:bb:up", min_side=32)
    vimg = vup if vup is not None else _example(vpick)
    thumb = vimg.convert("RGB")
    thumb.thumbnail((480, 480))
    v[0].image(np.asarray(thumb), caption="your upload" if vup is not None else vpick)

    with v[1], errors_shown():
        maps = _bb_maps(_digest(vimg), vimg)
        for name, label in ((cnn.SHALLOW, "shallow"), (cnn.MIDDLE, "middle"), (cnn.DEEP, "deep")):
            tiles, order = maps[name]
            image_grid(tiles, key=f"cnn:bb:{name}", ncols=8, download_name=f"{name}.png",
                       caption=f"{label.capitalize()} layer *{name}* ({cnn.LITE0_CHANNELS[name]} channels, "
                               f"{tiles.shape[2]}x{tiles.shape[3]} maps for a 224-pixel picture, receptive field "
                               f"{rfs[name]} px): its 8 channels with the highest mean activation, channels "
                               f"{', '.join(map(str, order))} from left to right.")



with tabs[2]:
    _walk_section()
with tabs[3]:
    _pool_section()
with tabs[4]:
    _backbone_section()
    st.subheader("What excites one channel")
    ch = st.columns([1, 1, 2])
    layer = ch[0].selectbox("Layer", list(cnn.LITE0_CHANNELS), index=list(cnn.LITE0_CHANNELS).index(cnn.MIDDLE),
                            key="cnn:ch:layer", format_func=lambda n: f"{n} (receptive field {rfs[n]} px)")
    channel = int(ch[1].number_input("Channel", 0, cnn.LITE0_CHANNELS[layer] - 1, 0, key=f"cnn:ch:{layer}"))
    with ch[2]:
        st.caption(f"Patches: 64x64 pieces of the {len(style.EXAMPLES)} built-in pictures (each centre-cropped to "
                   "256x256, cut every 32 pixels), ranked by this channel's mean activation.")
        want = cnn.patch_scores_ready() or st.toggle("Find the patches (a few seconds the first time)",
                                                      key="cnn:ch:go")
    if want:
        with errors_shown():
            if not cnn.patch_scores_ready():
                bar = st.progress(0.0, text="Running the network over the patches ...")
                cnn.patch_scores(layer, progress=lambda f: bar.progress(f, text="Running the network over the "
                                                                                f"patches: {f:.0%}"))
                bar.empty()
            patches, acts = cnn.top_patches(layer, channel, 12)
            image_grid(patches, key="cnn:ch:patches", ncols=12, titles=[f"{a:.2f}" for a in acts],
                       download_name=f"{layer}_ch{channel}_patches.png",
                       caption=f"The 12 patches that most activate channel {channel} of {layer} (number: its mean "
                               "activation over the patch).")

    st.markdown("**Gradient ascent**: start from faint noise and change the pixels to raise this channel's mean "
                "activation (with small random shifts each step, so it draws a pattern rather than pixel noise).")
    vis_cfg = cnn.VisConfig(layer=layer, channel=channel)

    def vis_live(trainer):
        pic = trainer.task.picture()
        image_grid(pic, key=draw_key("cnn:vis:live"), ncols=1, download_name=f"{layer}_ch{channel}.png",
                   caption=f"After {trainer.steps} steps: the picture that channel {channel} of {layer} responds "
                           f"to (mean activation {trainer.latest.get('activation', 0):.2f}).")

    vis = training_panel("cnn:vis", cnn.make_visualise_task, config=vis_cfg, steps=1000, seconds=5.0, max_seconds=60.0,
                         panels={"mean activation of the channel": ["activation"]}, live=vis_live, record_every=2,
                         label="Draw it")
