"""The Learning-from-rewards page: the shipped agent on open, stepping one transition with the update written out,
a short training run that switches the views to the user's agent, the cliff comparison, and a bad grid as a
sentence."""

from streamlit.testing.v1 import AppTest


def _metrics(at):
    return {m.label: m.value for m in at.metric}


def test_rewards_page_shipped_step_train_and_bad_grid(root):
    at = AppTest.from_file(str(root / "pages" / "rewards.py"), default_timeout=180).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    charts = [c.proto.id for c in at.get("plotly_chart")]
    assert any(i.endswith("rl:q") for i in charts) and any(i.endswith("rl:values") for i in charts)
    m = _metrics(at)
    assert m["Greedy policy reaches the goal from"] == "27 / 27 cells"          # the shipped agent
    assert float(m["max |V - V*|"]) <= 0.05
    assert float(m["SARSA: path moves next to the cliff"].rstrip("%")) < float(
        m["Q-learning: path moves next to the cliff"].rstrip("%"))

    at.button(key="rl:step1").click().run()
    assert not at.exception
    assert any(r"Q(s,a) \leftarrow" in tex.value for tex in at.latex)          # the update, numbers filled in
    at.button(key="rl:ep1").click().run()
    assert not at.exception and at.dataframe

    at.selectbox(key="rl:preset").select("Cliff walking (Sutton & Barto)").run()
    at.selectbox(key="rl:alg:Cliff walking (Sutton & Barto)").select("sarsa").run()
    at.number_input(key="rl:train:steps").set_value(2000)
    at.button(key="rl:train:start").click().run()
    assert not at.exception, at.exception
    assert any("your agent" in s.value for s in at.success)
    assert int(_metrics(at)["Episodes trained"].replace(",", "")) > 20

    at.text_area(key="rl:grid:Cliff walking (Sutton & Barto)").input("S.#.\n..#G\n..#.").run()
    assert not at.exception
    assert any("cannot be reached" in e.value for e in at.error)              # before any training
