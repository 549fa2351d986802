"""Embedding Explorer: PCA, t-SNE, UMAP, MDS, Isomap and LLE on pixels, codes, CNN features, words or a CSV."""

import hashlib

import numpy as np
import streamlit as st

from dlplay import embed as E
from dlplay import limits
from dlplay.ui import (device_badge, errors_shown, get_trainer, image_grid, page_header, published_vectors,
                       show_notes, training_panel)
from dlplay.ui import present, share

ss = st.session_state

page_header(
    "Embedding Explorer",
    "Each row of data is a point in a space with dozens or thousands of dimensions. An embedding method places the "
    "points in 2-D or 3-D so that what was close stays close: PCA keeps the directions of largest variance, MDS "
    "tries to keep every distance, Isomap and LLE follow the neighbour graph, and t-SNE and UMAP keep each point's "
    "nearest neighbours. t-SNE moves the points to make neighbour probabilities in the plot, q, match those in the "
    "data, p:",
    formula=r"C=\mathrm{KL}(P\,\|\,Q)=\sum_{i\neq j} p_{ij}\log\frac{p_{ij}}{q_{ij}},\qquad "
            r"q_{ij}=\frac{(1+\|y_i-y_j\|^2)^{-1}}{\sum_{k\neq l}(1+\|y_k-y_l\|^2)^{-1}}",
    try_list=["Digits' pixels with PCA, then switch to t-SNE and watch it animate into ten clusters, then UMAP.",
              "Click a point: its nearest neighbours in the original space and in the layout appear on the right.",
              "Compare the quality numbers of PCA and t-SNE: trustworthiness and the share of neighbours kept.",
              "Switch the source to autoencoder codes or CNN features of the same digits: do the clusters get cleaner?",
              "Scroll to the three-perplexity lesson: cluster sizes and gaps in a t-SNE plot mean little.",
              "Upload your own CSV (a label column is optional) or .npy table of up to 50,000 rows."])
device_badge()
if not present.presenting():   # presenter mode keeps the first screen for the layout (issue 26)
    st.caption("t-SNE (openTSNE), UMAP (umap-learn) and the scikit-learn methods run on the CPU; CNN features use "
               "the device above.")




@st.cache_resource(show_spinner=False)
def _missing() -> dict:
    return {n: E.missing_piece(n) for n in E.source_names()}


@st.cache_resource(show_spinner="Computing the vectors of this source (once per server) ...")
def _builtin(name: str) -> E.Source:
    return E.load_source(name)


LABELS = {"digits": "Digits: pixels (64 numbers)", "digits-ae": "Digits: autoencoder codes (shipped model)",
          "digits-vae": "Digits: VAE codes (shipped model)", "digits-cnn": "Digits: CNN features (EfficientNet-Lite0)",
          "words": "Word vectors (shipped word2vec)", "upload": "Upload a table (CSV / TSV / .npy)"}
missing = _missing()
published = published_vectors()
options = [n for n in E.source_names() if missing[n] is None] + [f"session:{k}" for k in published] + ["upload"]
label = lambda o: LABELS.get(o) or (f"This session: {o[8:]}" if o.startswith("session:") else  # noqa: E731
                                    f"{o.replace('-cnn', '')}: {'CNN features' if o.endswith('-cnn') else 'pixels'}")
not_yet = [f"{LABELS.get(n, n)}: {why}" for n, why in missing.items() if why and not n.startswith(("mnist", "fashion"))]

share.link("embeddings", [share.choice("source", "emb:source", options),
                          share.choice("method", "emb:method", list(E.METHODS)),
                          share.choice("dim", "emb:dim", [2, 3]), share.integer("perplexity", "emb:perp", 2, 100, 30),
                          share.choice("lr", "emb:lr", ["auto", 10, 50, 100, 200, 500, 1000, 2000, 5000], "auto"),
                          share.integer("exaggeration", "emb:exag", 1, 50, 12),
                          share.integer("iterations", "emb:iter", 50, 2000, 500),
                          share.integer("n_neighbors", "emb:unn", 2, 200, 15),
                          share.number("min_dist", "emb:umd", 0.0, 1.0, 0.1),
                          share.integer("graph_neighbors", "emb:knn", 3, 100, 10), *share.panel("emb:run")])
