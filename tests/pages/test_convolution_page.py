"""The convolution page: the layer table and its refusals, adding layers, training, the Step button, uploads."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from dlplay import convolution as cnn


def _png(side: int, seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray((np.random.default_rng(seed).random((side, side, 3)) * 255).astype(np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _metric(at, start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(start))


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def page():
    """One session for the whole module (a first render costs seconds); each test sets the widgets it needs."""
    at = AppTest.from_file(str(ROOT / "pages" / "convolution.py"), default_timeout=240).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_page_opens_on_the_lectures_stack_and_the_shipped_model(page):
    at = page
    table = at.dataframe[0].value
    assert list(table["output H x W x C"]) == ["32 x 32 x 3", "32 x 32 x 12", "32 x 32 x 12", "16 x 16 x 12",
                                               "1 x 1 x 10"]
    assert _metric(at, "Parameters in all") == f"{336 + 30730:,}"
    assert float(_metric(at, "Test accuracy of the shipped model").rstrip("%")) >= 95
    assert _metric(at, "Largest difference between the two results") in ("0.0e+00",) or \
        float(_metric(at, "Largest difference")) < 1e-5


def test_a_broken_stack_is_named_and_the_rest_keeps_working(page):
    at = page
    at.text_input(key="cnn:stack").set_value("conv(12,3,2,0) relu pool(2) fc(10)").run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("Layer 1, conv(12,3,2)" in e and "15.5 is not a whole number" in e for e in errors), errors
    assert _metric(at, "Test accuracy of the shipped model")        # the other tabs still draw
    # build one layer at a time with the widgets
    at.button(key="cnn:reset").click().run()
    at.selectbox(key="cnn:add:kind").select("conv").run()
    at.button(key="cnn:add").click().run()
    assert at.text_input(key="cnn:stack").value == cnn.DEFAULT_STACK + " conv(16,3,1,1)"
    assert any("fc layer" in e or "flattened" in e for e in (x.value for x in at.error))
    at.button(key="cnn:pop").click().run()
    assert at.text_input(key="cnn:stack").value == cnn.DEFAULT_STACK
    assert not at.error


def test_step_button_moves_the_window(page):
    at = page
    t0 = at.slider(key="cnn:walk:t").value
    at.button(key="cnn:walk:step").click().run()
    assert at.slider(key="cnn:walk:t").value == t0 + 1
    assert any(c.value.startswith(f"y[0,{t0 + 1}]") for c in at.code)
    at.slider(key="cnn:walk:s").set_value(2).run()
    assert any("not a whole number" in w.value for w in at.warning)   # (8 - 3)/2 + 1 = 3.5
    # transposed convolution: padding beyond F - 1 is a sentence, not a traceback
    at.slider(key="cnn:tr:p").set_value(3).run()
    assert not at.exception and any("padding 3 is larger" in e.value for e in at.error)
    at.slider(key="cnn:tr:p").set_value(1).run()
    assert not at.error and _metric(at, "Largest difference") == "0.0e+00"


def test_train_the_built_network_and_see_its_maps(page):
    at = page
    at.radio(key="cnn:input").set_value("a digit, 8x8x1").run()
    at.text_input(key="cnn:stack").set_value(cnn.TRAIN_STACK).run()
    assert any("the shipped trained model" in c.value for c in at.caption)
    at.text_input(key="cnn:stack").set_value("conv(8,3,1,1) relu pool(2) fc(10)").run()
    assert any("random (untrained)" in c.value for c in at.caption)
    at.number_input(key="cnn:train:steps").set_value(500)
    at.button(key="cnn:train:start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert float(_metric(at, "Test accuracy of your model").rstrip("%")) > 80
    assert any("your trained model" in c.value for c in at.caption)
    assert any(b.label.startswith("Download your model") for b in at.get("download_button"))


def test_an_uploaded_photo_shows_three_layers(page):
    at = page
    if not hasattr(at, "file_uploader"):
        pytest.skip("this Streamlit's AppTest cannot drive file uploads")
    at.file_uploader(key="cnn:bb:up").upload("photo.png", _png(512), "image/png").run()
    assert not at.exception and not at.error
    captions = " ".join(c.value for c in at.caption)
    for name in (cnn.SHALLOW, cnn.MIDDLE, cnn.DEEP):
        assert f"*{name}*" in captions
    at.file_uploader(key="cnn:bb:up").upload("tiny.png", _png(8), "image/png").run()
    assert not at.exception and any("at least 32 pixels" in e.value for e in at.error)
