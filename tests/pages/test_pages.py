"""Every page renders with its defaults in AppTest: no exception, no error box, a title and some content."""

import pytest
from streamlit.testing.v1 import AppTest

from dlplay import catalogue

PAGES = catalogue.available()


def test_home_page_lists_every_demo(root):
    at = AppTest.from_file(str(root / "app.py"), default_timeout=120).run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown) + " ".join(s.value for s in at.subheader)
    for d in PAGES:
        assert d.title in text
    assert "Computing on" in " ".join(c.value for c in at.caption)
    assert any("lecture" in e.label for e in at.expander)


@pytest.mark.parametrize("demo", PAGES, ids=[d.url_path for d in PAGES])
def test_page_renders_with_defaults(demo):
    at = AppTest.from_file(str(demo.path), default_timeout=180).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert at.title and at.title[0].value
    assert len(at.get("plotly_chart")) + len(at.get("imgs")) > 0  # something to look at before any training


def test_datasets_page_trains_and_switches(root):
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=120).run()
    assert "Shipped model" in at.metric[0].label
    at.number_input(key="ds:clf:steps").set_value(100)
    at.button(key="ds:clf:start").click().run()
    assert not at.exception
    assert "Your model" in at.metric[0].label and float(at.metric[0].value.rstrip("%")) > 50
    at.selectbox(key="ds:name").select("shapes").run()
    assert not at.exception and not at.error
    assert "Your model" in at.metric[0].label  # the session's trained model survives a widget change