# presenter mode (issue 26): the source and method on the left; Run and the layout (live, then final) on the right
ctl, stage = present.stage()
with ctl:
    c = [*st.columns(2), *st.columns([1, 1.4])] if present.presenting() else st.columns([2.2, 2.2, 0.8, 1.2, 1])
    choice = c[0].selectbox("Source", options, format_func=label, key="emb:source",
                            help="What to embed. Models you train on the Autoencoder, VAE or Words page appear here too.")
    method = c[1].selectbox("Method", list(E.METHODS), format_func=E.METHODS.get, key="emb:method")
    dim = c[2].radio("Dimensions", [2, 3], horizontal=True, key="emb:dim")
    seed = int(st.session_state.get("emb:run:seed", 0))   # the run panel's seed: the sample and the layout
    if not_yet:
        st.caption("Not available in this version yet: " + "; ".join(not_yet) + ".")


def _session_source(name: str) -> E.Source:
    v = published[name]
    return E.Source(name, np.asarray(v.vectors, np.float32), v.labels, v.class_names, v.hover, v.images,
                    v.description)


def _upload_source():
    f = st.file_uploader("A table: one row per point (CSV, TSV or .npy, up to 50,000 rows, 20 MB). A column named "
                         "label / class / word (or any text column) colours and names the points.",
                         type=["csv", "tsv", "txt", "npy"], key="emb:upload")
    drop = st.checkbox("Drop rows with missing values (NaN or empty cells)", key="emb:drop")
    if f is None:
        st.info("Upload a table to embed it; until then the digits are shown.", icon=":material/info:")
        return _builtin("digits"), "digits"
    cache = st.session_state.setdefault("emb:tables", {})
    k = (f.file_id, drop)
    if k not in cache:
        cache.clear()  # one table per session in memory
        cache[k] = E.read_table(f.getvalue(), f.name, drop_missing=drop).to_source(f.name)
    return cache[k], f"upload:{f.file_id}:{drop}"


