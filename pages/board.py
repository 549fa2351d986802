"""The class board: the lecturer's screen of everyone's submitted runs (issue 28). Storage: dlplay/board/; the
students' side is the "Submit to the class board" button under every finished training panel (dlplay/ui/board.py)."""

import time
from datetime import datetime

import streamlit as st

from dlplay import board
from dlplay.errors import InputError
from dlplay.ui import errors_shown, page_header, present
from dlplay.ui.board import client_id, network_id

REFRESH_SECONDS = 3     # the gallery and the plot reload this often
GALLERY_MAX = 60        # pictures drawn at once

page_header(
    "Class board",
    "One student's training run is an anecdote; forty are the lesson. Create a board, put its class code on the "
    "projector, and ask the room to train the same demo with their own seed or settings: every finished training "
    "panel has a *Submit to the class board* button. Their runs appear here within seconds, and a plot of any "
    "metric grouped by any setting shows how often training collapses, how much the seed matters and which "
    "settings win.",
    try_list=["Below, the example board: twelve 2-D GAN runs the project trained. Group *modes_covered* by "
              "*preset*: how often does mode collapse happen across seeds, and does WGAN-GP fix it every time?",
              "Create a board, open the GAN Lab in another tab, train with two seeds and submit both.",
              "Click a dot in the plot: its settings and the command line that trains it again.",
              "Hide a submission (it leaves the plot and the gallery) or remove it; export the board as CSV."])

ss = st.session_state


@st.cache_data(show_spinner=False)
def _example():
    return board.example_submissions()


def _store():
    return board.get_store()


# -- create or open ----------------------------------------------------------------------------------------------
view: board.BoardView | None = ss.get("board:view")
with st.expander("Create or open a board" if view is None else "Create or open another board",
                 expanded=view is None and not present.presenting()):   # presenter mode: the plot first (issue 26)
    left, right = st.columns(2)
    with left.form("board:create"):
        st.markdown("**Create a board** (for the lecturer)")
        title = st.text_input("Title (optional)", key="board:title", max_chars=80, placeholder="Lecture 7: GANs")
        days = st.number_input("Keep it for (days)", 1, board.Limits().days, min(2, board.Limits().days),
                               key="board:days", help="The board and everything submitted to it are deleted then.")
        if st.form_submit_button("Create board", type="primary", key="board:create:go"):
            with errors_shown():
                made = _store().create_board(title, int(days))
                ss["board:new"] = made
                ss["board:view"] = view = _store().open(made.code, made.key, client_id(), network_id())
                ss.pop("board:pics", None)
                st.rerun()   # the form folds away; the key stays on screen until the lecturer has copied it
    with right.form("board:open"):
        st.markdown("**Open a board**")
        code = st.text_input("Class code", key="board:code", max_chars=12, placeholder="K7QM2P")
        key = st.text_input("Lecturer key", key="board:key", type="password", max_chars=64,
                            help="Shown once, when the board was created.")
        if st.form_submit_button("Open board", key="board:open:go"):
            with errors_shown():
                ss["board:view"] = view = _store().open(code, key, client_id(), network_id())
                ss.pop("board:pics", None)
                ss.pop("board:new", None)
                st.rerun()

made = ss.get("board:new")
if made is not None and view is not None and made.code == view.code:
    st.success("Board created. Put the **class code** on the screen for the room; keep the **lecturer key**: it "
               "is shown only now (the server keeps only a salted hash of it).", icon=":material/key:")
    c = st.columns([1, 2, 1])
    c[0].markdown("Class code")
    c[0].code(made.code, language=None)
    c[1].markdown("Lecturer key (copy it now)")
    c[1].code(made.key, language=None)
    if c[2].button("I have copied the key", key="board:forget"):
        ss.pop("board:new", None)
        st.rerun()


# -- one board: plot, gallery, details -----------------------------------------------------------------------------
def _controls(subs, prefix):
    metrics, knobs = board.metric_names(subs), board.knobs(subs)
    if not metrics:
        return None, None, None
    c = st.columns([2, 2, 1])
    metric = c[0].selectbox("Metric", metrics, key=f"{prefix}:metric",
                            index=metrics.index("modes_covered") if "modes_covered" in metrics else 0)
    knob = c[1].selectbox("Grouped by setting", knobs, key=f"{prefix}:knob",
                          index=knobs.index("preset") if "preset" in knobs else min(2, len(knobs) - 1))
    kind = c[2].radio("Plot", ["strip", "histogram"], key=f"{prefix}:kind", horizontal=True)
    return metric, knob, kind


