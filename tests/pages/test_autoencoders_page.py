"""The Autoencoder Lab page in AppTest: shipped model first, a latent slider changes the decoded image, a short
training replaces the model and publishes its codes for the Embedding Explorer, variant tabs render."""

from streamlit.testing.v1 import AppTest

PAGE = "pages/autoencoders.py"


def _image_urls(at):
    return [i.url for el in at.get("image") for i in el.proto.imgs]


def test_page_opens_on_shipped_model_and_slider_moves_the_image(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    assert not at.exception and not at.error
    assert any("shipped" in i.value for i in at.info)
    labels = [m.label for m in at.metric]
    assert any("PCA" in lab for lab in labels)
    before = _image_urls(at)
    s = at.slider(key="ae:lat:s0")
    s.set_value(s.max).run()
    assert not at.exception
    after = _image_urls(at)
    assert after and after != before  # the decoded image was redrawn from the changed code


def test_short_training_then_variant_views(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:variant").select("denoising").run()
    at.slider(key="ae:train:budget").set_value(1.0)
    at.button(key="ae:train:start").click().run()
    assert not at.exception and not at.error
    assert not any("shipped" in i.value for i in at.info)  # now showing the user's model
    published = at.session_state["dlplay:published_vectors"]
    assert any(name.startswith("Autoencoder Lab") for name in published)
    assert any("PSNR" in m.label for m in at.metric)
    for variant in ("linear", "overcomplete", "sparse", "conv"):
        at.selectbox(key="ae:variant").select(variant).run()
        assert not at.exception and not at.error, variant


def test_rotations_one_number_code(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:dataset").select("rotations").run()
    assert not at.exception and not at.error
    assert any("R²" in m.label for m in at.metric)
    assert at.number_input(key="ae:k:rotations:deep").value == 1
