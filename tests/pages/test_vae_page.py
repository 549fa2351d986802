"""The VAE page: shipped model on open, the manifold grid drawn, sliders decode live, prior sampling, a short
training run that switches every view to the user's model and publishes its codes to the Embedding Explorer."""

from streamlit.testing.v1 import AppTest

from dlplay.ui.shared import _KEY as PUBLISHED


def _image_urls(at):
    return [i.url for img in at.get("image") for i in img.proto.imgs]


def test_vae_page_manifold_sliders_sampling_and_training(root):
    at = AppTest.from_file(str(root / "pages" / "vae.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    charts = at.get("plotly_chart")
    assert any(c.proto.id.endswith("vae:manifold") for c in charts)  # the latent manifold grid is drawn
    metrics = {m.label: m.value for m in at.metric}
    share = metrics["Digits among 500 prior samples"]
    assert float(share.rstrip("%")) >= 80  # the shipped VAE's prior samples look like digits
    copied = [m.value for m in at.markdown if "Does the model copy" in m.value]
    assert copied and "no sign of copying" in copied[0]     # nearest training digits beside the draws (issue 21)
    assert any(c.proto.id.endswith("vae:copies:hist") for c in charts)

    before = _image_urls(at)
    at.slider(key="vae:sl:s0").set_value(2.5).run()
    assert not at.exception
    assert _image_urls(at) != before  # the decoded image follows the slider

    at.button(key="vae:prior").click().run()
    assert not at.exception
    assert at.slider(key="vae:sl:s0").value != 2.5  # a prior draw moved the sliders

    at.slider(key="vae:grid").set_value(8).run()
    assert not at.exception and not at.error

    at.number_input(key="vae:train:steps").set_value(100)
    at.button(key="vae:train:start").click().run()
    assert not at.exception, at.exception
    assert any("your VAE" in s.value for s in at.success)
    assert any(k.startswith("VAE:") for k in at.session_state[PUBLISHED])


def test_vae_page_shows_the_beta_trade_off_and_measures_it_again(root):
    at = AppTest.from_file(str(root / "pages" / "vae.py"), default_timeout=180).run()
    assert not at.exception and not at.error
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert any(c.endswith("vae:beta:fig") for c in charts)            # the shipped measurement, on open
    table = at.dataframe[0].value
    collapsed = table[table["posterior collapse"] == "yes"]
    assert list(collapsed["beta"]) == [4.0]                            # collapse named where it happens
    assert any(m.label == "Active latent units" for m in at.metric)
    caption = " ".join(c.value for c in at.caption)
    assert "posterior collapse" in caption and "sampling works better" not in caption

    at.number_input(key="vae:beta:steps").set_value(20)
    at.button(key="vae:beta:start").click().run()
    assert not at.exception, at.exception
    assert any("vae:beta:live" in c.proto.id for c in at.get("plotly_chart"))   # the user's own sweep drawn
    assert len(at.dataframe) >= 2 and len(at.dataframe[1].value) == 5  # one row per beta
