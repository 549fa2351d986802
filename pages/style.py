"""Style transfer and perceptual features: upload two pictures, watch one take the other's style."""

import streamlit as st
import torch

from dlplay import backbones, style, viz
from dlplay.device import get_device
from dlplay.errors import InputError
from dlplay.ui import device_badge, errors_shown, image_grid, page_header, present, show_notes, training_panel
from dlplay.ui import share

# Default budgets are step counts (issue 30): a busy lecture server trains the same model as an idle laptop; the
# panel shows the seconds a run took here. Rates measured on one thread of the 2-core laptop, 7 Dec.
STYLE_STEPS = 150     # the steps the page's claims are measured at

page_header(
    "Style transfer",
    "A CNN trained on ImageNet describes a picture at many layers. Deeper layers say *what* is where (the content); "
    "the **Gram matrices** of a layer's feature maps say which features fire together anywhere in the picture, "
    "forgetting where: that is texture, the *style*. Style transfer (Gatys et al., 2016) changes the pixels of a "
    "picture by gradient descent until its deep features match one picture and its Gram matrices another.",
    formula=r"\begin{gathered}G^l_{ij}=\tfrac{1}{C_l M_l}\textstyle\sum_k F^l_{ik}F^l_{jk}\\"
            r"\mathcal{L}(x)=\alpha\,\|F^{c}(x)-F^{c}(\text{content})\|^2+\beta\textstyle\sum_{l}"
            r"\|G^l(x)-G^l(\text{style})\|^2+\gamma\,\mathrm{TV}(x)\end{gathered}",
    try_list=["Press **Train** with the defaults: the cat takes on the brush strokes within seconds; the style loss "
              "falls more than tenfold.",
              "Set the style weight to 0.1, then to 100: how much of the cat survives?",
              "Start from noise instead of the content picture: the same losses, a different result.",
              "Use only the *stem* layer for style: the fine grain transfers (the stem's Gram error falls 6-21x), "
              "the larger strokes do not (all four layers cut the deeper layers' Gram errors 12-42x; the stem alone "
              "removes at most 8% of that). The colours come from the start: start from the *content* as it "
              "is, and the stem alone moves the colour means to the style's (cat: mean-RGB gap 0.37 to 0.02).",
              "Upload a photo from your phone and a painting, and download the result.",
              "Below, shift a picture by 4 pixels and compare the two ratios: deep features see the shift as much "
              "nearer than a different picture; pixels much less so."])
device_badge()
DEVICE = get_device()
MAX_SIZE = style.max_size(DEVICE)


@st.cache_resource(show_spinner="Loading the pretrained network ...")
def _backbone(name: str):
    return backbones.get_backbone(name)


available = backbones.available_backbones()


def _picture(label: str, key: str, default: str):
    """A built-in example or an upload; returns (the example's name, the upload's bytes or b"", the picture).
    Uploads are decoded once per file by dlplay.style.read_picture (cached by content, at most 8 megapixels)."""
    names = list(style.EXAMPLES)
    choice = st.selectbox(f"{label}: built-in example", names, index=names.index(default), key=f"st:{key}:ex")
    with present.secondary(f"Upload your own {label.lower()}", icon=":material/upload:"):
        up = st.file_uploader(f"... or upload your own {label.lower()} (JPEG/PNG/WebP, up to "
                              f"{style.MAX_MEGAPIXELS} megapixels)", type=["jpg", "jpeg", "png", "webp", "gif", "bmp"],
                              key=f"st:{key}:up", help=f"At least {style.MIN_SIDE} px per side. The longer side is "
                              "resized to the output size, keeping the shape; beyond 3:1 the centre is cropped.")
    if up is not None:
        data = up.getvalue()
        try:
            img, notes = style.read_picture(data)
        except InputError as e:
            st.error(f"{up.name}: {e}", icon=":material/error:")
        else:
            show_notes(notes)
            return choice, data, img, "your upload"
    return choice, b"", style.example(choice), choice


def _shown_width(img):
    """Presenter mode: the pictures at most 190 px tall, so Train and the growing result fit under them."""
    return max(80, int(190 * img.width / img.height)) if present.presenting() else "stretch"


