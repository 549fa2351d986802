"""Running an agent: the model builder checkpoints use, make_task (the table or the network), training by
episodes, the step-by-step Stepper, and the trained Agent the page draws (from a task or a checkpoint), with the
cliff lesson's measure."""

from __future__ import annotations

import copy
from collections import deque
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from .dqn import DQNTask, QNet
from .grid import GridWorld
from .tabular import QConfig, QTable, QTask, Transition


def build_model(kind: str, n_states: int, n_in: int = 0, hidden: int = 64, **_) -> nn.Module:
    return QTable(n_states) if kind == "table" else QNet(n_in, hidden)


def make_task(config: QConfig, seed: int = 0, device=None) -> QTask:
    """A fresh agent for the engine: tabular Q-learning / SARSA on the CPU (a table of a few hundred numbers is
    fastest there), or a DQN on `device`."""
    config = config.check()
    if config.algorithm == "dqn":
        return DQNTask(config, seed, device)
    return QTask(config, seed)


def train_episodes(task: QTask, episodes: int, max_steps: int = 2_000_000):
    """Train through the engine until `episodes` episodes have finished (a step budget in disguise)."""
    from ..train import Trainer

    tr = Trainer(task, record_every=100)
    while task.episodes < episodes and tr.steps < max_steps:
        tr.run(steps=200, evaluate=False)
    tr.last_eval = task.evaluate()
    return tr


class Stepper:
    """A fresh agent moved by hand, one transition or one episode at a time, through the engine (for the page's
    step-by-step view and for notebooks). `history` keeps the last transitions, newest last."""

    def __init__(self, config: QConfig, seed: int = 0, keep: int = 12):
        from ..train import Trainer

        self.config = config
        self.task = make_task(config, seed, device="cpu")
        self.trainer = Trainer(self.task)
        self.history: deque[Transition] = deque(maxlen=keep)

    @classmethod
    def from_task(cls, task: QTask, keep: int = 12) -> "Stepper":
        """Carry on by hand from a copy of a trained agent (the original is left as it is)."""
        from ..train import Trainer

        self = cls.__new__(cls)
        self.task = copy.deepcopy(task)
        self.config = task.config
        self.trainer = Trainer(self.task)
        self.history = deque(maxlen=keep)
        return self

    def moves(self, n: int = 1) -> None:
        for _ in range(max(1, min(int(n), 10000))):
            self.trainer.run(steps=1, evaluate=False)
            self.history.append(self.task.last)

    def episodes(self, n: int = 1) -> None:
        """Move until n more episodes have finished (each is cut off at max_episode_steps)."""
        target = self.task.episodes + max(1, min(int(n), 1000))
        while self.task.episodes < target:
            self.moves(1)


# -- a trained agent, from a task or from a checkpoint ----------------------------------------------------------------
@dataclass
class Agent:
    """What the page draws: the grid, the learned Q, the exact Q*, the episode returns and the last path."""
    config: QConfig
    env: GridWorld
    q: np.ndarray
    q_star: np.ndarray
    returns: list[float] = field(default_factory=list)
    last_path: list[int] = field(default_factory=list)
    steps: int = 0

    @property
    def v(self) -> np.ndarray:
        return np.where(self.env.live, self.q.max(1), np.nan)

    @property
    def v_star(self) -> np.ndarray:
        return np.where(self.env.live, self.q_star.max(1), np.nan)

    @property
    def scored(self) -> np.ndarray:
        return self.env.live & self.env.can_reach

    def max_err(self) -> float:
        return float(np.nanmax(np.abs(self.q.max(1) - self.q_star.max(1))[self.scored]))

    def reached(self) -> tuple[int, int]:
        ok = self.env.greedy_paths(self.q)[self.scored]
        return int(ok.sum()), int(ok.size)

    def policy_agreement(self) -> tuple[int, int]:
        """Cells (of those that can reach the goal) where the learned greedy move is one of the exactly optimal
        moves (several can tie), and how many cells there are."""
        best = self.q_star[np.arange(self.env.n), self.q.argmax(1)] >= self.q_star.max(1) - 1e-6
        return int(best[self.scored].sum()), int(self.scored.sum())

    def start_path(self) -> list[int]:
        start = self.env.starts[0] if len(self.env.starts) else self.env.start_pool[0]
        return self.env.greedy_path(self.q, int(start))


def agent_of(task: QTask, steps: int = 0) -> Agent:
    return Agent(task.config, task.env, task.q_values(), task.q_star, list(task.returns), list(task.last_path),
                 steps)


def save_extra(task: QTask) -> dict:
    """What a checkpoint keeps besides the weights: the run's config and its returns (rounded, for the curve)."""
    return {"config": task.config.as_dict(), "returns": [round(r, 3) for r in task.returns],
            "last_path": [int(s) for s in task.last_path]}


# -- the cliff lesson --------------------------------------------------------------------------------------------------
def edge_cells(env: GridWorld) -> np.ndarray:
    """Cells next to a pit (one exploratory step from falling in)."""
    nxt_pit = env.pit[env.next].any(1)
    return env.live & nxt_pit


def path_edge_share(agent: Agent) -> float:
    """Share of the moves of the greedy path from the start that stand on a cell next to a pit."""
    path = agent.start_path()[:-1]
    edge = edge_cells(agent.env)
    return float(np.mean([edge[s] for s in path])) if path else 0.0
