"""A link for every state (issue 26) in AppTest: a page opened with query parameters starts from them, writes the
valid ones back into the URL, says in one line what it changed in a bad link, and its Share button shows the link
(and a QR code)."""

from streamlit.testing.v1 import AppTest


def _open(root, page, query):
    at = AppTest.from_file(str(root / "pages" / page), default_timeout=240)
    at.query_params.update(query)
    return at.run()


def _adjusted(at):
    return [i.value for i in at.info if i.value.startswith("This link's settings were adjusted")]


def test_autoencoder_lab_link_restores_its_knobs_seed_budget_and_tab(root):
    q = {"variant": "denoising", "k": "12", "weight": "0.45", "noise": "dropout", "tied": "1", "seed": "3",
         "steps": "700", "tab": "Denoising"}
    at = _open(root, "autoencoders.py", q)
    assert not at.exception and not at.error
    assert at.selectbox(key="ae:variant").value == "denoising"
    assert at.number_input(key="ae:k:digits:denoising").value == 12
    assert at.slider(key="ae:knob:denoising").value == 0.45
    assert at.radio(key="ae:noise").value == "dropout"
    assert at.number_input(key="ae:train:seed").value == 3
    assert at.number_input(key="ae:train:steps").value == 700
    assert at.session_state["ae:tab"] == "Denoising"
    assert not _adjusted(at)
    assert {k: at.query_params[k] for k in q} == q           # the URL keeps the state (tied is disabled but kept)


def test_vae_bad_link_opens_with_nearest_values_and_one_line(root):
    at = _open(root, "vae.py", {"latent": "8", "beta": "3.5", "grid": "99", "seed": "x", "bogus": "1",
                                "tab": "Encoder view"})
    assert not at.exception and not at.error
    assert at.number_input(key="vae:latent").value == 8
    assert at.select_slider(key="vae:beta").value == 4.0     # the nearest choice to 3.5
    assert at.slider(key="vae:grid").value == 25
    assert at.number_input(key="vae:train:seed").value == 0
    assert at.session_state["vae:tab"] == "Encoder view"
    notes = _adjusted(at)
    assert len(notes) == 1 and all(b in notes[0] for b in ("beta 3.5", "grid 99", "'x'", "'bogus'"))
    assert "bogus" not in at.query_params and at.query_params["grid"] == "25"
    # a knob changed: the URL follows; the Share button shows the same link and a QR code
    at.select_slider(key="vae:beta").set_value(0.5).run()
    assert at.query_params["beta"] == "0.5"
    assert not _adjusted(at)                                 # the note was for opening the link only
    at.sidebar.button(key="share:vae:open").click().run()
    assert not at.exception
    codes = [c.value for c in at.code]
    assert any("/vae?" in c and "beta=0.5" in c and "latent=8" in c for c in codes), codes


def test_gan_link_restores_knobs_of_both_tabs(root):
    q = {"loss": "wgan-gp", "lr_g": "0.0005", "k_d": "5", "batch_size": "512", "seed": "4", "target": "moons",
         "tab": "Images: DCGAN and conditional GAN", "img_loss": "lsgan", "img_cond": "0", "img_steps": "300"}
    at = _open(root, "gan.py", q)
    assert not at.exception and not at.error
    ss = at.session_state
    assert (ss["gan:loss"], ss["gan:lr_g"], ss["gan:k_d"], ss["gan:batch_size"], ss["gan:seed"]) == \
        ("wgan-gp", 5e-4, 5, 512, 4)
    assert at.selectbox(key="gan:target").value == "moons"
    assert at.selectbox(key="gan:img:loss").value == "lsgan" and at.toggle(key="gan:img:cond").value is False
    assert at.number_input(key="gan:img:steps").value == 300
    assert ss["gan:tab"] == q["tab"]
    assert {k: at.query_params[k] for k in q} == q
