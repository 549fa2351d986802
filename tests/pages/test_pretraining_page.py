"""The Before end-to-end page in AppTest: it opens on the shipped curve, RBM, DBN and backbone runs; a short RBM training replaces
the shipped RBM; a short stack run adds the user's own point; a bad layer size is bounded by the backend's limit."""

from streamlit.testing.v1 import AppTest

from dlplay import pretraining as pt

PAGE = "pages/pretraining.py"


def _open(root):
    at = AppTest.from_file(str(root / PAGE), default_timeout=240).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_page_opens_on_the_shipped_models(root):
    at = _open(root)
    labels = [m.label for m in at.metric]
    assert any("Pre-trained minus random" in lab for lab in labels)
    gap = next(m for m in at.metric if "Pre-trained minus random" in m.label)
    assert float(gap.value.split()[0]) >= 5           # the shipped curve's claim, shown as a number
    assert any("shuffled copy" in lab for lab in labels)
    assert any("RBM-initialised" in lab for lab in labels)
    assert sum("shipped" in i.value for i in at.info) == 2   # the RBM and the DBN tabs say what they show
    assert len(at.get("plotly_chart")) >= 6                  # curve, chains, filters, free energy, DBN, backbone
    backbone = [m.value for m in at.markdown if "labels per class** (3 seeds)" in m.value]
    assert len(backbone) == 2 and all("frozen" in v and "fine-tuned" in v for v in backbone)   # 5 and 50 labels


def test_short_rbm_training_replaces_the_shipped_rbm(root):
    at = _open(root)
    at.slider(key="pt:rbm:k").set_value(2)
    at.number_input(key="pt:rbm:steps").set_value(300)
    at.button(key="pt:rbm:start").click().run()
    assert not at.exception and not at.error
    assert sum("shipped" in i.value for i in at.info) == 1   # only the DBN tab still shows a shipped run
    assert any("Chains judged digits" in m.label for m in at.metric)


def test_stack_run_adds_a_point_and_bad_sizes_are_refused(root):
    at = _open(root)
    at.number_input(key="pt:stack:size0").set_value(24)
    at.number_input(key="pt:stack:size1").set_value(12)
    at.number_input(key="pt:stack:size2").set_value(6)
    at.select_slider(key="pt:stack:pre").set_value(100)
    at.select_slider(key="pt:stack:ft").set_value(100).run()
    assert any("No runs for this architecture yet" in i.value for i in at.info)
    at.slider(key="pt:stack:budget").set_value(8.0)
    at.button(key="pt:stack:start").click().run()
    assert not at.exception and not at.error
    points = at.session_state["pt:stack:points"]
    assert ((24, 12, 6), "sigmoid", 100, 100) in points       # at least one seed (400 steps) finished in 8 s
    # the inputs stop at the backend's bound (wider layers are refused by StackConfig.check, tests/test_pretraining.py)
    assert at.number_input(key="pt:stack:size0").max == pt.MAX_WIDTH
