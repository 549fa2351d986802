"""The style page: uploads are read in memory, training animates and offers a PNG, bad uploads give a message."""

import io

from PIL import Image
from streamlit.testing.v1 import AppTest


def _png(w: int, h: int, colour=(200, 60, 30)) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (w, h), colour)
    for x in range(0, w, 8):  # some stripes, so there is a texture to transfer
        for y in range(h):
            img.putpixel((x, y), (20, 20, 160))
    img.save(buf, "PNG")
    return buf.getvalue()


def test_style_page_trains_on_uploaded_pictures(root):
    at = AppTest.from_file(str(root / "pages" / "style.py"), default_timeout=240).run()
    assert not at.exception and not at.error
    if not hasattr(at, "file_uploader"):
        import pytest
        pytest.skip("this Streamlit's AppTest cannot drive file uploads")
    at.file_uploader(key="st:content:up").upload("photo.png", _png(120, 80), "image/png").run()
    at.file_uploader(key="st:style:up").upload("texture.png", _png(64, 64, (240, 220, 40)), "image/png").run()
    assert not at.exception and not at.error
    assert any("upload" in c.value for c in at.caption)
    at.slider(key="st:size").set_value(64)
    at.number_input(key="st:run:steps").set_value(20)
    at.button(key="st:run:start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = [m.label for m in at.metric]
    assert any("style loss" in lab for lab in labels)
    assert any(b.label.startswith("Download the result") for b in at.get("download_button"))
    # a tiny upload is refused with a sentence, and the page keeps working
    at.file_uploader(key="st:style:up").upload("tiny.png", _png(10, 10), "image/png").run()
    assert not at.exception
    assert any("at least 32 pixels" in e.value for e in at.error)
