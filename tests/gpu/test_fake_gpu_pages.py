"""Page flows under the fake GPU (tests/fakecuda.py): runs go to the runner's threads, which train on cuda:0 (fake),
while the session's replica stays on the CPU; pressing Train, then Resume, then rerunning must not break either
(the VAE page once moved the trainer's model in place with model.cpu())."""

import pytest
from streamlit.testing.v1 import AppTest

pytestmark = pytest.mark.fakegpu


def _ok(at):
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_vae_page_train_resume_and_rerun_on_the_fake_gpu(root, fresh_runner, fake_gpu):
    at = AppTest.from_file(str(root / "pages" / "vae.py"), default_timeout=240).run()
    _ok(at)
    at.number_input(key="vae:train:steps").set_value(30)
    at.button(key="vae:train:start").click().run()
    _ok(at)
    assert any("your VAE" in s.value for s in at.success)
    assert fake_gpu.kinds["device to host copy"] > 0       # the run trained on the (fake) device
    at.button(key="vae:train:start").click().run()          # Resume: the run continues from the session's state
    _ok(at)
    at.slider(key="vae:sl:s0").set_value(1.5).run()          # a rerun while showing the user's model
    _ok(at)
    at.button(key="vae:prior").click().run()
    _ok(at)


def test_autoencoders_page_trains_on_the_fake_gpu(root, fresh_runner):
    at = AppTest.from_file(str(root / "pages" / "autoencoders.py"), default_timeout=240).run()
    _ok(at)
    at.number_input(key="ae:train:steps").set_value(30)
    at.button(key="ae:train:start").click().run()
    _ok(at)
    at.button(key="ae:train:start").click().run()
    _ok(at)


def test_gan_page_plays_on_the_fake_gpu(root, fresh_runner):
    at = AppTest.from_file(str(root / "pages" / "gan.py"), default_timeout=240).run()
    _ok(at)
    at.button(key="gan:dstep").click().run()
    _ok(at)
    at.slider(key="gan:playfor").set_value(1)
    at.button(key="gan:play").click().run()
    _ok(at)
