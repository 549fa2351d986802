"""The sequences page: every part opens on shipped models without an error, sampling streams text and its
probabilities can be scrubbed, bad inputs are sentences, and a short training run switches to the user's model."""

import pytest
from streamlit.testing.v1 import AppTest

PAGE = "pages/sequences.py"


def _open(root, part: int | None = None):
    at = AppTest.from_file(str(root / PAGE), default_timeout=300).run()
    assert not at.exception, at.exception
    if part is not None:
        at.radio(key="seq:part").set_value(at.radio(key="seq:part").options[part]).run()
        assert not at.exception, at.exception
    return at


def _charts(at):
    return [c.proto.id for c in at.get("plotly_chart")]


def test_markov_part_shows_orders_samples_and_trains(root):
    at = _open(root)
    assert not at.error, [e.value for e in at.error]
    assert any(i.endswith("seq:ng:bpc") for i in _charts(at))
    samples = [m.value for m in at.markdown if m.value.startswith("*order")]
    assert len(samples) >= 5
    at.number_input(key="seq:ng:train:steps").set_value(20)
    at.button(key="seq:ng:train:start").click().run()
    assert not at.exception, at.exception
    assert any("your counts" in s.value for s in at.success)


def test_lstm_part_generates_scrubs_and_rejects_bad_input(root):
    at = _open(root, 3)
    assert not at.error, [e.value for e in at.error]
    metrics = {m.label: m.value for m in at.metric}
    assert any(k.startswith("Validation bits per character") for k in metrics)
    at.number_input(key="seq:lstm:s:n").set_value(60)
    at.button(key="seq:lstm:s:go").click().run()
    assert not at.exception, at.exception
    assert at.slider(key="seq:lstm:s:pos").max == 60
    at.slider(key="seq:lstm:s:pos").set_value(30).run()
    assert any(i.endswith("seq:lstm:s:bars") for i in _charts(at))

    at.number_input(key="seq:lstm:s:temp").set_value(0.0).run()
    assert any("greedy" in i.value for i in at.info)
    at.number_input(key="seq:lstm:s:temp").set_value(7.0).run()
    assert any("Temperature = 7.0 is out of range" in e.value for e in at.error)
    at.number_input(key="seq:lstm:s:temp").set_value(1.0)
    at.text_input(key="seq:lstm:s:prompt").set_value("").run()
    assert any("prompt is empty" in e.value for e in at.error)
    at.text_input(key="seq:lstm:s:prompt").set_value("Größe €").run()
    assert any("unknown symbol" in i.value for i in at.info)
    assert not at.exception


@pytest.mark.parametrize("part", [1, 2, 4, 5])
def test_other_parts_open_on_shipped_models(root, part):
    at = _open(root, part)
    assert not at.error, [e.value for e in at.error]
    want = {1: "seq:rnn:s:prompt", 2: "seq:grad:fig", 4: "seq:rev:heat", 5: "seq:pix:ll"}[part]
    assert any(i.endswith(want) for i in _charts(at)) or want in [w.key for w in at.text_input]


def test_copy_and_attention_bad_inputs_are_sentences(root):
    at = _open(root, 2)
    at.number_input(key="seq:copy:delay").set_value(5000)
    at.button(key="seq:copy:train:start").click().run()
    assert not at.exception
    assert any("delay = 5000 is out of range" in e.value for e in at.error)
    at = _open(root, 4)
    at.text_input(key="seq:rev:x").set_value("12a4").run()
    assert any("only digits" in e.value for e in at.error)
    at.text_input(key="seq:rev:x").set_value("1" * 40).run()
    assert any("the limit is" in e.value for e in at.error)
    assert not at.exception


def test_pixel_part_draws_and_times(root):
    at = _open(root, 5)
    at.slider(key="seq:pix:n").set_value(4)
    at.button(key="seq:pix:draw").click().run()
    assert not at.exception, at.exception
    at.button(key="seq:pix:time").click().run()
    labels = [m.label for m in at.metric]
    assert any("100 PixelCNN samples" in lab for lab in labels) and any("100 VAE samples" in lab for lab in labels)
