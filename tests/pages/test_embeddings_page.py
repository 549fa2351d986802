"""Embedding Explorer page in AppTest: opens on digits with PCA and its quality numbers; switching the method
recomputes the layout; selecting a point shows its neighbours in both spaces with their images."""

from streamlit.testing.v1 import AppTest


def _metric(at, start):
    return next(m.value for m in at.metric if m.label.startswith(start))


def test_embeddings_page_switches_method_and_selects_a_point(root):
    at = AppTest.from_file(str(root / "pages" / "embeddings.py"), default_timeout=180).run()
    assert not at.exception and not at.error
    assert at.selectbox(key="emb:method").value == "pca"
    pca_tw = float(_metric(at, "Trustworthiness"))
    assert 0.5 < pca_tw < 0.95  # PCA of the digits to 2-D loses many neighbourhoods

    at.selectbox(key="emb:method").select("isomap").run()
    assert not at.exception and not at.error
    iso_tw = float(_metric(at, "Trustworthiness"))
    assert iso_tw != pca_tw
    assert any("Isomap of 1,797 points" in str(c.proto) for c in at.get("plotly_chart"))

    charts_before = len(at.get("plotly_chart"))
    at.number_input(key="emb:point").set_value(5).run()
    assert not at.exception and not at.error
    text = " ".join(m.value for m in at.markdown)
    assert "Point 5" in text and "nearest neighbours in the original space" in text
    assert len(at.get("plotly_chart")) == charts_before + 2  # its neighbours in both spaces, as image grids

    at.text_input(key="emb:search").input("#7").run()
    assert not at.exception and any("match" in c.value for c in at.caption)