# presenter mode (issue 26): the pickers and settings on the left; on the right the two pictures side by side, Train
# under them and the result as it grows
ctl, stage = present.stage()
cols = stage.columns(2)
with ctl if present.presenting() else cols[0]:
    content_name, content_up, content_img, content_label = _picture("Content picture", "content",
                                                                     style.DEFAULT_CONTENT)
with cols[0]:
    st.image(content_img, width=_shown_width(content_img))
    st.caption(f"Content: {content_label} ({content_img.width} x {content_img.height} px)")
with ctl if present.presenting() else cols[1]:
    style_name, style_up, style_img, style_label = _picture("Style picture", "style", style.DEFAULT_STYLE)
with cols[1]:
    st.image(style_img, width=_shown_width(style_img))
    st.caption(f"Style: {style_label} ({style_img.width} x {style_img.height} px)")

share.link("style", [share.choice("backbone", "st:backbone", [n for n in backbones.BACKBONES if not available[n]]),
                     share.integer("size", "st:size", style.MIN_SIZE, MAX_SIZE, 256 if DEVICE.type == "cpu" else 512),
                     share.choice("optimizer", "st:opt", ["adam", "lbfgs"]),
                     share.number("content_weight", "st:cw", 0.0, 1e4, 1.0),
                     share.number("style_weight", "st:sw", 0.0, 1e4, 10.0),
                     share.number("tv_weight", "st:tv", 0.0, 1e4, 2.0),
                     share.choice("init", "st:init", list(style.INITS)),
                     share.number("lr", "st:lr", 0.001, 0.5, style.StyleConfig.lr),
                     share.integer("schedule", "st:sched", 0, style.MAX_STEPS, style.StyleConfig.schedule_steps),
                     *share.panel("st:run", steps=STYLE_STEPS, seconds=15.0)])
# -- settings ---------------------------------------------------------------------------------------------------
with ctl:
    with st.expander("Settings: network, size, weights, layers", expanded=False):
        k = st.columns(3)
        bb_names = [n for n in backbones.BACKBONES if not available[n]]
        backbone = k[0].selectbox("Network", bb_names, key="st:backbone",
                                  help="EfficientNet-Lite0's ImageNet weights ship with an installed package (offline).")
        if available["vgg19"]:
            k[0].caption("VGG19 is the network of the original paper (slower: about 20 times the computation).")
        else:
            k[0].caption(available["vgg19"])
        size = k[1].slider("Output size (longer side, px)", style.MIN_SIZE, MAX_SIZE, 256 if DEVICE.type == "cpu" else 512,
                           32, key="st:size", help=f"Up to {MAX_SIZE} px on this device; time grows with the pixel count.")
        optimizer = k[2].selectbox("Optimiser", ["adam", "lbfgs"], key="st:opt",
                                   help="Adam: small, steady steps. L-BFGS (the paper's choice): fewer, bigger steps.")
        k = st.columns(4)
        content_weight = k[0].number_input("Content weight α", 0.0, 1e4, 1.0, key="st:cw")
        style_weight = k[1].number_input("Style weight β", 0.0, 1e4, 10.0, key="st:sw")
        tv_weight = k[2].number_input("Smoothness (TV) weight γ", 0.0, 1e4, 2.0, key="st:tv")
        init = k[3].radio("Start from", style.INITS, key="st:init",
                          help="The content picture recoloured to the style picture's colour means and spreads (the "
                               "default: the optimiser then only has the texture to do), the content picture as it is, "
                               "or noise.")
        bb_info = _backbone(backbone)
        k = st.columns([2, 1, 1, 1])
        style_layers = k[0].multiselect("Layers that carry style (Gram matrices)", bb_info.layers,
                                        default=bb_info.style_layers, key=f"st:sl:{backbone}")
        content_layer = k[1].selectbox("Layer that carries content", bb_info.layers,
                                       index=bb_info.layers.index(bb_info.content_layer), key=f"st:cl:{backbone}")
        lr = k[2].number_input("Adam step size", 0.001, 0.5, style.StyleConfig.lr, format="%.3f", key="st:lr")
        schedule = k[3].number_input("Step-size schedule (steps)", 0, style.MAX_STEPS, style.StyleConfig.schedule_steps,
                                     key="st:sched", help="Adam's step size falls along a cosine to a twentieth over "
                                     "this many steps (0: constant).")
        if bb_info.notes:
            st.caption("Layers: " + "; ".join(f"**{n}** {d}" for n, d in bb_info.notes.items()))

