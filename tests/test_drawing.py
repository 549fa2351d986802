"""Your own digit (issue 26): strokes drawn on the page's canvas (rendered here in its format: RGBA, white ink on
black, 280x280) or photographed (dark pen on light paper) become 8x8 digits like the dataset's, which the shipped
classifier reads correctly and the shipped autoencoder reconstructs; a blob nothing like a digit is flagged as far
from the training data; bad input is a sentence."""

import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from dlplay import autoencoders as ae
from dlplay import checkpoints
from dlplay.classifier import load_judge
from dlplay.data import drawing
from dlplay.errors import InputError

STROKES = {   # (x, y) in canvas pixels, as a mouse would draw them
    3: [[(80, 60), (140, 40), (195, 70), (190, 120), (135, 140)],
        [(135, 140), (200, 165), (200, 215), (140, 245), (75, 225)]],
    7: [[(70, 55), (210, 55), (150, 150), (120, 245)], [(110, 150), (190, 150)]],
}


def canvas(strokes, photo=False, shift=(0, 0), scale=1.0, width=26, size=280):
    bg, ink = ((235, 232, 220, 255), (30, 30, 40, 255)) if photo else ((0, 0, 0, 255), (255, 255, 255, 255))
    im = Image.new("RGBA", (size, size), bg)
    d = ImageDraw.Draw(im)
    for s in strokes:
        d.line([(shift[0] + scale * x, shift[1] + scale * y) for x, y in s], fill=ink, width=width, joint="curve")
    return np.asarray(im)


@pytest.fixture(scope="module")
def models():
    return load_judge().eval(), ae.load(checkpoints.shipped("autoencoder_digits"))[0]


@pytest.mark.parametrize("digit", [3, 7])
@pytest.mark.parametrize("how", [dict(), dict(photo=True), dict(shift=(-40, 20), scale=0.6)],
                         ids=["canvas", "photo", "small-and-off-centre"])
def test_drawn_digit_is_classified_and_reconstructed(models, digits, digit, how):
    judge, model = models
    x = drawing.to_digit(canvas(STROKES[digit], **how), ink="auto")
    assert x.shape == (1, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
    assert x[0, 0, :, 0].sum() + x[0, 0, :, -1].sum() < x.sum() * 0.2     # centred like the dataset's digits
    with torch.no_grad():
        assert judge(x).argmax(1).item() == digit
        rec = ae.reconstruct(model, x)
        assert judge(rec).argmax(1).item() == digit                       # the reconstruction is still that digit
    test_mse = ae.mse(ae.reconstruct(model, digits.x_test), digits.x_test)
    assert ((rec - x) ** 2).mean().item() < 4 * test_mse


def test_a_blob_is_far_from_the_training_data_and_a_digit_is_not(models, digits):
    _, model = models
    code = lambda x: ae.encode(model, x).numpy()  # noqa: E731
    train, test = code(digits.x_train), code(digits.x_test)
    blob = np.zeros((280, 280, 4), np.uint8)
    blob[..., 3] = 255
    blob[40:240, 40:240, :3] = 255                                        # a filled square
    _, share_blob = drawing.novelty(train, test, code(drawing.to_digit(blob, ink="light"))[0])
    _, share_three = drawing.novelty(train, test, code(drawing.to_digit(canvas(STROKES[3])))[0])
    assert share_blob < 0.02 < share_three


def test_bad_input_is_a_sentence():
    with pytest.raises(InputError, match="nothing drawn"):
        drawing.to_digit(np.zeros((280, 280, 4), np.uint8))
    with pytest.raises(InputError, match="not an image"):
        drawing.to_digit(b"not a picture")
    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    with pytest.raises(InputError, match="larger"):
        drawing.to_digit(buf.getvalue())
