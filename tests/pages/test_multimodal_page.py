"""The multimodal page: the shipped model on open with its retrieval numbers, a phrase retrieves images, an
unknown word is a sentence that leaves the other tabs working, the shapes set with arithmetic, and a short
training run that switches to the user's model."""

from streamlit.testing.v1 import AppTest

from dlplay.data import load
from dlplay.multimodal import DIGIT_WORDS


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_multimodal_page_retrieval_bad_word_shapes_and_training(root):
    at = AppTest.from_file(str(root / "pages" / "multimodal.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    m = _metrics(at)
    assert float(m["Text → image: top image shows the digit"].rstrip("%")) >= 90
    i = at.selectbox(key="mm:img:digits").value
    assert m["The captioner writes"] == f"“{DIGIT_WORDS[int(load('digits').y_test[i])]}”"
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert any(i.endswith("mm:t2i:fig") for i in charts) and any(i.endswith("mm:space") for i in charts)

    at.text_input(key="mm:q:digits").input("eleven").run()
    assert not at.exception
    assert any("eleven" in e.value for e in at.error)
    assert any(c.proto.id.endswith("mm:space") for c in at.get("plotly_chart"))   # the other tabs still draw

    at.selectbox(key="mm:dataset").select("shapes").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    m = _metrics(at)
    assert float(m["Captions with every factor right"].rstrip("%")) >= 70
    assert float(m["... that also keep the image's size and direction"].rstrip("%")) > float(
        m["The new shape word alone: same share"].rstrip("%"))

    at.number_input(key="mm:train:steps").set_value(150)
    at.button(key="mm:train:start").click().run()
    assert not at.exception, at.exception
    assert any("your model" in s.value for s in at.success)