view = None     # the (sampled) source once it loads; the lesson below can use it
with errors_shown():
    with ctl:
        if choice == "upload":
            src, src_id = _upload_source()
        elif choice.startswith("session:"):
            src = _session_source(choice[8:])
            src_id = f"{choice}:{hashlib.sha1(src.x.tobytes()).hexdigest()[:12]}"
        else:
            src, src_id = _builtin(choice), choice
        show_notes(src.notes)

        # Colour by: the labels, or any other column of an uploaded table.
        colour_opts = (["label"] if src.labels is not None else []) + list(src.columns) + ["nothing"]
        colour_by = c[3].selectbox("Colour by", colour_opts, key="emb:colour")
        colour = src.labels if colour_by == "label" else src.columns.get(colour_by)

        # Method knobs, bounded here and again in the backend.
        knobs: dict = {}
        k = [*st.columns(2), *st.columns(2), st.container()] if present.presenting() else st.columns(5)
        if method == "tsne":
            knobs["perplexity"] = k[0].slider("Perplexity (about how many neighbours count)", 2, 100, 30, key="emb:perp")
            lr = k[1].select_slider("Learning rate", ["auto", 10, 50, 100, 200, 500, 1000, 2000, 5000], "auto",
                                    key="emb:lr", help="'auto' = n / exaggeration (Belkina et al. 2019).")
            knobs["learning_rate"] = lr
            knobs["early_exaggeration"] = k[2].slider("Early exaggeration (first 250 iterations)", 1, 50, 12,
                                                      key="emb:exag")
            knobs["n_iter"] = k[3].slider("Iterations after exaggeration", 50, 2000, 500, 50, key="emb:iter")
        elif method == "umap":
            knobs["n_neighbors"] = k[0].slider("n_neighbors (local versus global)", 2, 200, 15, key="emb:unn")
            knobs["min_dist"] = k[1].slider("min_dist (how tightly points pack)", 0.0, 1.0, 0.1, 0.05, key="emb:umd")
        elif method in ("isomap", "lle"):
            knobs["n_neighbors"] = k[0].slider("Neighbours in the graph", 3, 100, 10, key="emb:knn")
        default_cap = {"mds": 1000, "isomap": 3000, "lle": 3000}.get(method, 10_000)
        cap = E.MAX_POINTS[method]
        n_use = len(src)
        if len(src) > 2000 or len(src) > min(cap, default_cap):
            n_use = k[4].slider(f"Points (random sample, at most {cap:,})", 100, min(len(src), cap),
                                min(len(src), cap, default_cap), 100, key=f"emb:n:{method}")
        idx = E.sample_indices(len(src), method, int(seed), n_use)
        view = src if len(idx) == len(src) else src.take(idx)
        if len(idx) < len(src):
            st.caption(f"Using a random sample of {len(idx):,} of the {len(src):,} points (seed {seed}).")
        st.caption(f"**Source:** {src.description}.")

    # ---- the layout: a run like any training run (in a worker process, through the shared panel); t-SNE animates
    cfg = E.EmbedConfig(data=E.Vectors.of(view.x), method=method, dim=int(dim), **knobs)
    live_idx = np.arange(len(view)) if len(view) <= 4000 else np.sort(
        np.random.default_rng(0).choice(len(view), 4000, replace=False))
    col = None if colour is None else np.asarray(colour)[idx]

    def live(tr):
        e = tr.task.emb
        if e.embedding_ is None or e.done_ or get_trainer("emb:run") is None:
            return
        ss["emb:frame"] = ss.get("emb:frame", 0) + 1
        fig = E.layout_figure(e.embedding_[live_idx], colour=None if col is None else col[live_idx],
                              colour_name=colour_by, class_names=src.class_names,
                              title=f"t-SNE, iteration {e.iteration_} of {e.total_iterations}",
                              height=present.height(640, 470))
        st.plotly_chart(fig, key=f"emb:live:{ss['emb:frame']}", config={"displayModeBar": False})

    def status(tr):
        e = tr.task.emb
        if e.method == "tsne" and not e.done_:
            kl = f", KL divergence {e.kl_:.3f}" if np.isfinite(e.kl_) else ""
            return f"t-SNE iteration {e.iteration_} of {e.total_iterations}{kl} ({e.seconds_:.1f} s)"
        return f"{E.METHODS[e.method].split(' (')[0]}: " + ("done" if e.done_ else "computing") + \
            f" in {e.seconds_:.1f} s"

    with ctl:
        if method == "umap":
            st.caption("UMAP's numba code is compiled once per training process when the server starts (about 12 s); "
                       "a UMAP asked for in that time waits for it.")
    with stage:
        tr = training_panel("emb:run", E.make_task, config=cfg, seconds=float(limits.MAX_RUN_SECONDS),
                            max_seconds=float(limits.MAX_RUN_SECONDS), live=live, label="Run", autostart=True,
                            show_budget=False, status=status)
    with ctl:
        share.code_behind("emb:run", E.make_task, cfg,
                          command='embed', seconds=float(limits.MAX_RUN_SECONDS), title='Embedding Explorer')
    emb = tr.task.emb if tr is not None else None
    show_notes(emb.notes_ if emb is not None else [])
    coords = None if emb is None else emb.embedding_
    if coords is not None:
        qkey = (cfg, int(seed), emb.iteration_)
        if ss.get("emb:quality", (None,))[0] != qkey:
            ss["emb:quality"] = (qkey, E.quality(view.x, coords, seed=int(seed)))
        q = ss["emb:quality"][1]

        # ---- selection: a click on the plot, or a row number / search below it
        ev = st.session_state.get("emb:plot")
        pts = (ev or {}).get("selection", {}).get("points", []) if ev else []
        if pts and pts[0].get("customdata") is not None:
            clicked = int(np.ravel(pts[0]["customdata"])[0])
            if st.session_state.get("emb:last_click") != clicked:
                st.session_state["emb:last_click"] = clicked
                st.session_state["emb:point"] = clicked
        left, right = (stage, st.container()) if present.presenting() else st.columns([2.3, 1])
        s = right.columns(2)
        query = s[0].text_input("Search (label, word, #row)", key="emb:search")
        sel = s[1].number_input("Selected point (row)", -1, len(view) - 1, -1, key="emb:point",
                                help="-1: none. Clicking a point sets it.")
        sel = None if sel < 0 else int(sel)
        hover = view.hover
        matches = None
        if query.strip():
            qs = query.strip().lower().lstrip("#")
            texts = hover or [view.hover_text(i) for i in range(len(view))]
            matches = np.array([i for i, t in enumerate(texts) if qs in str(t).lower() or qs == str(i)][:500], int)
            right.caption(f"{len(matches)} point(s) match {query!r}" + (" (first 500 shown)" if len(matches) == 500
                                                                         else ""))
        nb_x = nb_y = None
        if sel is not None:
            nb_x, nb_y = E.neighbours(view.x, coords, sel, k=8)
        thumbs = None
        if view.images is not None and dim == 2:
            if (ctl if present.presenting() else left).toggle("Draw the images on the map (up to 300 spread-out points)",
                                                               key="emb:thumbs"):
                t_idx = E.thumbnail_sample(coords, 300, int(seed))
                thumbs = (t_idx, view.images[t_idx])
        state = "" if emb.done_ else f" (stopped at iteration {emb.iteration_} of {emb.total_iterations})"
        title = f"{E.METHODS[method].split(' (')[0]} of {len(view):,} points{state}"
        fig = E.layout_figure(coords, colour=col, colour_name=colour_by if colour is not None else "",
                              class_names=src.class_names, hover=hover, title=title, selected=sel,
                              neighbours_idx=nb_y, highlight=matches, thumbnails=thumbs,
                              height=present.height(640, 470))
        with left:
            st.plotly_chart(fig, key="emb:plot", on_select="rerun", selection_mode="points",
                            config={"toImageButtonOptions": {"format": "png", "scale": 2, "filename": "embedding"}})
            st.caption("Click a point (2-D) or type a row number to see its neighbours; hover shows the "
                       "label or word. Drag to zoom, double-click to reset." +
                       (" In 3-D, drag turns the view." if dim == 3 else ""))
        m = right.columns(2)
        m[0].metric("Trustworthiness", f"{q['trustworthiness']:.3f}",
                    help=f"scikit-learn, k = {q['k']}: 1 = no point has strangers among its k nearest in the layout. "
                         + (f"Computed on a random sample of {q['n_used']:,} points." if q["n_used"] < q["n"] else ""))
        m[1].metric("Neighbours kept", f"{q['knn_kept']:.0%}",
                    help="The share of each point's 10 nearest original neighbours that are also among its 10 "
                         "nearest in the layout, averaged over points.")
        m = right.columns(2)
        m[0].metric("Compute time", f"{emb.seconds_:.1f} s")
        if method == "tsne":
            m[1].metric("KL (t-SNE cost)", f"{emb.kl_:.3f}" if np.isfinite(emb.kl_) else "n/a",
                        help="The t-SNE objective above at the last report (lower is better).")
        if sel is not None:
            same = len(set(nb_x) & set(nb_y))
            right.markdown(f"**Point {sel}:** {view.hover_text(sel)}  \n{same} of its {len(nb_x)} nearest "
                           "neighbours in the original space are also nearest in the layout.")
            if view.images is not None:
                lab = lambda ii: [view.label_text(i) or f"#{i}" for i in ii]  # noqa: E731
                with right:
                    image_grid(view.images[[sel, *nb_x]], key="emb:nbx", ncols=5, titles=lab([sel, *nb_x]),
                               caption="The point, then its nearest in the original space.",
                               download_name="neighbours_original.png")
                    image_grid(view.images[[sel, *nb_y]], key="emb:nby", ncols=5, titles=lab([sel, *nb_y]),
                               caption="The point, then its nearest in the layout.",
                               download_name="neighbours_layout.png")
            else:
                right.markdown("**Nearest in the original space:** " + ", ".join(view.hover_text(i) for i in nb_x))
                right.markdown("**Nearest in the layout:** " + ", ".join(view.hover_text(i) for i in nb_y))

        # ---- downloads
        d = st.columns(3)
        labels_txt = None if view.labels is None else [view.label_text(i) for i in range(len(view))]
        d[0].download_button("Coordinates (CSV)", E.coords_csv(coords, labels_txt, view.hover),
                             file_name=f"{method}_{dim}d.csv", mime="text/csv", key="emb:csv", on_click="ignore")
        d[1].download_button("Figure (PNG)", lambda: E.layout_png(coords, col, src.class_names, title=title),
                             file_name=f"{method}.png", mime="image/png", key="emb:png", on_click="ignore")
        d[2].download_button("Figure (interactive HTML)", lambda: fig.to_html(include_plotlyjs=True),
                             file_name=f"{method}.html", mime="text/html", key="emb:html", on_click="ignore")

