"""Your own digit on the pages (issue 26): a drawing handed to the canvas's slot (AppTest cannot draw; the browser
test draws with the mouse) is read by the classifier page and placed among the training codes on the VAE page."""

import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from test_drawing import STROKES, canvas  # noqa: E402


def test_classifier_page_reads_a_drawn_seven(root):
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=180)
    at.session_state["ds:own:test_image"] = canvas(STROKES[7])
    at.run()
    assert not at.exception and not at.error
    top = next(m for m in at.metric if m.label == "Classified as")
    assert top.value == "7"


def test_vae_page_places_a_drawn_three_and_decodes_a_clicked_point(root):
    at = AppTest.from_file(str(root / "pages" / "vae.py"), default_timeout=180)
    at.session_state["vae:own:test_image"] = canvas(STROKES[3], photo=True)
    at.run()
    assert not at.exception and not at.error
    assert any(c.proto.id.endswith("vae:own:map") for c in at.get("plotly_chart"))
    assert any("nearest training posterior mean" in c.value for c in at.caption)
    captions = [i.caption for el in at.get("image") for i in el.proto.imgs]
    assert any(c.startswith("Decoded at z = (0.00, 0.00)") for c in captions), captions   # before any click
