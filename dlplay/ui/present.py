"""Presenter mode and the lecture deck (issue 26).

Presenter mode (`?present=1`, or the sidebar's toggle): the header shrinks to one row (the title, then "The idea" and
"What to try" folded into expanders beside it), the device caption goes, the sidebar starts collapsed, spacing
tightens and the text grows for the back rows. Pages then place their primary button and their main figure on the
first screen of a 1366x768 projector: `stage()` puts the controls in a left column and the main figure on the
right, `ahead()` draws a long page's main section at its top, `secondary()` folds controls a lecture does not need
first into an expander, `height()` gives a figure its presenter height. Outside presenter mode they leave the page
exactly as it was. The deck: bookmarks (a named
page state) added from the sidebar, stepped through with *Next* (or the N key), downloaded as JSON and loaded again.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from .. import catalogue, deck
from ..errors import InputError

KEY = "dlplay:present"
DECK = "deck:items"

CSS = """<style>
.block-container, [data-testid="stMainBlockContainer"] {padding-top: 1rem !important; padding-bottom: 1rem !important;}
[data-testid="stHeader"] {background: transparent !important; pointer-events: none;}
[data-testid="stHeader"] button, [data-testid="stHeader"] a, [data-testid="stHeader"] [data-testid="stStatusWidget"]
  {pointer-events: auto;}
[data-testid="stMain"] [data-testid="stVerticalBlock"] {gap: 0.55rem;}
[data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] .stMarkdown li,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stMain"] [data-testid="stCaptionContainer"] p
  {font-size: 1.2rem !important; line-height: 1.45 !important;}
