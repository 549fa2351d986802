"""Embedding Explorer backend: reading uploaded tables, the quality numbers, small t-SNE / UMAP runs, the CLI."""

import io
import json

import pickle

import numpy as np
import pytest

from dlplay import embed as E
from dlplay.errors import InputError
from dlplay.train import Trainer


def _csv(text: str) -> bytes:
    return text.encode()


# ---------------------------------------------------------------- uploads

def test_csv_with_header_and_label_column():
    rows = "\n".join(f"{i},{i * 2},{i % 3},{['cat', 'dog', 'eel'][i % 3]}" for i in range(10))
    t = E.read_table(_csv("a,b,c,animal\n" + rows), "t.csv")
    assert t.x.shape == (10, 3) and t.columns == ["a", "b", "c"]
    assert t.label_name == "animal" and list(t.labels[:3]) == ["cat", "dog", "eel"]
    src = t.to_source("t.csv")
    assert src.hover[1].startswith("row 2") and "dog" in src.hover[1]


def test_numeric_label_column_is_not_a_feature_and_tsv_without_header_reads():
    t = E.read_table(_csv("x\ty\tlabel\n" + "\n".join(f"{i}\t{i * i}\t{i % 2}" for i in range(8))), "t.tsv")
    assert t.x.shape == (8, 2) and t.label_name == "label"
    t = E.read_table(_csv("\n".join(f"{i};{-i};{i * 0.5}" for i in range(6))), "t.csv")
    assert t.x.shape == (6, 3) and t.labels is None


@pytest.mark.parametrize("text,where", [
    ("1,2,3\n4,5\n6,7,8\n", "Line 2"),                          # ragged
    ("x,y,z\n1,2,3\n4,five,6\n7,8,9\n1,1,1\n2,2,2\n", "'y'"),    # text in a numeric column
    ("x,y\n1,2\n3,inf\n5,6\n7,8\n9,9\n", "'y'"),                # infinite
    ("x,y\n1,2\n", "1 usable row"),                              # a single row
    ("x,y\n" + "1,2\n" * 20, "distinct"),                        # duplicates only
])
def test_bad_tables_say_what_and_where(text, where):
    with pytest.raises(InputError) as e:
        E.read_table(_csv(text), "bad.csv")
    assert where in str(e.value)


def test_nan_is_refused_with_a_choice_or_dropped():
    text = "x,y\n1,2\n3,nan\n5,\n7,8\n9,9\n1,5\n2,7\n"
    with pytest.raises(InputError, match="drop rows with missing values"):
        E.read_table(_csv(text), "nan.csv")
    t = E.read_table(_csv(text), "nan.csv", drop_missing=True)
    assert t.x.shape == (5, 2) and np.isfinite(t.x).all()
    assert any("Dropped 2 rows" in n for n in t.notes)


def test_row_and_column_limits():
    with pytest.raises(InputError, match="more than 100 rows"):
        E.read_table(_csv("\n".join(f"{i},{i}" for i in range(150))), "big.csv", max_rows=100)
    with pytest.raises(InputError, match="numeric columns"):
        E.read_table(_csv("\n".join(",".join(str(i + j) for j in range(30)) for i in range(6))), "w.csv",
                     max_columns=20)


def test_npy_tables():
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).normal(size=(20, 4)))
    assert E.read_table(buf.getvalue(), "a.npy").x.shape == (20, 4)
    for bad in (np.zeros((4, 3, 2)), np.array(["a", "b"] * 5).reshape(5, 2)):
        buf = io.BytesIO()
        np.save(buf, bad)
        with pytest.raises(InputError):
            E.read_table(buf.getvalue(), "bad.npy")
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    with pytest.raises(InputError, match="objects"):
        E.read_table(buf.getvalue(), "obj.npy")


# ---------------------------------------------------------------- quality and methods

