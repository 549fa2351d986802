"""Tabular Q-learning and SARSA: the run settings (shared with DQN) and presets, the table, one transition explained
with its numbers, and the task the engine trains (one step = one move and one update of the table).

    Q-learning (off-policy, Watkins 1989; Sutton & Barto 2018, eq. 6.8):
        Q(s,a) <- Q(s,a) + alpha [ r + gamma max_a' Q(s',a') - Q(s,a) ]
    SARSA (on-policy, Sutton & Barto eq. 6.7): the target uses the action a' the agent will actually take next
        Q(s,a) <- Q(s,a) + alpha [ r + gamma Q(s',a') - Q(s,a) ]
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import torch
from torch import nn

from ..errors import InputError
from ..topics import Config
from ..train import Task
from .grid import ACTIONS, CLIFF_GRID, DEFAULT_GRID, FOUR_ROOMS, GridWorld, value_iteration

ALGORITHMS = {"q-learning": "Q-learning (off-policy: learns the greedy policy's values)",
              "sarsa": "SARSA (on-policy: learns the values of what it actually does, exploration included)",
              "dqn": "DQN (a small neural network instead of the table; replay buffer and target network)"}
# The page's default budgets, in moves (one step = one move): the shipped 6x6 agent's 13,000 moves are about 2,000
# episodes; DQN's gradient step per move runs about 1,000 moves a second on one laptop thread (15 s).
DEFAULT_MOVES = {"q-learning": 13_000, "sarsa": 13_000, "dqn": 15_000}


# -- run settings --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QConfig(Config):
    grid: str = DEFAULT_GRID
    algorithm: Literal["q-learning", "sarsa", "dqn"] = "q-learning"
    alpha: float = 0.5               # learning rate of the table (DQN: see lr)
    gamma: float = 0.9               # discount
    epsilon: float = 0.2             # probability of a random action (exploration)
    step_cost: float = 0.04          # every move costs this much
    goal_reward: float = 1.0
    pit_reward: float = -1.0
    slip: float = 0.0                # probability that a move goes at right angles instead
    random_starts: bool = True       # each episode starts in a random free cell (else on S)
    max_episode_steps: int = 100     # an episode is cut off after this many moves
    # DQN only
    hidden: int = 64
    lr: float = 3e-3
    batch_size: int = 32
    buffer_size: int = 5000
    target_every: int = 100
    state_input: Literal["one-hot", "coordinates"] = "one-hot"

    def check(self):
        self.one_of("algorithm", list(ALGORITHMS))
        self.in_range("alpha", 1e-4, 1.0, "learning rate alpha")
        self.in_range("gamma", 0.0, 1.0, "discount gamma")
        self.in_range("epsilon", 0.0, 1.0, "exploration epsilon")
        self.in_range("step_cost", -1.0, 10.0, "step cost")
        self.in_range("goal_reward", -1000.0, 1000.0, "goal reward")
        self.in_range("pit_reward", -1000.0, 1000.0, "pit reward")
        self.in_range("slip", 0.0, 0.9, "slip probability")
        self.in_range("max_episode_steps", 1, 10000, "moves per episode")
        self.in_range("hidden", 4, 512, "hidden units")
        self.in_range("lr", 1e-5, 0.1, "network learning rate")
        self.in_range("batch_size", 1, 512, "batch size")
        self.in_range("buffer_size", 100, 200000, "replay buffer size")
        self.in_range("target_every", 1, 100000, "target network sync interval")
        self.one_of("state_input", ["one-hot", "coordinates"], "state input")
        if self.gamma >= 1.0 and self.step_cost <= 0:
            raise InputError("With discount gamma = 1 every move must cost something (step cost > 0); otherwise "
                             "wandering forever is as good as reaching the goal and the values never settle.")
        self.env()   # the grid itself: size, characters, a reachable goal
        return self

    def env(self) -> GridWorld:
        return GridWorld(self.grid, self.step_cost, self.goal_reward, self.pit_reward, self.slip, self.random_starts)


PRESETS: dict[str, QConfig] = {
    "6x6 grid (default)": QConfig(),
    "Cliff walking (Sutton & Barto)": QConfig(grid=CLIFF_GRID, alpha=0.2, gamma=1.0, epsilon=0.1, step_cost=1.0,
                                              goal_reward=0.0, pit_reward=-100.0, random_starts=False,
                                              max_episode_steps=200),
    "Slippery 6x6 (20% of moves slip)": QConfig(slip=0.2, alpha=0.1),
    "Four rooms": QConfig(grid=FOUR_ROOMS, gamma=0.95, epsilon=0.2, step_cost=0.01, alpha=0.5,
                          max_episode_steps=200),
}


# -- models (the table and the network; both are nn.Modules so checkpoints work the same) ------------------------
class QTable(nn.Module):
    """Q(s, a) as a table: one row of four numbers per cell."""

    def __init__(self, n_states: int):
        super().__init__()
        self.q = nn.Parameter(torch.zeros(n_states, 4), requires_grad=False)

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.q[s]


# -- one transition, explained --------------------------------------------------------------------------------------
class Transition(NamedTuple):
    s: int
    a: int
    r: float
    s2: int
    a2: int | None        # SARSA: the next action (used in the target); None otherwise
    done: bool            # s2 is a goal or a pit
    q_old: float          # Q(s,a) before the update
    next_value: float     # max_a' Q(s',a') (Q-learning, DQN's target net) or Q(s',a') (SARSA); 0 if done
    target: float         # r + gamma * next_value
    q_new: float          # Q(s,a) after the update
    alpha: float
    gamma: float
    algorithm: str


def _p(x: float) -> str:
    """A number after an operator: negative ones in parentheses, so '- (-0.057)' never reads '- -0.057'."""
    return f"({x:.3f})" if x < 0 else f"{x:.3f}"


def update_latex(t: Transition, env: GridWorld) -> str:
    """The update this transition made, with its numbers filled in (LaTeX)."""
    (r0, c0), (r1, c1) = env.rc(t.s), env.rc(t.s2)
    s, s2 = rf"s=({r0 + 1},{c0 + 1})", rf"s'=({r1 + 1},{c1 + 1})"
    a = r"a=\text{" + ACTIONS[t.a] + "}"
    if t.done:
        nv = r"\underbrace{0}_{s'\ \text{ends the episode}}"
    elif t.algorithm == "sarsa":
        nv = r"\underbrace{" + _p(t.next_value) + r"}_{Q(s',a'=\text{" + ACTIONS[t.a2] + "})}"
    elif t.algorithm == "dqn":
        nv = r"\underbrace{" + _p(t.next_value) + r"}_{\max_{a'} Q_{\text{target}}(s',a')}"
    else:
        nv = r"\underbrace{" + _p(t.next_value) + r"}_{\max_{a'} Q(s',a')}"
    head = rf"{s},\ {a}\ \to\ r={t.r:.3f},\ {s2}"
    if t.algorithm == "dqn":
        return (rf"{head}:\quad y = {t.r:.3f} + {t.gamma:g}\cdot {nv} = {t.target:.3f};"
                rf"\quad Q(s,a): {t.q_old:.3f} \to {t.q_new:.3f}\ \text{{after one gradient step}}")
    return (rf"{head}:\quad Q(s,a) \leftarrow \underbrace{{{t.q_old:.3f}}}_{{Q(s,a)}}"
            rf" + {t.alpha:g}\,\big({t.r:.3f} + {t.gamma:g}\cdot {nv} - {_p(t.q_old)}\big) = {t.q_new:.3f}")


# -- the task the engine trains ---------------------------------------------------------------------------------------
class QTask(Task):
    """Tabular Q-learning or SARSA: one step() is one move of the agent and one update of its table."""

    def __init__(self, config: QConfig, seed: int = 0):
        self.config = config
        self.env = config.env()
        self.rng = np.random.default_rng(int(seed))
        self.model = QTable(self.env.n)
        self.model_config = {"kind": "table", "n_states": self.env.n}
        self.q = self.model.q.data.numpy()     # the same memory as the parameter: numpy updates are fast
        self.q_star = value_iteration(self.env, config.gamma)
        self.v_star = self.q_star.max(1)
        self.returns: list[float] = []         # sum of rewards of each finished episode
        self.lengths: list[int] = []
        self.last: Transition | None = None
        self.last_path: list[int] = []         # cells of the last finished episode
        self.path: list[int] = []              # cells of the episode under way
        self._s: int | None = None
        self._a: int | None = None
        self._t = 0
        self._ret = 0.0
        self._m = None
        self._scores = self._score()

    @property
    def episodes(self) -> int:
        return len(self.returns)

    def q_values(self) -> np.ndarray:
        """Q for every cell (n, 4), a CPU copy."""
        return self.q.copy()

    # -- acting ----------------------------------------------------------------------------------------------
    def _greedy(self, row: np.ndarray) -> int:
        best = np.flatnonzero(row == row.max())          # ties broken at random, so early on it explores evenly
        return int(best[0] if len(best) == 1 else best[self.rng.integers(len(best))])

    def _act(self, s: int) -> int:
        if self.rng.random() < self.config.epsilon:       # epsilon-greedy exploration
            return int(self.rng.integers(4))
        return self._greedy(self._row(s))

    def _row(self, s: int) -> np.ndarray:
        return self.q[s]

    def _begin(self) -> None:
        self._s = int(self.env.start_pool[self.rng.integers(len(self.env.start_pool))])
        self._a = self._act(self._s) if self.config.algorithm == "sarsa" else None
        self._t, self._ret, self.path = 0, 0.0, [self._s]

    def _update(self, s, a, r, s2, done) -> Transition:
        cfg = self.config
        a2 = None
        if cfg.algorithm == "sarsa":
            a2 = None if done else self._act(s2)
            nv = 0.0 if done else float(self.q[s2, a2])                 # SARSA, eq. 6.7
        else:
            nv = 0.0 if done else float(self.q[s2].max())               # Q-learning, eq. 6.8
        target = r + cfg.gamma * nv
        old = float(self.q[s, a])
        self.q[s, a] = old + cfg.alpha * (target - old)
        return Transition(s, a, r, s2, a2, done, old, nv, target, float(self.q[s, a]), cfg.alpha, cfg.gamma,
                          cfg.algorithm)

    def step(self):
        if self._s is None:
            self._begin()
        s = self._s
        a = self._a if self._a is not None else self._act(s)
        s2 = self.env.move(s, a, self.rng)
        r = float(self.env.reward[s2])
        done = bool(self.env.terminal[s2])
        self.last = self._update(s, a, r, s2, done)
        self._t += 1
        self._ret += r
        self.path.append(s2)
        if done or self._t >= self.config.max_episode_steps:
            self.returns.append(self._ret)
            self.lengths.append(self._t)
            self.last_path = self.path
            self._s = None
            self._scores = self._score()
            self._m = None
        else:
            self._s, self._a = s2, self.last.a2
        if self._m is None:          # the metrics change once per episode: build them then, not every move
            self._m = self._metrics()
        return self._m

    # -- measuring -------------------------------------------------------------------------------------------
    def _score(self) -> dict[str, float]:
        q = self.q_values()
        live = self.env.live & self.env.can_reach
        err = float(np.abs(q.max(1) - self.v_star)[live].max())
        reached = float(self.env.greedy_paths(q)[live].mean())
        return {"max_err": err, "reached": reached}

    def _metrics(self) -> dict[str, float]:
        m = {"episodes": float(self.episodes), **self._scores}
        if self.returns:
            m["return"] = self.returns[-1]
            m["return_avg"] = float(np.mean(self.returns[-50:]))
        return m

    def evaluate(self):
        """max |V - V*| over the cells that can reach the goal, and the share of them from which the greedy
        policy reaches it; the mean return of the last 50 episodes."""
        self._scores, self._m = self._score(), None
        return {k: v for k, v in self._metrics().items() if k in ("max_err", "reached", "return_avg", "episodes")}

    def state_dict(self):
        return {"q": self.q.copy(), "rng": copy.deepcopy(self.rng.bit_generator.state), "s": self._s, "a": self._a,
                "t": self._t, "ret": self._ret, "path": list(self.path), "returns": list(self.returns),
                "lengths": list(self.lengths)}

    def load_state_dict(self, st):
        self.q[:] = st["q"]
        self.rng.bit_generator.state = st["rng"]
        self._s, self._a, self._t, self._ret = st["s"], st["a"], st["t"], st["ret"]
        self.path, self.returns, self.lengths = list(st["path"]), list(st["returns"]), list(st["lengths"])
        self._scores, self._m = self._score(), None