# ---- the lesson: one dataset at three perplexities
st.subheader("How to read t-SNE: one dataset, three perplexities")
st.markdown(
    "Three Gaussian clusters in 10-D: A and B are wide (std 4) and 15 apart, C is tight (std 1) and 60 away from A. "
    "t-SNE draws **all three about the same size**, although C is four times tighter, and the **gaps are not to "
    "scale**: C is four times as far from A as B is in the data, not in the plot, and the gaps change with the "
    "perplexity. t-SNE keeps who is whose neighbour, not sizes or long distances. Low perplexity breaks clusters "
    "into fragments; high perplexity keeps more of the global picture. Read clusters, not the space between them.")
lesson_src = st.radio("Dataset", ["three blobs", "the source above (1,000 points)"], horizontal=True,
                      key="emb:lesson:src")


if lesson_src == "three blobs":
    ls = E.three_blobs(150, 10, int(seed))
elif view is not None:
    ls = view.take(E.sample_indices(len(view), "tsne", int(seed), 1000))
else:
    ls = None
if ls is None:
    st.info("Pick a source above first.", icon=":material/info:")
else:
    lesson = training_panel("emb:lesson", E.make_lesson_task, config=E.LessonConfig(data=E.Vectors.of(ls.x)),
                            seconds=float(limits.MAX_RUN_SECONDS), max_seconds=float(limits.MAX_RUN_SECONDS),
                            label="Run the three t-SNEs", show_budget=False,
                            status=lambda t: f"{len(t.task.layouts)} of 3 layouts done")
    if lesson is not None and lesson.task.finished:
        cols = st.columns(3)
        for cc, p, y in zip(cols, (5, 30, 100), lesson.task.layouts):
            f = E.layout_figure(y, colour=ls.labels, class_names=ls.class_names, hover=ls.hover,
                                title=f"perplexity {p}", height=380)
            f.update_layout(showlegend=p == 100 and lesson_src == "three blobs",
                            legend=dict(orientation="h", y=-0.05))
            cc.plotly_chart(f, key=f"emb:lesson:{p}", config={"displayModeBar": False})