def test_quality_numbers_separate_a_good_layout_from_a_random_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2)) @ rng.normal(size=(2, 10))   # a 2-D plane in 10-D: PCA recovers it exactly
    good = E.quality(x, E.embed(x, "pca"))
    bad = E.quality(x, rng.normal(size=(400, 2)))
    assert good["trustworthiness"] > 0.99 and good["knn_kept"] > 0.9
    assert bad["trustworthiness"] < 0.7 and bad["knn_kept"] < 0.2
    sampled = E.quality(x, rng.normal(size=(400, 2)), max_points=100)   # the sampled estimate agrees
    assert sampled["n_used"] == 100 and abs(sampled["knn_kept"] - bad["knn_kept"]) < 0.1


def _clusters(n=80, k=3, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, size=(k, d))
    return np.concatenate([rng.normal(c, 1, size=(n, d)) for c in centres]).astype(np.float32)


TSNE_SMALL = dict(n_iter=50, exaggeration_iter=50, every=25)


def test_small_tsne_reports_progress_stops_and_resumes_to_the_same_layout():
    x = _clusters(50)
    full = E.Embedder("tsne", 2, seed=1, **TSNE_SMALL).fit(x)
    assert full.done_ and full.embedding_.shape == (150, 2) and full.iteration_ == 100
    assert E.quality(x, full.embedding_)["trustworthiness"] > 0.9
    seen = []

    def stop_in_main_phase(p):
        seen.append(p.iteration)
        return p.iteration >= 70

    part = E.Embedder("tsne", 2, seed=1, **TSNE_SMALL).fit(x, progress=stop_in_main_phase)
    assert not part.done_ and 70 <= part.iteration_ < 100 and seen[-1] == part.iteration_
    assert seen == sorted(seen) and len(seen) >= 3
    part.fit(x)  # resume: the same layout as an uninterrupted run
    assert part.done_ and part.iteration_ == 100
    np.testing.assert_allclose(part.embedding_, full.embedding_, atol=1e-4)

    # Streamlit interrupts a page's run by raising inside the callback; the run must stay resumable (openTSNE
    # un-exaggerates its affinities first, so the resumed layout is as good as an uninterrupted one).
    def interrupt(p):
        if p.iteration >= 20:
            raise KeyboardInterrupt

    emb = E.Embedder("tsne", 2, seed=1, **TSNE_SMALL)
    with pytest.raises(KeyboardInterrupt):
        emb.fit(x, progress=interrupt)
    assert 20 <= emb.iteration_ < 50 and not emb.done_
    emb.fit(x)
    assert emb.done_ and E.quality(x, emb.embedding_)["trustworthiness"] > 0.9


def test_small_umap_and_the_manifold_methods_keep_clusters():
    x = _clusters()
    labels = np.repeat(np.arange(3), 80)
    for method, kw in [("umap", dict(n_neighbors=10)), ("isomap", {}), ("lle", {}), ("mds", {})]:
        y = E.embed(x, method, 2, seed=0, **kw)
        assert y.shape == (240, 2) and np.isfinite(y).all(), method
        centres = np.stack([y[labels == c].mean(0) for c in range(3)])
        spread = max(y[labels == c].std() for c in range(3))
        gaps = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
        assert gaps > spread, method  # the three clusters stay apart
    assert E.embed(x, "pca", 3).shape == (240, 3)


def test_knobs_are_bounded_in_fit_scikit_learn_style():
    x = np.random.default_rng(0).normal(size=(30, 4))
    for kw, word in [(dict(perplexity=500), "perplexity"), (dict(n_iter=10**6), "iterations"),
                     (dict(learning_rate=-1), "learning rate"), (dict(min_dist=5), "min_dist")]:
        emb = E.Embedder("tsne" if "min_dist" not in kw else "umap", **kw)    # __init__ only stores
        with pytest.raises(InputError, match=word):
            emb.fit(x)
    with pytest.raises(InputError, match="at most"):
        E.Embedder("mds").fit(np.random.default_rng(0).normal(size=(E.MAX_POINTS["mds"] + 1, 3)))
    with pytest.raises(InputError, match="Unknown method 'nope'"):
        E.Embedder("nope").fit(x)


