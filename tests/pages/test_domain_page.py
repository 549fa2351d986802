"""The Domain adaptation page in AppTest: it opens on the shipped networks with every number labelled, the quiz
answers, a preset sets the knobs, a short training replaces the shown network, and a collapse is not a success."""

from streamlit.testing.v1 import AppTest

PAGE = "pages/domain.py"


def _labels(at):
    return [m.label for m in at.metric]


def test_page_opens_on_the_shipped_networks(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    labels = _labels(at)
    assert any("Source test accuracy" in lab for lab in labels)
    assert any("Target test accuracy" in lab for lab in labels)
    assert any("discriminator" in lab for lab in labels)
    assert any("shipped DANN" in i.value for i in at.info)
    assert len(at.get("plotly_chart")) >= 4          # two domains, wrong guesses, two t-SNE maps, ...
    at.radio(key="da:quiz").set_value(at.radio(key="da:quiz").options[2]).run()
    assert at.success and "Right" in at.success[0].value
    at.radio(key="da:colour").set_value("digit").run()
    at.radio(key="da:target").set_value("inverted").run()
    assert not at.exception and not at.error


def test_preset_then_short_training_shows_your_network(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=240).run()
    at.button(key="da:preset:2").click().run()          # Source only (the control)
    assert at.radio(key="da:method").value == "source-only"
    at.button(key="da:preset:0").click().run()          # DANN
    assert at.radio(key="da:method").value == "grl" and at.slider(key="da:lam").value == 1.0
    at.number_input(key="da:train:steps").set_value(60)
    at.button(key="da:train:start").click().run()
    assert not at.exception, at.exception
    assert any("your network" in m.label for m in at.metric)
    assert not any("shipped DANN" in i.value for i in at.info)
    assert any(b.label.startswith("Download your network") for b in at.get("download_button"))


def test_lambda_too_high_preset_is_reported_as_a_collapse(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=240).run()
    at.button(key="da:preset:3").click().run()
    assert at.slider(key="da:lam").value >= 10
    at.number_input(key="da:train:steps").set_value(300)      # the lesson's budget (bench/lessons.py)
    at.button(key="da:train:start").click().run()
    assert not at.exception, at.exception
    assert not any("Adapted" in s.value for s in at.success), [s.value for s in at.success]
    said = " ".join([e.value for e in at.error] + [w.value for w in at.warning])
    assert "collapsed" in said or "No gain on the target" in said, said
