"""Presenter mode and the lecture deck (issue 26).

Presenter mode (`?present=1`, or the sidebar's toggle): each page's explanation folds into an expander, the text
grows for the back rows, the page starts at the top of the screen. The deck: bookmarks (a named page state) added
from the sidebar, stepped through with *Next* (or the N key), downloaded as JSON and loaded again.
"""

from __future__ import annotations

import streamlit as st

from .. import catalogue, deck
from ..errors import InputError

KEY = "dlplay:present"
DECK = "deck:items"

CSS = """<style>
.block-container, [data-testid="stMainBlockContainer"] {padding-top: 1.5rem !important; padding-bottom: 1rem !important;}
[data-testid="stMain"] .stMarkdown p, [data-testid="stMain"] .stMarkdown li,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stMain"] [data-testid="stCaptionContainer"] p
  {font-size: 1.2rem !important; line-height: 1.45 !important;}
[data-testid="stMain"] [data-testid="stMetricValue"] {font-size: 2.4rem !important;}
[data-testid="stMain"] h1 {font-size: 2.1rem !important; padding: 0 0 0.4rem 0 !important;}
[data-testid="stMain"] button p {font-size: 1.15rem !important;}
</style>"""


def presenting() -> bool:
    ss = st.session_state
    if KEY not in ss:
        ss[KEY] = st.query_params.get("present") == "1"
    return bool(ss[KEY])


def style() -> None:
    """Presenter mode's larger type (called by page_header)."""
    if presenting():
        st.html(CSS)


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
