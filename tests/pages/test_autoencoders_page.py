"""The Autoencoder Lab page in AppTest: shipped model first, a latent slider changes the decoded image, a short
training replaces the model and publishes its codes for the Embedding Explorer, every variant's view renders from
its shipped model, and the options (tied weights, L1 on the weights) go through the topic's config."""

from streamlit.testing.v1 import AppTest

PAGE = "pages/autoencoders.py"


def _image_urls(at):
    return [i.url for el in at.get("image") for i in el.proto.imgs]


def _metric(at, start):
    return next(m.value for m in at.metric if m.label.startswith(start))


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
    # the search table: per kind of query, the code beats the same number of pixels, all pixels beat the code
    table = at.dataframe[0].value
    pct = lambda col: [float(v.rstrip("%")) for v in table[col]]  # noqa: E731
    assert all(c > p for c, p in zip(pct("code (8 numbers)"), pct("the 8 most varying pixels")))
    assert all(c <= p for c, p in zip(pct("code (8 numbers)"), pct("all 64 pixels")))


def test_every_variant_opens_on_its_shipped_model(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    for variant in ("linear", "sparse", "denoising", "redundant", "overcomplete", "contractive", "conv", "conv_pool"):
        at.selectbox(key="ae:variant").select(variant).run()
        assert not at.exception and not at.error, variant
        assert any("shipped" in i.value for i in at.info), variant
        if variant == "sparse":   # the penalty's effect, against the same ReLU network without it
            assert any("lambda = 0" in str(p.proto.spec) for p in at.get("plotly_chart"))
            assert float(_metric(at, "Code numbers exactly 0").rstrip("%")) > 40   # lambda = 0: under 1%
        if variant == "linear":
            assert float(_metric(at, "Largest angle").rstrip("°")) < 5
        if variant == "redundant":
            assert any(m.label.startswith("... the plain deep model") for m in at.metric)


def test_short_training_then_variant_views(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:variant").select("denoising").run()
    at.number_input(key="ae:train:steps").set_value(200)
    at.button(key="ae:train:start").click().run()
    assert not at.exception and not at.error
    assert not any("shipped" in i.value for i in at.info)  # now showing the user's model
    published = at.session_state["dlplay:published_vectors"]
    assert any(name.startswith("Autoencoder Lab") for name in published)
    assert any("PSNR" in m.label for m in at.metric)


def test_options_train_a_tied_model_with_zero_weights(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:variant").select("linear").run()
    shipped_params = int(_metric(at, "Parameters").replace(",", ""))
    at.checkbox(key="ae:tied").check()
    at.slider(key="ae:wl1").set_value(0.5)
    at.number_input(key="ae:train:steps").set_value(200)
    at.button(key="ae:train:start").click().run()
    assert not at.exception and not at.error
    assert int(_metric(at, "Parameters").replace(",", "")) < 0.6 * shipped_params
    assert float(_metric(at, "First-layer weights exactly 0").rstrip("%")) > 0


def test_rotations_one_number_code(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:dataset").select("rotations").run()
    assert not at.exception and not at.error
    assert any("R²" in m.label for m in at.metric)
    assert at.number_input(key="ae:k:rotations:deep").value == 1


def test_two_number_code_beside_pca(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.number_input(key="ae:k:digits:deep").set_value(2).run()
    assert not at.exception and not at.error
    deep = float(_metric(at, "5-nearest-neighbour accuracy").rstrip("%"))
    pca = float(_metric(at, "... in PCA's 2-D").rstrip("%"))
    assert deep > pca + 15


def test_turning_the_penalty_after_training_keeps_the_model_and_marks_the_curves(root):
    """A knob the task takes mid-run (the sparsity weight) keeps the trained model; the code size does not."""
    at = AppTest.from_file(str(root / PAGE), default_timeout=180).run()
    at.selectbox(key="ae:variant").select("sparse").run()
    at.number_input(key="ae:train:steps").set_value(100)
    at.button(key="ae:train:start").click().run()
    tr = at.session_state["ae:train:panel"]["trainer"]
    assert tr is not None and tr.steps == 100
    knob = at.slider(key="ae:knob:sparse")
    knob.set_value(knob.max).run()
    assert not at.exception and not at.error
    kept = at.session_state["ae:train:panel"]["trainer"]
    assert kept is tr and kept.task.weight == knob.max          # same model, new penalty weight
    assert len(kept.marks) == 1 and kept.marks[0]["step"] == 100
    at.number_input(key="ae:k:digits:sparse").set_value(4).run()  # the code size changes the network: fresh model
    assert at.session_state["ae:train:panel"]["trainer"] is None
