"""Issue 31's bounds, each checked in the backend: gensim token x epoch budgets, embedding point x dimension
budgets, per-model result caches and chunked distances, and the runner freeing a run nobody polls."""

import time

import numpy as np
import pytest
import torch

from dlplay import limits
from dlplay.errors import InputError


# -- gensim: tokens x epochs, and the work at heavier settings ---------------------------------------------------
def test_gensim_budget_refuses_with_a_sentence_before_anything_is_built():
    from dlplay import words as W

    # the Wikipedia sample (452,944 tokens) x 50 epochs = 22.6 million token-epochs: over the 20 million cap
    with pytest.raises(InputError, match="tokens x 50 epochs"):
        W.make_gensim_task(W.Word2VecConfig(corpus="wiki", epochs=50))
    # one epoch at the heaviest settings is 26x the default work (measured 21x the time): over 25 million
    with pytest.raises(InputError, match="too much work"):
        W.make_gensim_task(W.Word2VecConfig(corpus="wiki", epochs=3, dim=300, window=10, negative=25))
    with pytest.raises(InputError, match="too much work"):
        W.train_gensim(W.corpus("wiki"), epochs=3, dim=300, window=10, negative=25)
    # the defaults on the same corpus fit, and the count follows the settings
    t = W.make_gensim_task(W.Word2VecConfig(corpus="wiki", epochs=5))
    assert t.model is None and t.tokens == 452_944 and t.work == pytest.approx(452_944 * 5)
    assert limits.gensim_work(1000, 2, window=10, negative=11, dim=200) == pytest.approx(1000 * 2 * 2 * 2 * 2)


def test_an_uploaded_text_over_the_budget_is_refused(monkeypatch):
    from dlplay import words as W

    monkeypatch.setattr(limits, "MAX_TOKEN_EPOCHS", 5_000)
    text = "\n".join(" ".join(f"w{(i * 7 + j) % 50}" for j in range(100)) for i in range(30))   # 3,000 tokens
    W.make_gensim_task(W.Word2VecConfig(corpus="text", text=text, epochs=1, min_count=1))
    with pytest.raises(InputError, match="3,000 tokens x 2 epochs"):
        W.make_gensim_task(W.Word2VecConfig(corpus="text", text=text, epochs=2, min_count=1))


def test_gensim_runs_through_the_runner_one_epoch_a_step_and_stops():
    from dlplay import words as W
    from dlplay.runner import Job, Runner

    r = Runner(capacity=1, backend="thread")
    try:
        cfg = W.Word2VecConfig(corpus="lee", epochs=3, dim=20, min_count=2)
        run = r.submit(Job(W.make_gensim_task, cfg, seed=0, seconds=120))
        while not run.finished:
            run.messages()
            time.sleep(0.05)
        assert run.end["reason"] == "finished" and run.end["steps"] == 3, run.end
        replica = W.make_gensim_task(cfg)
        replica.load_state_dict(run.end["state"])
        g = replica.result()
        assert g["epochs"] == 3 and g["vectors"].shape == (len(g["words"]), 20) and g["words_per_second"] > 0
        # Stop ends it at the next epoch boundary, with the epochs done so far
        run = r.submit(Job(W.make_gensim_task, W.Word2VecConfig(corpus="lee", epochs=40, dim=20, min_count=2),
                           seed=0, seconds=120))
        while not run.messages() and not run.finished:
            time.sleep(0.02)
        run.stop()
        while not run.finished:
            run.messages()
            time.sleep(0.05)
        assert run.end["reason"] == "stopped" and 1 <= run.end["steps"] < 40
    finally:
        r.close()


def test_doc2vec_tokens_x_epochs_are_bounded(monkeypatch):
    from dlplay.documents import doc2vec

    monkeypatch.setattr(limits, "MAX_TOKEN_EPOCHS", 100_000)
    with pytest.raises(InputError, match="This Doc2Vec run would read"):
        doc2vec.make_task(doc2vec.Doc2VecConfig(epochs=2))


# -- the Autoencoder Lab: per-model results, chunked distances ---------------------------------------------------
def test_nearest_in_chunks_equals_all_at_once(monkeypatch):
    from dlplay.autoencoders import measures

    g = torch.Generator().manual_seed(0)
    q, b = torch.rand(57, 9, generator=g), torch.rand(300, 9, generator=g)
    full = torch.cdist(q, b).topk(5, largest=False).indices
    monkeypatch.setattr(measures, "NEAREST_CHUNK_FLOATS", 1000)       # 3 queries a block
    assert torch.equal(measures.nearest(q, b, 5), full)
    self_full = torch.cdist(b, b).fill_diagonal_(float("inf")).topk(4, largest=False).indices
    assert torch.equal(measures.nearest(b, b, 4, exclude_self=True), self_full)


