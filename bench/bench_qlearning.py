"""Q-learning rows: the issue's targets measured on several seeds, the cliff lesson, and the engine's cost.

- default 6x6 grid, 2,000 episodes, seeds 0 / 1 / 2: max |V - V*| against value iteration, cells from which the
  greedy policy reaches the goal, wall time.
- cliff walking, 500 episodes, seeds 0-4: share of the greedy path next to the cliff and mean return of the last
  300 episodes (exploration included), SARSA beside Q-learning.
- DQN beside the table on the default grid after the same number of moves: max |V - V*|.
- engine speed: moves per second of Q-learning through Trainer against a bare NumPy loop of the same update.
"""

from __future__ import annotations

import time

import numpy as np

from dlplay import qlearning as ql
from dlplay.train import Trainer


def _default_grid(quick: bool) -> list[dict]:
    seeds = [0] if quick else [0, 1, 2]
    errs, reached, secs = [], [], []
    for seed in seeds:
        task = ql.make_task(ql.QConfig(), seed)
        t0 = time.perf_counter()
        ql.train_episodes(task, 2000)
        secs.append(time.perf_counter() - t0)
        ag = ql.agent_of(task)
        errs.append(ag.max_err())
        ok, total = ag.reached()
        reached.append(f"{ok}/{total}")
    return [{"what": "default 6x6 grid, 2,000 episodes: max |V - V*| (seeds " + "/".join(map(str, seeds)) + ")",
             "dlplay": " / ".join(f"{e:.2g}" for e in errs), "baseline": 0.05, "baseline_name": "goal",
             "unit": "return", "note": f"greedy reaches the goal from {', '.join(reached)} cells; "
                                       f"{np.mean(secs):.2f} s per run"}]


def _cliff(quick: bool) -> list[dict]:
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    out = {}
    for alg in ("sarsa", "q-learning"):
        edge, ret = [], []
        for seed in seeds:
            task = ql.make_task(ql.CLIFF.replace(algorithm=alg), seed)
            ql.train_episodes(task, 500)
            ag = ql.agent_of(task)
            edge.append(ql.path_edge_share(ag))
            ret.append(float(np.mean(task.returns[-300:])))
        out[alg] = (edge, ret)
    fmt = lambda v, f: " / ".join(f.format(x) for x in v)  # noqa: E731
    return [
        {"what": "cliff, 500 episodes: greedy path's share next to the cliff (seeds " + "/".join(map(str, seeds))
                 + ")", "dlplay": fmt(out["sarsa"][0], "{:.2f}"), "baseline": fmt(out["q-learning"][0], "{:.2f}"),
         "baseline_name": "Q-learning", "unit": "share", "note": "dlplay column = SARSA"},
        {"what": "cliff, 500 episodes: mean return of the last 300 episodes while exploring (eps 0.1)",
         "dlplay": fmt(out["sarsa"][1], "{:.1f}"), "baseline": fmt(out["q-learning"][1], "{:.1f}"),
         "baseline_name": "Q-learning", "unit": "return", "note": "dlplay column = SARSA"},
    ]


def _dqn(quick: bool) -> list[dict]:
    steps = 2000 if quick else 10000
    res = {}
    secs = {}
    for alg in ("dqn", "q-learning"):
        task = ql.make_task(ql.QConfig(algorithm=alg), 0)
        tr = Trainer(task, record_every=100).run(steps=steps)
        res[alg], secs[alg] = ql.agent_of(task).max_err(), tr.seconds
    return [{"what": f"default grid, {steps} moves: max |V - V*|, DQN (one-hot input)", "dlplay": res["dqn"],
             "baseline": res["q-learning"], "baseline_name": "table", "unit": "return",
             "note": f"DQN {steps / secs['dqn']:.0f} moves/s, table {steps / secs['q-learning']:.0f} moves/s"}]


def _bare_loop(cfg: ql.QConfig, steps: int, seed: int = 0) -> float:
    """The same Q-learning update written as one plain loop (what a notebook would do): seconds for `steps`."""
    env = cfg.env()
    rng = np.random.default_rng(seed)
    q = np.zeros((env.n, 4))
    s, t = None, 0
    t0 = time.perf_counter()
    for _ in range(steps):
        if s is None:
            s, t = int(env.start_pool[rng.integers(len(env.start_pool))]), 0
        if rng.random() < cfg.epsilon:
            a = int(rng.integers(4))
        else:
            row = q[s]
            best = np.flatnonzero(row == row.max())
            a = int(best[rng.integers(len(best))])
        s2 = env.move(s, a, rng)
        r, done = float(env.reward[s2]), bool(env.terminal[s2])
        q[s, a] += cfg.alpha * (r + cfg.gamma * (0.0 if done else q[s2].max()) - q[s, a])
        t += 1
        s = None if done or t >= cfg.max_episode_steps else s2
    return time.perf_counter() - t0


def _engine(quick: bool) -> list[dict]:
    steps = 5000 if quick else 30000
    cfg = ql.QConfig()
    task = ql.make_task(cfg, 0)
    tr = Trainer(task, record_every=50).run(steps=steps)
    bare = _bare_loop(cfg, steps)
    return [{"what": "Q-learning moves per second, default grid", "dlplay": steps / tr.seconds,
             "baseline": steps / bare, "baseline_name": "bare NumPy loop", "unit": "moves/s",
             "note": "the engine's task also records the transition and scores the table after each episode"}]


def rows(quick: bool = False) -> list[dict]:
    out = _default_grid(quick) + _cliff(quick) + _dqn(quick) + _engine(quick)
    return [{"bench": "qlearning", **r} for r in out]
