"""The bad-input suite: every generated hostile file through every upload path of the backend."""

from bench.hostile import hostile_files, run_all, upload_paths


def test_suite_covers_the_issue_list():
    names = {h.name for h in hostile_files()}
    for must in ["zero-bytes.png", "truncated.jpg", "bomb-50000x50000.png", "text-named.jpg", "cmyk.jpg",
                 "gray16.png", "animated.gif", "huge-rows.csv", "nan-inf-strings.csv", "latin1.txt",
                 "pickle-checkpoint.pt"]:
        assert must in names
    assert {"image", "text", "checkpoint"} <= set(upload_paths())


def test_every_hostile_file_gets_an_input_error_or_an_honest_conversion():
    r = run_all()
    assert r["tried"] >= len(hostile_files()) * 3
    assert r["handled"] == r["tried"], "\n".join(r["problems"])


def _png16(arr):
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(arr, np.uint16)).save(buf, format="PNG")
    return buf.getvalue()


def test_a_12_bit_image_in_a_16_bit_png_keeps_its_contrast():
    import numpy as np

    from dlplay.data import read_image

    ramp = np.tile(np.linspace(0, 4095, 64).round(), (16, 1))       # a 12-bit scanner's full range
    notes = []
    out = np.asarray(read_image(_png16(ramp), notes=notes).convert("L"), np.float64)
    assert out.max() == 255 and out.min() == 0                     # not 4095 / 65535 * 255 = 16: nearly black
    assert np.corrcoef(out.ravel(), ramp.ravel())[0, 1] > 0.999    # the same picture, linearly scaled
    assert any("0 to 4095" in n for n in notes)                    # and the note says which range was used
    # A full 16-bit image and one that happens to fit 8 bits keep their grey levels.
    assert np.asarray(read_image(_png16([[0, 65535]] * 4)).convert("L")).tolist()[0] == [0, 255]
    assert np.asarray(read_image(_png16([[0, 200]] * 4)).convert("L")).tolist()[0] == [0, 200]
    flat = read_image(_png16(np.full((4, 4), 3000)), notes=(n := []))
    assert np.asarray(flat.convert("L")).std() == 0 and any("every pixel" in s for s in n)
