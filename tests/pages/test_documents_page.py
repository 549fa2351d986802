"""The Documents page: opens on the shipped models, searches, says why a bad query cannot be used, trains briefly."""

from streamlit.testing.v1 import AppTest


def _page(root):
    return AppTest.from_file(str(root / "pages" / "documents.py"), default_timeout=240).run()


def _hits(at):
    return [m.value for m in at.markdown if m.value[:2] == "**" and m.value[2:3].isdigit()]


def test_documents_page_opens_searches_and_explains_bad_queries(root):
    at = _page(root)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert all("Amphibian" in h for h in _hits(at))                      # the first example, by TF-IDF
    assert len(at.get("plotly_chart")) >= 4                               # two maps, the bars, GloVe scores
    table = at.dataframe[0].value
    assert set(table["method"].str.split(" ").str[0]) >= {"LSA", "deep", "TF-IDF,"}
    at.selectbox(key="docs:example").select("a wolf pig and horse on a farm").run()
    assert any("Animal Farm" not in h for h in _hits(at))                  # TF-IDF: one shared word elsewhere
    at.radio(key="docs:method").set_value("lsa").run()
    assert all("Animal Farm" in h for h in _hits(at))                      # LSA: the topic
    box = at.text_input(key="docs:query:a wolf pig and horse on a farm")
    box.set_value("   ").run()
    assert any("empty" in e.value for e in at.error)
    box.set_value("presidnet qqzx").run()
    assert any("spelled like them: president" in e.value for e in at.error)
    n_charts = len(at.get("plotly_chart"))
    box.set_value("frogs").run()
    at.toggle(key="docs:cooc_on").set_value(True).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == n_charts + 1                    # the co-occurrence matrix


def test_documents_page_trains_the_autoencoder(root):
    at = _page(root)
    at.number_input(key="docs:ae:steps").set_value(300)
    at.button(key="docs:ae:start").click().run()
    assert not at.exception, at.exception
    methods = list(at.dataframe[0].value["method"])
    assert any("yours" in m for m in methods), methods

