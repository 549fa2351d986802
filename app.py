"""dlplay: the entry point. `streamlit run app.py`

Builds the sidebar navigation from dlplay.catalogue (grouped by lecture topic) and draws the home page.
"""

import streamlit as st

from dlplay import catalogue
from dlplay.runner import set_threads
from dlplay.ui import device_badge

st.set_page_config(page_title="dlplay", page_icon="🧪", layout="wide")


@st.cache_resource
def _threads() -> int:
    # Training and other long work run in the runner's worker processes, each with its own thread count; the web
    # server's own torch work (drawing views) takes one thread, so its OpenMP pool never spins against a run.
    return set_threads(1)


@st.cache_resource
def _workers() -> int:
    """Start the runner's worker processes with the server: each imports torch and the topics and compiles
    UMAP's numba code once ($DLPLAY_WARMUP=0 skips that), before the first student presses Train."""
    from dlplay.runner import runner
    return runner().prestart()


_workers()


_threads()


def home() -> None:
    st.title("dlplay: an unsupervised deep learning playground")
    st.markdown(
        "Every idea of the course as something you can train live and poke at: autoencoders and their variants, "
        "VAEs, GANs, word embeddings, t-SNE and UMAP, style transfer. Each page opens on a model trained in advance, "
        "so there is always something to look at; press **Train** to watch it learn from scratch in seconds.")
    device_badge()

    demos = catalogue.available()
    for i, d in enumerate(demos):
        if i % 3 == 0:   # one row of three cards at a time, so the cards of a row line up
            cols = st.columns(3)
        with cols[i % 3].container(border=True, height="stretch"):
            st.subheader(f"{d.icon} {d.title}")
            st.caption(d.group)
            st.markdown(d.idea)
            st.markdown(f"**Try:** {d.try_it}")
            st.page_link(str(d.path), label=f"Open {d.title}", icon=":material/arrow_forward:")

    with st.expander("How to use this in a lecture", expanded=True):
        st.markdown(
            "- **Open a page before you talk about it**: each one shows a trained model at once, so the first "
            "picture is ready while you explain the idea.\n"
            "- **Train live** with the training panel under each demo: the default budget is a few seconds on a "
            "laptop CPU. Write the **seed** on the board: the same seed and settings give the same model, so "
            "students can reproduce what you showed.\n"
            "- **Presets** (GAN Lab, Autoencoder Lab) set the knobs for one lesson and say what to watch.\n"
            "- **Everything works offline**: datasets and pretrained networks ship with the installed packages. "
            "MNIST and Fashion-MNIST appear when downloaded in advance with `python -m dlplay download mnist`.\n"
            "- **Students on the same URL** each get their own models; training runs take turns for the CPU "
            "cores, and the page says when a run is waiting.\n"
            "- **Download** any image grid as PNG and trained models as checkpoints from the page that made them.\n"
            "- Press **R** to rerun a page; the sidebar collapses for a bigger figure on the projector.")


pages = {"": [st.Page(home, title="Home", icon=":material/home:", default=True, url_path="home")]}
for d in catalogue.available():
    pages.setdefault(d.group, []).append(st.Page(str(d.path), title=d.title, icon=d.icon, url_path=d.url_path))

st.navigation(pages).run()