def _details(subs, prefix, picked, manage: board.BoardView | None):
    ids = [s.id for s in subs]
    if not ids:
        return
    by_id = {s.id: s for s in subs}
    if picked in by_id:
        ss[f"{prefix}:pick"] = picked
    elif ss.get(f"{prefix}:pick") not in by_id:
        ss[f"{prefix}:pick"] = ids[0]
    sid = st.selectbox("Submission", ids, key=f"{prefix}:pick", format_func=lambda i: board.label(by_id[i]),
                       help="Or click a dot in the strip plot.")
    s = by_id[sid]
    c = st.columns([1, 2])
    c[0].markdown(f"**{board.label(s)}** ({s.page}, seed {s.seed}){' · hidden' if s.hidden else ''}")
    c[0].dataframe({"metric": list(s.metrics), "value": [f"{v:.4g}" for v in s.metrics.values()]},
                   hide_index=True, key=f"{prefix}:metrics:{sid}")
    line, left_out = board.command_line(s)
    if line:
        c[1].markdown("Train it again (same settings and seed) on the command line:")
        c[1].code(line, language="bash")
        if left_out:
            c[1].caption("Settings the command has no option for (set them on the page): " + ", ".join(left_out))
    c[1].dataframe({"setting": list(s.config), "value": [str(v) for v in s.config.values()]}, hide_index=True,
                   key=f"{prefix}:config:{sid}")
    if manage is not None:
        b = c[0].columns(2)
        b[0].button("Show again" if s.hidden else "Hide", key=f"{prefix}:hide", on_click=_act,
                    args=(manage.hide, sid, not s.hidden))
        sure = c[0].checkbox("Yes, remove it for good", key=f"{prefix}:sure")
        b[1].button("Remove", key=f"{prefix}:remove", disabled=not sure, on_click=_act, args=(manage.remove, sid),
                    kwargs={"reset": f"{prefix}:sure"})
        if ss.get("board:act_error"):
            st.error(ss["board:act_error"], icon=":material/error:")


def _act(fn, *args, reset: str | None = None):
    """A button's callback (runs before the rerun, so the gallery redrawn next already shows the change)."""
    try:
        fn(*args)
        ss.pop("board:act_error", None)
    except InputError as e:
        ss["board:act_error"] = str(e)
    if reset:
        ss[reset] = False


def _gallery(subs, pics, metric, prefix, ncols=6):
    for row in range(0, len(subs), ncols):
        cols = st.columns(ncols)
        for col, s in zip(cols, subs[row:row + ncols]):
            if s.id in pics:
                col.image(pics[s.id], width="stretch")
            value = f" · {metric} {s.metrics[metric]:.3g}" if metric in s.metrics else ""
            col.caption(f"{board.label(s)}{value}".replace("*", "").replace("_", "\\_"))


def show(subs, pics, prefix, manage: board.BoardView | None = None):
    visible = [s for s in subs if not s.hidden]
    metric, knob, kind = _controls(visible or subs, prefix)
    picked = None
    if metric is not None and visible:
        fig = board.strip_figure(visible, metric, knob, kind)
        event = st.plotly_chart(fig, key=f"{prefix}:plot", on_select="rerun", selection_mode="points")
        pts = (getattr(event, "selection", None) or {}).get("points") or [] if event else []
        picked = next((p.get("customdata") for p in pts if p.get("customdata") is not None), None)
        d = st.columns(2)
        d[0].download_button("Download the plot (PNG)", lambda: board.strip_png(visible, metric, knob, kind),
                             file_name=f"board_{metric}_by_{knob}.png", mime="image/png", key=f"{prefix}:png",
                             on_click="ignore")
        d[1].download_button("Download the board (CSV)", lambda: board.board_csv(subs),
                             file_name="class_board.csv", mime="text/csv", key=f"{prefix}:csv", on_click="ignore")
    st.markdown(f"**Gallery** ({len(visible)} shown" + (f", {len(subs) - len(visible)} hidden)" if
                                                        len(subs) > len(visible) else ")") + ", newest first")
    if len(visible) > GALLERY_MAX:
        st.caption(f"The newest {GALLERY_MAX} of {len(visible)}; the plot and the CSV have them all.")
    _gallery(visible[::-1][:GALLERY_MAX], pics, metric, prefix)
    st.markdown("**One submission**")
    _details(subs, prefix, picked, manage)


if view is not None:
    head = st.columns([4, 1])
    head[0].subheader(f"Board {view.code}" + (f": {view.title}" if view.title else ""))
    if head[1].button("Close board", key="board:close"):
        ss.pop("board:view", None)
        st.rerun()

    @st.fragment(run_every=REFRESH_SECONDS)
    def live_board():
        with errors_shown():
            subs = view.submissions(include_hidden=True)
            pics = ss.setdefault("board:pics", {})
            missing = [s.id for s in subs if s.has_picture and s.id not in pics]
            pics.update(view.pictures(missing))
            st.caption(f"{len(subs)} submissions · class code **{view.code}** · refreshed "
                       f"{datetime.now().strftime('%H:%M:%S')} (every {REFRESH_SECONDS} s) · the board is deleted "
                       f"on {datetime.fromtimestamp(view.expires).strftime('%d %b %Y %H:%M')}")
            if not subs:
                st.info(f"Nothing submitted yet. Students press *Submit to the class board* under a finished "
                        f"training panel and enter the code {view.code}.", icon=":material/hourglass_empty:")
                return
            show(subs, pics, "board:live", manage=view)

    live_board()
else:
    st.subheader("Example board: twelve runs of the 2-D GAN")
    with present.secondary("How these runs were made", icon=":material/info:"):
        st.caption(f"What a board looks like: the GAN Lab's three ring-of-8 presets trained by the project on "
                   f"seeds {', '.join(map(str, board.EXAMPLE_SEEDS))} for {board.EXAMPLE_STEPS:,} iterations each "
                   "(real runs, re-created by `python -m dlplay pretrain board`). modes_covered: modes of the 8 "
                   "holding at least 2% of 2,000 generated points.")
    try:
        ex = _example()
    except (OSError, ValueError):
        st.info("The example board file is missing; create a board above.", icon=":material/info:")
    else:
        show([s for s, _ in ex], {s.id: p for s, p in ex}, "board:example")