def test_embed_task_animates_stops_and_resumes_to_the_same_layout():
    """A t-SNE as a Task: a step is a few dozen iterations; a state carried to another task resumes exactly."""
    x = np.random.default_rng(1).normal(size=(120, 5)).astype(np.float32)
    cfg = E.EmbedConfig(data=E.Vectors.of(x), method="tsne", n_iter=50)
    whole = Trainer(E.make_task(cfg, 0)).run(steps=1000)
    assert whole.task.finished and whole.stopped_reason == "finished"
    assert whole.steps >= (E.TSNE_EXAGGERATION_ITER + 50) // E.task.TSNE_STEP_ITERATIONS   # many frames
    part = E.make_task(cfg, 0)
    Trainer(part).run(steps=4)
    assert not part.finished and 50 <= part.emb.iteration_ <= 4 * E.task.TSNE_STEP_ITERATIONS
    other = E.make_task(cfg, 0)
    other.load_state_dict(pickle.loads(pickle.dumps(part.state_dict())))   # as a worker process would get it
    Trainer(other).run(steps=1000)
    np.testing.assert_allclose(other.emb.embedding_, whole.task.emb.embedding_, atol=1e-4)


def test_three_dimensional_tsne_is_refused_above_its_budget():
    big = E.Vectors.of(np.zeros((E.MAX_TSNE_3D_POINTS + 1, 2), np.float32))
    with pytest.raises(InputError, match="3-D t-SNE takes at most"):
        E.EmbedConfig(data=big, method="tsne", dim=3).check()
    E.EmbedConfig(data=big, method="tsne", dim=2).check()


def test_digits_source_is_all_of_load_digits_in_order():
    from sklearn.datasets import load_digits

    src = E.load_source("digits")
    d = load_digits()
    assert src.x.shape == (1797, 64)
    np.testing.assert_allclose(src.x, d.data / 16, atol=1e-6)
    assert (src.labels == d.target).all() and src.images.shape == (1797, 1, 8, 8)


def test_cli_writes_coordinates_in_source_order(tmp_path, capsys):
    from dlplay.cli import main

    rng = np.random.default_rng(0)
    x = _clusters(40)
    path = tmp_path / "pts.csv"
    path.write_text("a,b,c,d,e,f,g,h,label\n" + "\n".join(",".join(f"{v:.4f}" for v in r) + f",{i // 40}"
                                                          for i, r in enumerate(x)))
    out = tmp_path / "coords.npy"
    assert main(["embed", "--source", str(path), "--method", "pca", "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["method"] == "pca" and summary["n"] == 120 and summary["trustworthiness"] > 0.8
    np.testing.assert_allclose(np.load(out), E.embed(x, "pca"), atol=1e-3)
    assert main(["embed", "--source", "nosuchthing", "--method", "pca"]) == 2
    del rng


def test_exported_csv_does_not_carry_spreadsheet_formulas():
    out = E.coords_csv(np.zeros((3, 2)), labels=["=HYPERLINK(\"http://x\")", "+1", "plain"]).decode()
    assert "'=HYPERLINK" in out and "'+1" in out and ",plain" in out
    assert "\n0,0,0,=" not in out


def test_long_text_cells_are_refused_and_labels_cost_what_they_hold():
    import tracemalloc

    long_cell = "1,2," + "x" * (E.tables.MAX_CELL_CHARS + 1) + "\n"
    with pytest.raises(InputError, match="longer than"):
        E.read_table(("a,b,label\n" + "1,2,x\n" * 10 + long_cell).encode())
    rows = "".join(f"{i},{i % 7},{'y' * (900 if i == 0 else 1)}\n" for i in range(20_000))
    tracemalloc.start()
    t = E.read_table(("a,b,label\n" + rows).encode())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert t.labels.dtype == object and len(t.labels) == 20_000
    assert peak < 60 * 2**20, peak    # fixed-width strings would take 20,000 x 900 x 4 bytes = 72 MB for labels
