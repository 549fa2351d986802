"""Small shared widgets: the teaching header, error display, uploads and image grids with downloads."""

from __future__ import annotations

import contextlib
from typing import Sequence

import streamlit as st

from .. import debug, viz
from ..data import read_image, read_text
from ..device import describe_device, get_device
from ..errors import InputError
from .compat import leave_pages_folder_mode, start_session_janitor
from .present import presenting
from .present import style as present_style


def draw_key(prefix: str) -> str:
    """A fresh element key for a live drawing: a live view draws the same element several times within one script
    run (while a run is followed), and Streamlit needs every key in a run to be unique."""
    n = st.session_state.get(f"{prefix}:draws", 0) + 1
    st.session_state[f"{prefix}:draws"] = n
    return f"{prefix}:{n}"


def page_header(title: str, idea: str, formula: str | None = None, try_list: Sequence[str] = ()) -> None:
    """Title, two to four sentences on the idea, an optional formula and a 'what to try' list."""
    leave_pages_folder_mode()   # see compat.py
    debug.start_from_env()      # the load test's leak counters, only with $DLPLAY_DEBUG_COUNTS (dlplay/debug.py)
    start_session_janitor()     # closed tabs' sessions leave memory on time (compat.py)
    st.session_state["share:page"] = None    # until this page's share.link() says what its link holds
    present_style()
    if presenting():     # issue 26: one compact row, the explanation and the list folded beside the title
        cols = st.columns([5, 2, 2] if try_list else [5, 2], vertical_alignment="center")
        cols[0].title(title)
        idea_box = cols[1].expander("The idea", icon=":material/school:")
        try_place = cols[2] if try_list else None
    else:
        st.title(title)
        idea_box, try_place = contextlib.nullcontext(), st    # the list under the idea, as a page reads
    with idea_box:
        st.markdown(idea)
        if formula:
            st.latex(formula)
    if try_list:
        with try_place.expander("What to try", expanded=False):
            st.markdown("\n".join(f"- {t}" for t in try_list))


@st.cache_resource
def _device_text() -> str:
    try:
        return describe_device(get_device())
    except InputError as e:
        return f"CPU (DLPLAY_DEVICE ignored: {e})"


def device_badge() -> str:
    text = _device_text()
    if not presenting():    # presenter mode keeps the first screen for the figure (issue 26)
        st.caption(f"Computing on: **{text}**")
    return text


@contextlib.contextmanager
def errors_shown():
    """Show an InputError as a red box instead of a traceback; the rest of the page keeps working."""
    try:
        yield
    except InputError as e:
        st.error(str(e), icon=":material/error:")


def show_notes(notes: Sequence[str]) -> None:
    for n in notes:
        st.info(n, icon=":material/info:")


def upload_image(label: str, key: str, min_side: int = 1, help: str | None = None):
    """File uploader for images; returns an RGB PIL image or None. Problems are shown, never raised."""
    f = st.file_uploader(label, type=["jpg", "jpeg", "png", "webp", "gif", "bmp"], key=key, help=help)
    if f is None:
        return None
    notes: list[str] = []
    try:
        img = read_image(f.getvalue(), min_side=min_side, notes=notes)
    except InputError as e:
        st.error(f"{f.name}: {e}", icon=":material/error:")
        return None
    show_notes(notes)
    return img


def upload_text(label: str, key: str, types=("txt",)) -> str | None:
    f = st.file_uploader(label, type=list(types), key=key)
    if f is None:
        return None
    try:
        return read_text(f.getvalue())
    except InputError as e:
        st.error(f"{f.name}: {e}", icon=":material/error:")
        return None


def image_grid(images, *, key: str, ncols: int = 8, titles: Sequence[str] | None = None, title: str | None = None,
               caption: str | None = None, download_name: str = "images.png", height: int | None = None) -> None:
    """Show images as one plotly figure with a PNG download of the same grid (`height`: the figure's, in pixels)."""
    st.plotly_chart(viz.image_grid(images, ncols=ncols, titles=titles, title=title, height=height), key=f"{key}:fig",
                    config={"displayModeBar": False})
    c1, c2 = st.columns([3, 1])
    if caption:
        c1.caption(caption)
    c2.download_button("Download PNG", viz.to_png(images, ncols), file_name=download_name, mime="image/png",
                       key=f"{key}:png", on_click="ignore")
