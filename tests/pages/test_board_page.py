"""The class board page (issue 28): the example board on open; create a board (code and key shown once), runs
submitted by students appear in the gallery and the plot, hide one, open again with the key (a wrong key is a
sentence); and a training panel's own "Submit to the class board" block sends a finished run."""

import pytest
from streamlit.testing.v1 import AppTest

from dlplay import board


@pytest.fixture
def board_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'board.sqlite3'}"
    monkeypatch.setenv("DLPLAY_BOARD_URL", url)
    monkeypatch.setattr(board.storage, "_SCRYPT", dict(n=2**10, r=8, p=1, dklen=32))   # a test's cost, same checks
    return url


def _captions(at):
    return " ".join(c.value for c in at.caption)


def test_board_page_example_create_live_gallery_hide_and_reopen(root, board_url):
    at = AppTest.from_file(str(root / "pages" / "board.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any(c.proto.id.endswith("board:example:plot") for c in at.get("plotly_chart"))  # the example, on open
    assert len(at.get("image")) >= 12

    at.text_input(key="board:title").input("Lecture 7")
    at.button(key="board:create:go").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    code, key = [c.value for c in at.code][:2]
    assert any("shown only now" in s.value for s in at.success)
    assert any("Nothing submitted yet" in i.value for i in at.info)

    store = board.get_store(board_url)
    for i, (beta, nick) in enumerate([(1.0, "Ada"), (4.0, "Grace"), (4.0, "Alan")]):
        store.submit(code, page="vae", kind="dlplay.vae.VAEConfig", config={"dataset": "digits", "beta": beta},
                     seed=i, metrics={"test_elbo": -30.0 - 5 * beta}, nickname=nick)
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any(c.proto.id.endswith("board:live:plot") for c in at.get("plotly_chart"))
    text = _captions(at)
    assert "3 submissions" in text and all(n in text for n in ("Ada", "Grace", "Alan"))
    assert at.selectbox(key="board:live:knob").value == "beta"          # the setting that varies
    assert any("train vae" in c.value for c in at.code)                  # the submission's command line

    at.button(key="board:live:hide").click().run()
    assert not at.exception
    view = store.open(code, key)
    assert [s.hidden for s in view.submissions()] == [True, False, False]
    assert "2 shown, 1 hidden" in " ".join(m.value for m in at.markdown)

    at.button(key="board:forget").click().run()
    assert key not in [c.value for c in at.code]                          # the key is gone once copied
    at.button(key="board:close").click().run()
    at.text_input(key="board:code").input(code)
    at.text_input(key="board:key").input("not the key")
    at.button(key="board:open:go").click().run()
    assert any("do not match" in e.value for e in at.error)
    at.text_input(key="board:key").input(key)
    at.button(key="board:open:go").click().run()
    assert not at.error and "3 submissions" in _captions(at)


def test_a_finished_training_panel_submits_to_the_board(root, board_url):
    store = board.get_store(board_url)
    made = store.create_board()
    at = AppTest.from_file(str(root / "pages" / "datasets.py"), default_timeout=180).run()
    assert not at.exception
    assert not any(b.label == "Submit" for b in at.button)                # nothing to submit before training
    at.number_input(key="ds:clf:steps").set_value(100)
    at.button(key="ds:clf:start").click().run()
    assert not at.exception, at.exception
    at.text_input(key="ds:clf:board:code").input("nope")
    at.button(key="ds:clf:board:send").click().run()
    assert any("not a class code" in e.value for e in at.error)          # a sentence, and the page goes on
    at.text_input(key="ds:clf:board:code").input(made.code.lower())
    at.text_input(key="ds:clf:board:nick").input("Ada L.")
    at.button(key="ds:clf:board:send").click().run()
    assert not at.exception
    assert any(f"board {made.code}" in s.value for s in at.success), [s.value for s in at.success]
    at.button(key="ds:clf:board:send").click().run()                     # a second click: stored once
    (s,) = store.open(made.code, made.key).submissions()
    assert s.nickname == "Ada L." and s.page == "ds" and s.kind.endswith("ClassifierConfig")
    assert s.metrics["steps"] == 100 and any("acc" in k for k in s.metrics)
    assert s.curves and all(len(c["x"]) <= 200 for c in s.curves.values())


def test_the_gan_playground_submits_its_picture_and_mode_count(root, board_url):
    store = board.get_store(board_url)
    made = store.create_board()
    at = AppTest.from_file(str(root / "pages" / "gan.py"), default_timeout=180).run()
    assert not at.exception
    at.button(key="gan:istep").click().run()          # one iteration by hand: a trained (if barely) model
    assert not at.exception, at.exception
    at.text_input(key="gan:2d:board:code").input(made.code)
    at.button(key="gan:2d:board:send").click().run()
    assert not at.exception, at.exception
    assert any(f"board {made.code}" in s.value for s in at.success), [e.value for e in at.error]
    view = store.open(made.code, made.key)
    (s,) = view.submissions()
    assert s.kind.endswith("GAN2DConfig") and "modes_covered" in s.metrics and s.config["loss"]
    from PIL import Image
    import io
    assert Image.open(io.BytesIO(view.pictures([s.id])[s.id])).size == (256, 256)   # the playground, drawn