cfg = style.StyleConfig(content=content_name, style=style_name, content_upload=content_up, style_upload=style_up,
                        size=int(size), backbone=backbone, optimizer=optimizer, lr=float(lr),
                        schedule_steps=int(schedule), content_weight=float(content_weight),
                        style_weight=float(style_weight), tv_weight=float(tv_weight),
                        style_layers=tuple(style_layers), content_layer=content_layer, init=init)


def live(trainer):
    img = trainer.task.result()
    st.image(style.to_png(img), caption=f"The picture after {trainer.steps} steps "
             f"({img.shape[2]} x {img.shape[1]} px)", width=present.height(min(640, max(320, img.shape[2] * 2)), 320))


with ctl:
    st.subheader("Transfer the style")
    with stage:
        trainer = training_panel(
            "st:run", style.make_task, config=cfg, steps=STYLE_STEPS, seconds=15.0, max_seconds=120.0,
            panels={"content loss (relative)": ["content"], "style loss (relative)": ["style"],
                    "smoothness (TV)": ["tv"]}, live=live, record_every=2, label="Train")
    share.code_behind("st:run", style.make_task, cfg, command='style', steps=STYLE_STEPS, seconds=15.0, title='Style transfer')
    if trainer is None:
        st.info("Press **Train**: the picture below will change as the optimiser works (150 steps at 256 px take about "
                "10-30 s on a laptop CPU).", icon=":material/info:")
    else:
        show_notes(trainer.task.notes)
        res = trainer.task.result()
        h = trainer.history
        if h:
            c = [*st.columns(2), *st.columns(2)] if present.presenting() else st.columns(4)
            ref = st.session_state.setdefault("st:ref", {})
            key = id(trainer.task)
            if key not in ref:
                ref.clear()
                ref[key] = trainer.task.reference_losses()
            r = ref[key]
            c[0].metric("style loss now (relative Gram error)", f"{h[-1]['style']:.3g}",
                        help="How far the picture's Gram matrices are from the style picture's (0 = same style).")
            c[1].metric("style loss of the content picture itself", f"{r['style_of_content']:.3g}",
                        delta=f"{r['style_of_content'] / max(h[-1]['style'], 1e-12):.1f}x lower now",
                        delta_color="off", help="Where the style loss starts from the photo as it is.")
            c[2].metric("content loss now", f"{h[-1]['content']:.3g}",
                        help="How far its deep features are from the content picture's (0 = same content).")
            c[3].metric("content loss of the style picture itself", f"{r['content_of_style']:.3g}",
                        help="The scale to compare with: a picture with none of the content scores about this.")
        st.download_button("Download the result (PNG)", style.to_png(res), file_name="style_transfer.png",
                           mime="image/png", key="st:download", on_click="ignore")

# -- Gram matrices --------------------------------------------------------------------------------------------------
st.subheader("Style = correlations between features")
st.markdown("Each feature map below is one channel of the chosen layer for the **style picture**. The Gram matrix "
            "entry G_ij is the average over all positions of map i times map j: it says which patterns appear "
            "together, not where.")
g_layer = st.select_slider("Layer", bb_info.layers[:-1], value=bb_info.style_layers[1], key=f"st:glayer:{backbone}")


@st.cache_data(show_spinner="Computing the Gram matrix ...", max_entries=16)
def _gram(name: str, upload: bytes, layer: str, backbone: str):
    img = style.read_picture(upload)[0] if upload else style.example(name)
    return style.gram_view(img, layer, size=192, n_maps=8, backbone=backbone)


with errors_shown():
    gv = _gram(style_name, style_up, g_layer, backbone)
    c = st.columns([1.1, 1])
    c[0].plotly_chart(style.gram_figure(gv["gram"], f"Gram matrix of {g_layer} ({gv['shape'][0]} features)"),
                      key="st:gramfig")
    with c[1]:
        image_grid(gv["maps"], key="st:maps", ncols=4, titles=[f"feature {i}" for i in gv["channels"]],
                   caption=f"The 8 most active of {gv['shape'][0]} feature maps at {g_layer} "
                           f"({gv['shape'][2]} x {gv['shape'][1]}), each scaled to black-white.",
                   download_name=f"feature_maps_{g_layer}.png")