[data-testid="stMain"] [data-testid="stMetricValue"] {font-size: 2.4rem !important;}
[data-testid="stMain"] h1 {font-size: 2rem !important; padding: 0 !important; line-height: 1.2 !important;}
[data-testid="stMain"] h2, [data-testid="stMain"] h3 {padding: 0.2rem 0 0.1rem 0 !important;}
[data-testid="stMain"] button p {font-size: 1.15rem !important;}
</style>"""


def presenting() -> bool:
    ss = st.session_state
    if KEY not in ss:
        ss[KEY] = st.query_params.get("present") == "1"
    return bool(ss[KEY])


SPACE_OWNER = "present:space"    # the training panel Space belongs to in this script run (style() clears it)


def space_key(key: str) -> str | None:
    """'space' for the first training panel drawn on a page in presenter mode (one key cannot drive two panels;
    a fragment's rerun of the same panel keeps it), else None."""
    if not presenting() or st.session_state.get(SPACE_OWNER) not in (None, key):
        return None
    st.session_state[SPACE_OWNER] = key
    return "space"


def style() -> None:
    """Presenter mode's larger type and tighter spacing, and the sidebar collapsed (called by page_header). The
    sidebar state is set on every page run, since pages share app.py's page config (`set_page_config` calls add to
    it): the browser acts on the initial state only when it changes, so leaving presenter mode brings the sidebar
    back, and once a user has opened or closed the sidebar by hand Streamlit keeps their choice instead. Each run
    also frees Space for the first training panel the page draws (space_key)."""
    st.set_page_config(initial_sidebar_state="collapsed" if presenting() else "auto")
    st.session_state[SPACE_OWNER] = None
    if presenting():
        st.html(CSS)


class _InPlace(contextlib.nullcontext):
    """Stands in for a column outside presenter mode: `with it:` and `it.button(...)` draw where the page is, as
    plain `st` calls would."""

    def __getattr__(self, name):
        return getattr(st, name)


def stage(spec=(5, 7), gap: str = "medium"):
    """Presenter mode: two columns side by side, (controls, figure), so a page's primary button and its main
    figure share the first screen. Otherwise two stand-ins that draw in place: the page keeps its usual order."""
    if presenting():
        return tuple(st.columns(list(spec), gap=gap))
    return _InPlace(), _InPlace()


def ahead():
    """Presenter mode: a container placed here, at the top, that a page fills later (its main part, drawn after
    the sections that come first on a scrolled page). Otherwise a stand-in that draws in place."""
    return st.container() if presenting() else _InPlace()


def secondary(label: str, icon: str | None = ":material/tune:"):
    """Controls a lecture does not need first: folded into an expander in presenter mode, in place otherwise."""
    if presenting():
        return st.expander(label, icon=icon)
    return contextlib.nullcontext()


def height(normal, presenter):
    """A figure's height: its usual one, or the presenter height that fits the first screen."""
    return presenter if presenting() else normal


def _toggle() -> None:
    on = bool(st.session_state.get(f"{KEY}:toggle"))
    st.session_state[KEY] = on
    if on:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


def _demos() -> dict[str, catalogue.Demo]:
    return {d.url_path: d for d in catalogue.available()}


def go(i: int) -> None:
    """Open bookmark i: its page, with exactly its settings (those it does not name go back to their defaults)."""
    items = st.session_state.get(DECK) or []
    if not items:
        return
    i %= len(items)
    b = items[i]
    st.session_state["deck:pos"] = i
    st.session_state["share:reread"] = b.page
    q = dict(b.query)
    if presenting():
        q["present"] = "1"
    st.switch_page(str(_demos()[b.page].path), query_params=q)


def sidebar(page: str, query: dict[str, str]) -> None:
    """The presenter toggle and the deck, in the sidebar of every page that shares its state."""
    ss = st.session_state
    sb = st.sidebar
    sb.toggle("Presenter mode", value=presenting(), key=f"{KEY}:toggle", on_change=_toggle,
              help="Explanations folded, larger text; the link gets ?present=1.")
    items: list[deck.Bookmark] = ss.setdefault(DECK, [])
    with sb.expander(f"Lecture deck ({len(items)} bookmarks)", expanded=presenting() and bool(items),
                     icon=":material/bookmarks:"):
        title = st.text_input("Title of this state", key="deck:title", max_chars=deck.MAX_TITLE,
                              placeholder=_demos().get(page).title if page in _demos() else page)
        if st.button("Bookmark this state", key="deck:add", icon=":material/bookmark_add:", width="stretch"):
            if len(items) >= deck.MAX_BOOKMARKS:
                st.error(f"A deck holds at most {deck.MAX_BOOKMARKS} bookmarks.")
            else:
                name = (title or "").strip() or (_demos()[page].title if page in _demos() else page)
                items.append(deck.Bookmark(name, page, {k: v for k, v in query.items() if k != "present"}))
                st.toast(f"Bookmarked: {name}")
        pos = ss.get("deck:pos", -1)
        for i, b in enumerate(items):
            if st.button(f"{i + 1}. {b.title}", key=f"deck:go:{i}", type="primary" if i == pos else "secondary",
                         width="stretch"):
                go(i)
        if items:
            c = st.columns(2)
            if c[0].button("Next", key="deck:next", shortcut="n", icon=":material/skip_next:", width="stretch",
                           help="The next bookmark (key: N)."):
                go(pos + 1)
            if c[1].button("Clear", key="deck:clear", width="stretch"):
                ss[DECK], ss["deck:pos"] = [], -1
                st.rerun()
            st.download_button("Download the deck (.json)", deck.to_json(items), file_name="lecture_deck.json",
                               mime="application/json", key="deck:dl", on_click="ignore", width="stretch")
        f = st.file_uploader("Load a deck", type=["json"], key="deck:load")
        if f is not None and ss.get("deck:loaded") != (f.name, f.size):
            try:
                ss[DECK] = deck.parse(f.getvalue(), set(_demos()))
            except InputError as e:
                st.error(str(e), icon=":material/error:")
            else:
                ss["deck:loaded"], ss["deck:pos"] = (f.name, f.size), -1
                st.rerun()
