"""The abuse suite in its reduced form (CI: `pytest -m slow`): a real server in headless Chromium, three of issue
31's cases (a 20,000-character table cell, 3-D t-SNE of 50,000 points, UMAP with 200 neighbours) refused with their
sentence while the server stays responsive, and three students train the Autoencoder
Lab beside one running a 2-D t-SNE of 50,000 uploaded points. The full run is `python bench/abuse.py`."""

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.timeout(600)
def test_reduced_abuse_suite_refuses_and_students_still_finish():
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("no /usr/bin/chromium")
    from bench.abuse import run

    r = run(["table", "tsne3d", "umap"], students=3, abuser="t-SNE")
    rows = {c["case"]: c for c in r["cases"]}
    assert rows["table"]["outcome"].startswith("refused: Line 2 has a cell longer than 1,000"), rows["table"]
    assert rows["tsne3d"]["outcome"].startswith("refused: 3-D t-SNE takes at most 10,000"), rows["tsne3d"]
    assert rows["umap"]["outcome"].startswith("refused: UMAP with"), rows["umap"]
    assert rows["checkpoint"]["outcome"].startswith("refused") and rows["csv_export"]["outcome"] == "neutralised"
    for name in ("table", "tsne3d", "umap"):
        assert rows[name]["seconds"] < 30 and rows[name]["health_p95_s"] < 1.0, rows[name]
    nine = r["nine_beside_one"]
    assert nine["finished"] == 3, nine["failures"]
    assert nine["health_p95_s"] < 1.0, nine
