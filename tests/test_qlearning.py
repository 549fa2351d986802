"""Q-learning, SARSA and DQN in the grid world: the issue's targets on several seeds, the update rule, value
iteration on a grid small enough to solve by hand, bad input, checkpoints and the CLI."""

import json

import numpy as np
import pytest

from dlplay import checkpoints, cli
from dlplay import qlearning as ql
from dlplay.errors import InputError
from dlplay.topics import checkpoint_bytes
from dlplay.train import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_grid_learns_the_exact_values_within_2000_episodes(seed):
    task = ql.make_task(ql.QConfig(), seed)
    fresh = ql.agent_of(task)
    assert fresh.max_err() > 0.5 and fresh.reached()[0] < fresh.reached()[1]   # zeros are far from V*
    ql.train_episodes(task, 2000)
    assert 2000 <= task.episodes < 2100
    agent = ql.agent_of(task)
    ok, total = agent.reached()
    assert ok == total == 27                       # the greedy policy gets to the goal from every cell
    assert agent.max_err() <= 0.05                 # max |V - V*| against value iteration
    assert agent.policy_agreement()[0] == total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cliff_sarsa_keeps_off_the_edge_and_q_learning_walks_it(seed):
    agents = {}
    for alg in ("sarsa", "q-learning"):
        task = ql.make_task(ql.CLIFF.replace(algorithm=alg), seed)
        ql.train_episodes(task, 500)
        agents[alg] = ql.agent_of(task)
    q_path, s_path = agents["q-learning"].start_path(), agents["sarsa"].start_path()
    goal = int(np.flatnonzero(agents["sarsa"].env.goal)[0])
    assert q_path[-1] == goal and s_path[-1] == goal
    assert len(q_path) - 1 == 13                                 # the shortest path ...
    assert ql.path_edge_share(agents["q-learning"]) >= 0.8       # ... along the edge of the cliff
    assert len(s_path) - 1 > 13                                  # SARSA takes a longer way ...
    assert ql.path_edge_share(agents["sarsa"]) <= 0.25           # ... mostly away from the edge
    # and, exploring with the same epsilon, SARSA falls less often: it earns more while it learns
    assert np.mean(agents["sarsa"].returns[-300:]) > np.mean(agents["q-learning"].returns[-300:])


def test_value_iteration_on_a_corridor_matches_the_hand_computed_values():
    cfg = ql.QConfig(grid="S..G", gamma=0.9, step_cost=0.04, random_starts=False)
    env = cfg.env()
    q = ql.value_iteration(env, 0.9)
    v = q.max(1)
    assert v[2] == pytest.approx(0.96)                           # one move: -0.04 + 1
    assert v[1] == pytest.approx(-0.04 + 0.9 * 0.96)
    assert v[0] == pytest.approx(-0.04 + 0.9 * (-0.04 + 0.9 * 0.96))
    assert q[0].argmax() == 1                                    # go right
    slippery = ql.value_iteration(ql.QConfig(grid="S..G", slip=0.4, random_starts=False).env(), 0.9).max(1)
    assert slippery[0] < v[0]                                    # slipping costs moves


def test_one_step_applies_the_update_rule_with_the_numbers_shown():
    cfg = ql.QConfig(alpha=0.5, gamma=0.9)
    task = ql.make_task(cfg, 0)
    tr = Trainer(task)
    for _ in range(200):
        q_before = task.q.copy()
        tr.run(steps=1, evaluate=False)
        t = task.last
        assert t.r == pytest.approx(task.env.reward[t.s2])
        nv = 0.0 if t.done else q_before[t.s2].max()
        assert t.q_old == pytest.approx(q_before[t.s, t.a])
        assert t.target == pytest.approx(t.r + 0.9 * nv)
        assert task.q[t.s, t.a] == pytest.approx(t.q_old + 0.5 * (t.target - t.q_old))
        changed = np.argwhere(task.q != q_before)
        assert len(changed) <= 1                                 # one entry of the table per move
        tex = ql.update_latex(t, task.env)
        assert tex.endswith(f"= {t.q_new:.3f}") and f"r={t.r:.3f}" in tex
        assert (f"{abs(t.next_value):.3f}" in tex) != t.done or t.next_value == 0


def test_sarsa_target_uses_the_next_action_it_then_takes():
    task = ql.make_task(ql.CLIFF.replace(algorithm="sarsa", epsilon=0.5), 3)
    tr = Trainer(task)
    tr.run(steps=300, evaluate=False)
    for _ in range(50):
        q_before = task.q.copy()
        tr.run(steps=1, evaluate=False)
        t = task.last
        if not t.done:
            assert t.next_value == pytest.approx(q_before[t.s2, t.a2])
            nxt = task.last
            tr.run(steps=1, evaluate=False)
            if task.last.s == nxt.s2:                            # same episode: it took the action it used
                assert task.last.a == nxt.a2


def test_stop_and_resume_give_the_same_table():
    a = ql.make_task(ql.QConfig(slip=0.2), 5)
    Trainer(a).run(steps=3000)
    b = ql.make_task(ql.QConfig(slip=0.2), 5)
    tr = Trainer(b)
    tr.run(steps=1234)
    tr.run(steps=3000 - 1234)
    assert np.array_equal(a.q, b.q) and a.returns == b.returns


