"""Presenter mode and the deck in AppTest (issue 26): ?present=1 folds the explanation and sets the toggle, the
current state is bookmarked with its settings, and the deck downloads as the JSON dlplay.deck reads back."""

import pytest
from streamlit.testing.v1 import AppTest

from dlplay import catalogue, deck


def test_presenter_mode_folds_the_idea_and_bookmarks_the_state(root):
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=180)
    at.query_params.update({"present": "1", "seed": "9"})
    at.run()
    assert not at.exception and not at.error
    assert at.expander[0].label == "The idea"                       # the explanation is folded away
    assert at.sidebar.toggle(key="dlplay:present:toggle").value is True
    at.sidebar.text_input(key="deck:title").input("A first model, seed 9").run()
    at.sidebar.button(key="deck:add").click().run()
    assert not at.exception
    items = at.session_state["deck:items"]
    assert items == [deck.Bookmark("A first model, seed 9", "datasets", {"seed": "9"})]   # ?present is not kept
    assert at.query_params["present"] == "1"
    at.sidebar.toggle(key="dlplay:present:toggle").set_value(False).run()
    assert "present" not in at.query_params and at.expander[0].label != "The idea"


def test_a_bookmark_brings_back_exactly_its_state(root):
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=180).run()
    at.number_input(key="ds:clf:seed").set_value(9).run()
    at.sidebar.button(key="deck:add").click().run()
    at.number_input(key="ds:clf:seed").set_value(3).run()
    at.selectbox(key="ds:name").select("shapes").run()
    at.sidebar.button(key="deck:go:0").click().run()            # st.switch_page with the bookmark's query
    assert not at.exception
    assert dict(at.query_params) == {"seed": "9"}
    assert at.number_input(key="ds:clf:seed").value == 9
    assert at.selectbox(key="ds:name").value == "digits"       # not named by the bookmark: back to its default


@pytest.mark.parametrize("demo", catalogue.available(), ids=[d.url_path for d in catalogue.available()])
def test_every_page_renders_in_presenter_mode(demo):
    """The presenter layout (dlplay/ui/present.py: the one-row header, controls beside the main figure, folded
    secondary controls) is other code than the usual page: every page runs through it without an error, keeps its
    explanation one click away and drops the device caption."""
    at = AppTest.from_file(str(demo.path), default_timeout=180)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title and at.title[0].value == demo.title
    assert at.expander[0].label == "The idea"
    assert not any("Computing on" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) + len(at.get("imgs")) > 0


def test_training_works_in_the_presenter_layout(root):
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120)
    at.query_params["present"] = "1"
    at.run()
    at.number_input(key="ds:clf:steps").set_value(100)
    at.button(key="ds:clf:start").click().run()
    assert not at.exception
    assert "Your model" in at.metric[0].label and float(at.metric[0].value.rstrip("%")) > 50


def test_space_presses_train_in_presenter_mode_on_one_panel_only(root):
    """Issue 26's keys: Space is Train (Stop while a run goes) in presenter mode, and only on the first panel of a
    page that has several (sequences has five); outside presenter mode no panel takes a key."""
    def spaces(at):
        return [b.key for b in at.button if b.proto.shortcut]

    at = AppTest.from_file(str(root / "pages" / "sequences.py"), default_timeout=180)
    at.query_params["present"] = "1"
    at.run()
    assert not at.exception
    owners = spaces(at)
    assert len(owners) == 1 and owners[0].endswith(":start"), owners
    assert at.button(key=owners[0]).proto.shortcut.lower() == "space"
    plain = AppTest.from_file(str(root / "pages" / "sequences.py"), default_timeout=180).run()
    assert [k for k in spaces(plain) if k.endswith((":start", ":stop"))] == []