def test_per_model_results_are_computed_once_per_weights():
    from dlplay import autoencoders as ae

    model = ae.build_model("deep", (1, 8, 8), code_size=2)
    store, calls = {}, []
    f = lambda: calls.append(1) or len(calls)  # noqa: E731
    assert ae.per_model(store, model, ("digits", "search"), f) == 1
    assert ae.per_model(store, model, ("digits", "search"), f) == 1          # a rerun: no recomputation
    assert ae.per_model(store, model, ("digits", "map", "t-SNE"), f) == 2    # another result of the same model
    with torch.no_grad():
        next(model.parameters()).add_(1.0)                                  # trained further: new weights
    assert ae.per_model(store, model, ("digits", "search"), f) == 3
    for i in range(40):
        ae.per_model(store, model, ("x", i), f)
    assert len(store) <= 16


def test_code_map_tsne_is_bounded_to_a_sample():
    from dlplay import autoencoders as ae

    codes = np.random.default_rng(0).normal(size=(150, 4))
    xy = ae.code_map(codes, "t-SNE", max_points=60)
    assert xy.shape == (150, 2) and np.isfinite(xy).all(1).sum() == 60


# -- the runner: a run nobody polls (its tab closed) is freed -----------------------------------------------------
def _free_after_last_poll(stale_seconds=None) -> float:
    """Seconds from a run's last poll until its slot is free again (a training run in chunks of 0.1 s)."""
    from dlplay import autoencoders as ae
    from dlplay.runner import Job, Runner

    kw = {} if stale_seconds is None else {"stale_seconds": stale_seconds}
    r = Runner(capacity=1, backend="thread", **kw)
    try:
        run = r.submit(Job(ae.make_task, ae.AutoencoderConfig(), seed=0, seconds=120))
        while r.busy == 0 or not run.messages():
            time.sleep(0.02)
        last_poll = time.monotonic()          # the tab closes: nobody calls messages() any more
        while r.busy and time.monotonic() - last_poll < 30:
            time.sleep(0.05)
        return time.monotonic() - last_poll
    finally:
        r.close()


def test_a_run_nobody_polls_is_paused_and_its_slot_freed():
    # paused at 2 s without a poll; the rest is the last chunk and the final evaluation (slower on a loaded CPU)
    freed = _free_after_last_poll(2.0)
    assert 2.0 <= freed < 2.0 + 5.0, freed


def test_a_run_is_freed_within_5_s_of_its_tab_closing():
    assert _free_after_last_poll() < 5.0


# -- embeddings: points x dimensions, points x neighbours, refused before the library starts ---------------------
def test_embedding_budgets_refuse_with_the_numbers_and_what_to_change():
    from dlplay import embed as E

    def cfg(n, d, **kw):
        return E.EmbedConfig(data=E.Vectors(f"{n}x{d}", np.zeros((n, d), np.float32)), **kw)

    with pytest.raises(InputError, match="3-D t-SNE takes at most 10,000"):
        cfg(10_001, 2, method="tsne", dim=3).check()
    cfg(10_000, 2, method="tsne", dim=3).check()
    with pytest.raises(InputError, match="takes at most 25,000,000"):
        cfg(40_000, 784, method="pca").check()                        # 31 million numbers
    with pytest.raises(InputError, match="graph edges"):
        cfg(50_000, 2, method="umap", n_neighbors=200).check()       # the 127 s UMAP
    cfg(50_000, 2, method="umap", n_neighbors=20).check()                 # the page's default 15 fits at 50k
    with pytest.raises(InputError, match="at most 20 neighbours"):
        cfg(50_000, 2, method="umap", n_neighbors=50).check()
    with pytest.raises(InputError, match="at most 30 neighbours"):
        cfg(5_000, 2, method="isomap", n_neighbors=100).check()      # measured 99 s, one unstoppable call
    with pytest.raises(InputError, match="MDS takes at most 2,000 points"):
        cfg(2_001, 2, method="mds").check()
    # the Embedder checks the same before it starts (the CLI and notebooks use it directly)
    with pytest.raises(InputError, match="graph edges"):
        E.Embedder("isomap", n_neighbors=100).fit(np.random.default_rng(0).normal(size=(5_000, 3)))