@pytest.mark.parametrize("preset", list(ql.PRESETS))
def test_every_preset_is_a_valid_grid_that_learns(preset):
    cfg = ql.PRESETS[preset]
    task = ql.make_task(cfg, 0)
    before = ql.agent_of(task)
    ql.train_episodes(task, 300 if cfg.slip == 0 else 1000)
    after = ql.agent_of(task)
    if cfg.slip == 0:
        ok, total = after.reached()
        assert ok > before.reached()[0] and ok >= 0.8 * total
    else:   # with slips, following the arrows without slipping is no measure; the values are
        assert after.max_err() < 0.5 * before.max_err()
        assert after.policy_agreement()[0] >= 0.7 * after.policy_agreement()[1]


@pytest.mark.parametrize("bad, words", [
    (dict(grid="S.#./..#G./..##"), "row lengths"),
    (dict(grid="S.#../..#G#/..###"), "cannot be reached"),            # a wall between start and goal
    (dict(grid="S...../..###./..#G#./..###."), "cannot be reached"),  # the goal walled in
    (dict(grid="S..Z"), "'Z'"),
    (dict(grid="S..."), "no goal"),
    (dict(grid="/".join(["S" + "." * 16] * 3) + "G"), "at most 16"),
    (dict(grid="/".join(["." * 4] * 17)), "at most 16"),
    (dict(epsilon=1.5), "epsilon"),
    (dict(gamma=-0.1), "gamma"),
    (dict(alpha=0.0), "alpha"),
    (dict(gamma=1.0, step_cost=0.0), "step cost"),
    (dict(grid="...G", random_starts=False), "no start"),
])
def test_bad_input_is_a_sentence_before_training(bad, words):
    with pytest.raises(InputError, match=words):
        ql.make_task(ql.QConfig(**bad), 0)


def test_checkpoint_round_trip_and_shipped_agents_hold_their_claims():
    task = ql.make_task(ql.QConfig(grid="S...#/.X..G", random_starts=True), 0)
    Trainer(task).run(steps=2000)
    agent = ql.load(checkpoint_bytes(ql, task, ql.save_extra(task)))
    assert np.allclose(agent.q, task.q) and agent.returns == [round(r, 3) for r in task.returns]
    shipped = {name: ql.load(checkpoints.shipped(name)) for name in ql.SHIPPED}
    assert shipped["qlearning_grid6"].max_err() <= 0.05
    assert shipped["dqn_grid6"].max_err() <= 0.1
    assert ql.path_edge_share(shipped["qlearning_cliff"]) >= 0.8
    assert ql.path_edge_share(shipped["sarsa_cliff"]) <= 0.25
    for name, sh in ql.SHIPPED.items():
        assert shipped[name].config == sh.config and ql.shipped_for(sh.config) == name


def test_dqn_learns_the_grid(seed=0):
    task = ql.make_task(ql.QConfig(algorithm="dqn"), seed)
    before = ql.agent_of(task).max_err()
    Trainer(task, record_every=100).run(steps=1500)
    agent = ql.agent_of(task)
    assert agent.max_err() < min(0.1, before / 2)
    assert agent.reached()[0] >= 26


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_dqn_learns_the_grid_on_other_seeds(seed):
    task = ql.make_task(ql.QConfig(algorithm="dqn"), seed)
    Trainer(task, record_every=100).run(steps=10000)
    agent = ql.agent_of(task)
    assert agent.max_err() < 0.1 and agent.reached()[0] == agent.reached()[1]


def test_greedy_paths_for_all_cells_agree_with_walking_each_one():
    for name in ("qlearning_cliff", "sarsa_cliff"):
        ag = ql.load(checkpoints.shipped(name))
        for q in (ag.q, np.zeros_like(ag.q), np.random.default_rng(0).normal(size=ag.q.shape)):
            fast = ag.env.greedy_paths(q)
            for s in np.flatnonzero(ag.env.live):
                assert fast[s] == bool(ag.env.goal[ag.env.greedy_path(q, s)[-1]])


def test_figures_and_downloads():
    agent = ql.load(checkpoints.shipped("qlearning_grid6"))
    fig = ql.q_figure(agent, path=agent.start_path(), animate=True)
    assert len(fig.frames) == len(agent.start_path())
    n_live = int(agent.env.live.sum())
    assert len([s for s in fig.layout.shapes if s.type == "path"]) == 4 * n_live   # four triangles per cell
    assert len(ql.value_figure(agent).data) == 3
    csv = ql.q_table_csv(agent)
    assert csv.count("\n") == n_live + 1


def test_cli_trains_a_preset_and_saves(tmp_path, capsys):
    out = tmp_path / "agent.pt"
    assert cli.main(["train", "qlearning", "--preset", "cliff", "--algorithm", "sarsa", "--episodes", "200",
                     "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["algorithm"] == "sarsa" and summary["episodes"] >= 200
    assert summary["grid"] == ql.CLIFF_GRID
    assert ql.load(out).config.algorithm == "sarsa"
    assert cli.main(["train", "qlearning", "--grid", "S#G", "--steps", "10"]) == 2
    assert "cannot be reached" in capsys.readouterr().err


def test_stepper_moves_by_hand_and_copies_leave_the_original_alone():
    stp = ql.Stepper(ql.QConfig(), seed=0)
    stp.moves(3)
    assert stp.trainer.steps == 3 and len(stp.history) == 3 and stp.history[-1] == stp.task.last
    done = stp.task.episodes
    stp.episodes(2)
    assert stp.task.episodes == done + 2
    assert stp.task.last.done or len(stp.task.last_path) - 1 == stp.config.max_episode_steps   # it stopped at an end
    trained = ql.make_task(ql.QConfig(), 0)
    Trainer(trained).run(steps=500)
    q = trained.q.copy()
    copy_ = ql.Stepper.from_task(trained)
    copy_.episodes(5)
    assert np.array_equal(trained.q, q) and not np.array_equal(copy_.task.q, q)
