"""The Words page: opens on the shipped model and the topic classifier, reacts to sentences and words, switches to the
sentiment sentences with their caveat, trains word2vec briefly through the topic contract."""

from streamlit.testing.v1 import AppTest


def _page(root):
    return AppTest.from_file(str(root / "pages" / "words.py"), default_timeout=240).run()


def test_words_page_opens_and_reacts(root):
    at = _page(root)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    text = " ".join(m.value for m in at.markdown)
    assert "same bag-of-words vector" in text
    assert "Predicted class: **spaceflight**" in text
    labels = {m.label: m.value for m in at.metric}
    assert any("Majority" in k for k in labels)
    cv = next(v for k, v in labels.items() if "cross-validated" in k)
    assert int(cv.split("%")[0]) >= 85
    assert "Seed to seed" in text
    # every text box has a length bound
    assert all(t.max_chars for t in at.text_input)
    at.text_input(key="words:s2").set_value("a cat bit the man").run()
    assert "different bag-of-words vectors" in " ".join(m.value for m in at.markdown)
    at.text_input(key="words:query").set_value("frnace").run()
    assert any("not in the vocabulary" in e.value for e in at.error)
    at.radio(key="words:set").set_value("sentiment").run()
    assert not at.exception
    assert any("Only 200 short sentences" in w.value for w in at.warning)


def test_words_page_trains_word2vec(root):
    at = _page(root)
    at.selectbox(key="words:corpus").select("lee").run()
    at.select_slider(key="words:dim").set_value(25).run()
    at.number_input(key="words:w2v:steps").set_value(100)
    at.button(key="words:w2v:start").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("your model" in str(o) for o in at.radio(key="words:which").options)
    assert any(b.label.startswith("Download your vectors") for b in at.get("download_button"))
    at.radio(key="words:which").set_value("trained").run()
    at.text_input(key="words:query").set_value("police").run()
    assert not at.exception
    assert "Against the shipped model" in " ".join(m.value for m in at.markdown)


def test_words_page_trains_gensim_through_the_runner_and_refuses_too_much(root):
    at = _page(root)
    at.selectbox(key="words:corpus").select("lee").run()
    at.slider(key="words:epochs").set_value(2).run()
    at.button(key="words:gensim:start").click().run()
    assert not at.exception, at.exception
    rows = at.dataframe[0].value
    assert any(str(m).startswith("gensim (skipgram, negative, lee)") for m in rows["model"])
    # the Wikipedia sample at 20 epochs with every weight at its maximum: refused with a sentence, nothing trained
    at.selectbox(key="words:corpus").select("wiki").run()
    at.select_slider(key="words:dim").set_value(300)
    at.slider(key="words:window").set_value(10)
    at.slider(key="words:neg").set_value(25)
    at.slider(key="words:epochs").set_value(20).run()
    at.button(key="words:gensim:start").click().run()
    assert not at.exception, at.exception
    assert any("too much work" in e.value or "would read" in e.value for e in at.error)
