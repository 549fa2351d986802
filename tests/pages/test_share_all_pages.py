"""Every page that shares its state (issue 26): each shared setting, moved off its default, goes into the link,
comes back from it into its widget (the widget accepts it: the spec's type and range match the widget's), and
leaves the page without an error. The datasets page runs in the quick suite, every other page with -m slow."""

import math

import pytest
from streamlit.testing.v1 import AppTest

from dlplay import catalogue
from dlplay.ui import share

SHARED = [d.url_path for d in catalogue.available() if "share.link(" in d.path.read_text()]
HEAVY = {"map"}      # settings whose other values start long computations on opening (t-SNE, UMAP)


def _other_value(p: share.Param, values: dict):
    d = p.default_value(values)
    if p.kind == "choice":
        cs = list(p.resolve("choices", values))
        return next((c for c in cs[1:] + cs[:1] if c != d), d)
    if p.kind == "bool":
        return not d
    if p.kind == "str":
        return d
    lo, hi = p.resolve("lo", values), p.resolve("hi", values)
    if p.kind == "int":
        return d + 1 if d + 1 <= hi else d - 1
    v = round(d + (hi - d) / 3, 2) if hi > d else round((d + lo) / 2, 2)
    return v if math.isfinite(v) else d


def _run(root, page, query=None):
    at = AppTest.from_file(str(root / "pages" / f"{page}.py"), default_timeout=300)
    at.query_params.update(query or {})
    return at.run()


@pytest.mark.parametrize("page", [pytest.param(p, marks=[] if p == "datasets" else pytest.mark.slow)
                                  for p in SHARED])
def test_every_shared_setting_round_trips_through_the_link(root, page):
    at = _run(root, page)
    assert not at.exception
    name, params = at.session_state["share:page"]
    values, query, keys = {}, {}, {}
    for p in params:
        keys[p.name] = p.widget_key(values)
        if p.name in HEAVY:
            values[p.name] = p.default_value(values)
            continue
        v = _other_value(p, values)
        values[p.name] = v
        if share._fmt(v) != share._fmt(p.default_value(values)):   # (a choice of one cannot move)
            query[p.name] = share._fmt(v)
    at = _run(root, page, query)
    assert not at.exception, at.exception
    assert not any(i.value.startswith("This link's settings were adjusted") for i in at.info), query
    shown = {n: at.session_state[k] for n, k in keys.items() if k in at.session_state and n in query}
    assert shown, "no shared widget was drawn"
    for n, v in shown.items():
        assert share._fmt(v) == query[n], (n, v, query[n])
        assert at.query_params.get(n) == query[n], (n, dict(at.query_params))