# -- which layer carries what ---------------------------------------------------------------------------------------
st.subheader("Which layer carries what")
st.markdown("Four pictures grown from the same noise, 100 steps at 128 px: matching only the content features of a "
            "shallow or a deep layer (no style term), and only the Gram matrices of one or of several layers (no "
            "content term). The number under each is its pixel MSE to the picture it matched: the shallow layer "
            "gives the pixels back (MSE near 0), the deep layer only the layout of the large shapes (for the cat: eyes, "
            "ears, outline) drawn in coloured noise, with a far larger MSE: colours and fine detail are not in the "
            "deep features. The style pictures copy no layout at all: one shallow layer gives specks of the style's "
            "colours, several layers give its strokes.")
if st.button("Grow the four pictures (128 px, about 10-40 s on a CPU)", key="st:layers"):
    bar = st.progress(0.0, text="Optimising picture 1 of 4 ...")
    try:
        with st.spinner("Optimising four pictures ..."):
            st.session_state["st:layers:res"] = style.layer_comparison(
                content_img, style_img, size=128, steps=100, backbone=backbone,
                callback=lambda i, n: bar.progress(i / n, text=f"Optimised {i} of {n} pictures ..."))
    except InputError as e:
        st.error(str(e), icon=":material/error:")
    except Exception as e:   # never a traceback: say what failed, in a sentence
        st.error(f"Growing the four pictures failed ({type(e).__name__}: {e}). Try other pictures or a smaller "
                 "size; the rest of the page keeps working.", icon=":material/error:")
    bar.empty()
if st.session_state.get("st:layers:res"):
    res4 = st.session_state["st:layers:res"]
    image_grid(torch.stack([r.image for r in res4]), key="st:layersgrid", ncols=4,
               titles=[r.title for r in res4], download_name="which_layer.png",
               caption=" | ".join(f"{r.title}: {r.caption}" for r in res4))

# -- perceptual distance ---------------------------------------------------------------------------------------------
st.subheader("Why pixel distance is a poor image distance")
st.markdown("Move the camera a few pixels and most pixels change a little, so the pixel MSE to the shifted copy is "
            "a sizeable fraction of the MSE to a completely different picture; a pre-final layer of the network "
            "sees the same things, so there the shifted copy is far nearer than the different picture. Read the "
            "**ratio** (shifted / different) of each column. Feature distance: unit-normalise the feature vector "
            "at each position, then average the squared differences (0 = identical, about 2 = unrelated).")
p = st.columns(3)
p_img = p[0].selectbox("Picture", list(style.EXAMPLES), index=list(style.EXAMPLES).index("gravel (scikit-image)"),
                       key="st:p:img")
p_other = p[1].selectbox("A different picture", list(style.EXAMPLES),
                         index=list(style.EXAMPLES).index("bricks (scikit-image)"), key="st:p:other")
shift = p[2].slider("Shift (pixels)", 1, 16, 4, key="st:p:shift")


@st.cache_data(show_spinner="Comparing ...", max_entries=32)
def _table(a: str, b: str, s: int, backbone: str):
    return style.perceptual_table(style.example(a), style.example(b), shifts=(1, s) if s != 1 else (1,),
                                  backbone=backbone, other_name=f"different: {b.split(' (')[0]}")


with errors_shown():
    if p_img == p_other:
        raise InputError("Choose two different pictures to compare the shift with.")
    rows = _table(p_img, p_other, shift, backbone)
    st.dataframe(rows, hide_index=True, width="stretch")
    r = style.shift_ratios(rows, shift)
    st.markdown("Distance to the " + f"{shift}-px shift as a share of the distance to the different picture: "
                + " | ".join(f"**{k}**: {v:.2f}" for k, v in r.items()))
    deep = next(k for k in r if "deep" in k)
    st.caption(f"Here the deep features put the shifted copy {1 / max(r[deep], 1e-9):.0f}x nearer than the different "
               f"picture, pixels {1 / max(r['pixel MSE'], 1e-9):.1f}x"
               + (" (below 1x: pixels call the shifted copy the *farther* one)" if r["pixel MSE"] >= 1 else "")
               + ". On most pairs of built-in pictures pixels too rank the shift nearer (the default pair is one of "
                 "the few where they do not); what holds on every pair measured is that the deep ratio is far "
                 "smaller than the pixel ratio (tests/test_style.py, bench/bench_style.py).")
