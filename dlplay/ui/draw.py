"""Your own input (issue 26): draw a digit on a canvas (streamlit-drawable-canvas) or photograph one written on
paper (st.camera_input); the page's model then classifies, reconstructs or places it, next to its nearest training
images, with a note when it is far from anything seen in training. The scaling is dlplay.data.drawing's."""

from __future__ import annotations

from typing import Callable

import numpy as np
import streamlit as st
import torch

from .. import viz
from ..data import drawing
from ..errors import InputError

CANVAS = 280          # canvas side in pixels; strokes 26 px wide become about 4 of the 32 bitmap pixels, as in the data


def digit_input(key: str) -> torch.Tensor | None:
    """A canvas or the camera; returns the digit as the dataset has it, (1, 1, 8, 8) in [0, 1], or None."""
    src = st.radio("Your digit", ["draw", "photo"], horizontal=True, key=f"{key}:src",
                   format_func={"draw": "draw it", "photo": "photograph it (camera)"}.get,
                   label_visibility="collapsed")
    if f"{key}:test_image" in st.session_state:        # tests hand a drawing in here (AppTest cannot draw)
        img, ink = st.session_state[f"{key}:test_image"], "auto"
    elif src == "draw":
        from streamlit_drawable_canvas import st_canvas
        res = st_canvas(stroke_width=26, stroke_color="#FFFFFF", background_color="#000000", height=CANVAS,
                        width=CANVAS, drawing_mode="freedraw", return_image_data=True, key=f"{key}:canvas")
        try:
            img = None if res is None else res.image_data
        except Exception:   # noqa: BLE001  (nothing sent yet)
            img = None
        ink = "light"
        st.caption("Draw one digit, large, with the mouse or a finger; the bin icon under the canvas clears it.")
    else:
        f = st.camera_input("A digit written large in thick dark pen on white paper", key=f"{key}:cam")
        img, ink = (f.getvalue() if f is not None else None), "auto"
    if img is None:
        return None
    try:
        x = drawing.to_digit(img, ink)
    except InputError as e:
        st.info(str(e), icon=":material/draw:")
        return None
    st.image(viz.tile(x, 1, pad=0), width=112, caption="What the model sees: 8x8, scaled like the dataset")
    return x


def digit_panel(key: str, *, classify: Callable[[torch.Tensor], np.ndarray] | None = None,
                reconstruct: Callable[[torch.Tensor], torch.Tensor] | None = None,
                encode: Callable[[torch.Tensor], np.ndarray] | None = None, train=None, test=None,
                class_names=None, code_name: str = "code") -> torch.Tensor | None:
    """Your digit through the page's model: `classify(x)` -> class probabilities; `reconstruct(x)` -> images;
    `encode(x)` -> codes (N, K), placed among the codes of `train` (an ImageData split: x_train, y_train) with its
    nearest training images, and checked against `test` (how far real test digits lie from theirs)."""
    left, right = st.columns([1, 2])
    with left:
        x = digit_input(key)
    if x is None:
        right.caption("Your digit's results appear here.")
        return None
    with right:
        if classify is not None:
            p = np.asarray(classify(x)).reshape(-1)
            top = np.argsort(p)[::-1][:3]
            names = list(class_names or range(len(p)))
            c = st.columns(3)
            for col, k in zip(c, top):
                col.metric("Classified as" if k == top[0] else "next", str(names[k]), f"{p[k]:.0%} probability",
                           delta_color="off")
        if reconstruct is not None:
            rec = reconstruct(x)
            err = float(((rec - x) ** 2).mean())
            st.image(viz.tile(torch.cat([x, rec]), 2), width=240,
                     caption=f"Your digit and its reconstruction (pixel MSE {err:.4f})")
        if encode is not None and train is not None:
            train_codes = np.asarray(encode(train.x_train))
            z = np.asarray(encode(x)).reshape(-1)
            idx, dist = drawing.nearest(train_codes, z, 8)
            st.plotly_chart(viz.code_map_with_input(train_codes, train.y_train.numpy(), class_names, z, idx,
                                                    title=f"Your digit on the {code_name} map of the training images"),
                            key=f"{key}:map", config={"displayModeBar": False})
            st.image(viz.tile(train.x_train[idx], 8), width=480,
                     caption="Its 8 nearest training images by " + code_name + ": labels "
                             + ", ".join(str((class_names or [])[int(train.y_train[i])] if class_names else
                                             int(train.y_train[i])) for i in idx))
            if test is not None:
                d_z, share = drawing.novelty(train_codes, np.asarray(encode(test)), z)
                if share < 0.02:
                    st.warning(f"Your digit is far from anything seen in training: its nearest training "
                               f"{code_name} is {d_z:.2f} away, further than for {1 - share:.0%} of the real test "
                               "digits. Expect the model to be unsure about it.", icon=":material/explore_off:")
                else:
                    st.caption(f"Distance to the nearest training {code_name}: {d_z:.2f}; {share:.0%} of the real "
                               "test digits lie further from theirs, so it looks like the training data.")
    return x
