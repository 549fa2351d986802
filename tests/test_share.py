"""dlplay.ui.share without a browser: checking one value from a link, restoring a page's settings into a session
state, writing them back (defaults left out), and the QR code."""

import io

from PIL import Image

from dlplay.ui import share

PARAMS = [share.choice("dataset", "p:ds", ["digits", "shapes"]),
          share.choice("variant", "p:variant", ["deep", "sparse"]),
          share.integer("k", lambda v: f"p:k:{v['dataset']}:{v['variant']}", 1, 64,
                        lambda v: 8 if v["variant"] == "deep" else 16, "code size"),
          share.number("lr", "p:lr", 1e-4, 0.1, 2e-3), share.flag("tied", "p:tied"),
          share.choice("beta", "p:beta", [0.0, 0.5, 1.0, 4.0], 1.0), *share.panel("p:train", steps=1000)]


def test_a_good_link_restores_every_value_with_its_type():
    state = {}
    values, notes = share.restore(PARAMS, {"dataset": "shapes", "variant": "sparse", "k": "12", "lr": "0.01",
                                           "tied": "true", "beta": "4", "seed": "7", "steps": "300"}, state)
    assert notes == []
    assert state == {"p:ds": "shapes", "p:variant": "sparse", "p:k:shapes:sparse": 12, "p:lr": 0.01, "p:tied": True,
                     "p:beta": 4.0, "p:train:seed": 7, "p:train:steps": 300}
    assert type(state["p:k:shapes:sparse"]) is int and type(state["p:beta"]) is float
    # written back: the same link (k's key follows the restored dataset and variant)
    assert share.current(PARAMS, state) == {"dataset": "shapes", "variant": "sparse", "k": "12", "lr": "0.01",
                                            "tied": "1", "beta": "4", "seed": "7", "steps": "300"}


def test_a_bad_link_gets_the_nearest_valid_values_and_says_what_changed():
    state = {}
    _, notes = share.restore(PARAMS, {"variant": "fancy", "k": "5000", "lr": "abc", "tied": "maybe",
                                      "beta": "3", "seed": "-4", "steps": "2.5e9", "hack": "1", "present": "1"},
                             state)
    assert state["p:variant"] == "deep"           # unknown choice: the default
    assert state["p:k:digits:deep"] == 64         # above the range: the largest
    assert state["p:lr"] == 2e-3                  # not a number: the default
    assert state["p:tied"] is False
    assert state["p:beta"] == 4.0                 # not a choice: the nearest one
    assert state["p:train:seed"] == 0 and state["p:train:steps"] == 100_000
    text = "; ".join(notes)
    for bit in ("fancy", "code size 5000", "'abc'", "maybe", "beta 3", "seed -4", "'hack'"):
        assert bit in text, bit
    assert "present" not in text                  # presenter mode's switch is not an unknown setting


def test_defaults_and_stale_values_are_left_out_of_the_link():
    state = {"p:ds": "digits", "p:variant": "deep", "p:k:digits:deep": 8, "p:lr": 2e-3, "p:beta": 1.0,
             "p:train:seed": 0, "p:train:by": "steps", "p:tied": False}
    assert share.current(PARAMS, state) == {}
    state["p:beta"] = 0.3                         # not one of the choices (left over): not written
    state["p:train:seed"] = 5
    assert share.current(PARAMS, state) == {"seed": "5"}


def test_url_and_qr_code_are_big_enough_to_scan():
    url = share.url_for("vae", {"latent": "8", "tab": "Encoder view"})
    assert url.endswith("/vae?latent=8&tab=Encoder+view")
    png = share.qr_png(url)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width >= 300   # 10 px a module: readable when shown 520 px wide


def test_a_bookmark_resets_what_it_does_not_name_and_text_is_kept_as_typed():
    state = {"p:beta": 4.0, "p:train:seed": 3, "p:ds": "shapes"}
    share.restore(PARAMS, {"seed": "5"}, state, reset_missing=True)
    assert state == {"p:train:seed": 5}           # beta and the dataset back to their widgets' defaults
    p = share.text("stack", "c:stack", "conv 8 3")
    assert share.check_value(p, "conv 16 5, pool 2", {}) == ("conv 16 5, pool 2", None)
    v, note = share.check_value(p, "x" * 400, {})
    assert len(v) == 300 and "cut" in note
