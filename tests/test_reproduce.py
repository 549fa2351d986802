"""The code behind a run (issue 26): the generated CLI line parses back to the page's config, and the generated
standalone script trains the same model as the runner does for the page (same seed and steps)."""

import json
import os
import subprocess
import sys

import pytest

from dlplay import autoencoders as ae
from dlplay import cli, reproduce, topics, vae
from dlplay.runner import Job, run_now

STEPS = 150


def test_cli_line_says_every_setting_and_parses_back_to_the_config():
    cfg = ae.AutoencoderConfig(dataset="digits", variant="denoising", code_size=12, weight=0.45, noise="dropout",
                               weight_l1=0.1, tied=False, loss="pixel")
    line, missing = reproduce.cli_command("train autoencoder", cfg, seed=3, steps=700)
    assert missing == []
    argv = line.split()[3:]
    assert argv[:2] == ["train", "autoencoder"] and "--seed 3" in line and "--steps 700" in line
    args = cli.build_parser(argv).parse_args(argv)
    assert topics.config_from_args(ae.AutoencoderConfig, args) == cfg
    # the VAE's CLI has no --lr: said, not silently dropped
    line, missing = reproduce.cli_command("train vae", vae.VAEConfig(latent=8, beta=4.0, lr=1e-3), seconds=20)
    assert "--latent 8" in line and "--beta 4.0" in line and "--seconds 20" in line
    assert missing == ["lr = 0.001"]


def test_notebook_is_valid_and_holds_the_script():
    nbformat = pytest.importorskip("nbformat")
    cfg = vae.VAEConfig(latent=3)
    nb = nbformat.reads(reproduce.notebook(vae.make_task, cfg, 2, 100, title="VAE"), as_version=4)
    nbformat.validate(nb)
    code = "".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "VAEConfig(latent=3)" in code and "SEED = 2" in code and "run(steps=100)" in code


@pytest.mark.slow   # a fresh Python for the script and the runner's worker processes: about a minute here
@pytest.mark.parametrize("make_task,cfg,metric", [
    (ae.make_task, ae.AutoencoderConfig(dataset="digits", variant="deep", code_size=6), "test_mse"),
    (vae.make_task, vae.VAEConfig(dataset="digits", latent=2, beta=1.0, arch="mlp"), "test_elbo"),
], ids=["autoencoder", "vae"])
def test_generated_script_reaches_the_pages_metric(tmp_path, root, make_task, cfg, metric):
    src = reproduce.script(make_task, cfg, seed=1, steps=STEPS, title="test")
    (tmp_path / "run.py").write_text(src)
    env = {**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1", "DLPLAY_THREADS": "1",
           "DLPLAY_DEVICE": "cpu"}
    out = subprocess.run([sys.executable, "run.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["steps"] == STEPS and (tmp_path / "model_state.pt").exists()
    end = run_now(Job(make_task, cfg, 1, steps=STEPS, record_every=20, device="cpu"))   # as the page's panel
    page = end["last_eval"][metric]
    assert abs(got[metric] - page) <= 0.1 * abs(page), (got[metric], page)
    # and the run did learn something (a fresh model is far worse), so the comparison can fail
    fresh = make_task(cfg, 1, device="cpu").evaluate()[metric]
    assert abs(fresh - page) > 0.1 * abs(page)


def test_generated_script_runs_in_process(tmp_path, monkeypatch, capsys):
    """The quick run's check that the script is valid and trains (the subprocess comparison is marked slow)."""
    import runpy
    cfg = ae.AutoencoderConfig(dataset="digits", variant="linear", code_size=4)
    (tmp_path / "run.py").write_text(reproduce.script(ae.make_task, cfg, seed=2, steps=60))
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(tmp_path / "run.py"), run_name="__main__")
    got = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert got["steps"] == 60 and got["test_mse"] < ae.make_task(cfg, 2, device="cpu").evaluate()["test_mse"]
