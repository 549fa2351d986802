"""Learning from rewards: tabular Q-learning, SARSA and a small DQN in an editable grid world, with value
iteration as the exact answer.

The agent sees a state s, picks an action a, gets a reward r and lands in s'. Q(s, a) estimates the discounted
return of taking a in s and acting well afterwards. One Trainer step is one such transition and one update:

    Q-learning (off-policy, Watkins 1989; Sutton & Barto 2018, eq. 6.8):
        Q(s,a) <- Q(s,a) + alpha [ r + gamma max_a' Q(s',a') - Q(s,a) ]
    SARSA (on-policy, Sutton & Barto eq. 6.7): the target uses the action a' the agent will actually take next
        Q(s,a) <- Q(s,a) + alpha [ r + gamma Q(s',a') - Q(s,a) ]
    DQN (Mnih et al. 2015): Q is a small network; minimise the Huber loss between Q(s,a) and
        y = r + gamma max_a' Q_target(s',a')   on minibatches from a replay buffer; Q_target is a copy synced
        every `target_every` steps.

Value iteration (Bellman optimality, Sutton & Barto eq. 4.10) solves the same grid exactly:
    V*(s) = max_a sum_s' P(s'|s,a) [ R(s') + gamma V*(s') ]
so every learned table can be compared with the right answer.

Grid text: one string per row, rows separated by '/' (or new lines):
    '.' free, '#' wall, 'S' start, 'G' goal (ends the episode), 'X' pit (ends the episode with the pit reward).
"""

from __future__ import annotations

import copy
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
import plotly.graph_objects as go
import torch
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots
from torch import nn

from . import checkpoints
from .errors import InputError
from .topics import Config, Shipped, pretrain_shipped
from .train import Task

TITLE = "Learning from rewards: Q-learning in a grid world"
BUILDER = "dlplay.qlearning:build_model"

MAX_SIDE = 16                        # rows and columns of a grid, each at most this
ACTIONS = ["up", "right", "down", "left"]
MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]
ARROWS = ["↑", "→", "↓", "←"]
CELL_KINDS = {".": "free", "#": "wall", "S": "start", "G": "goal", "X": "pit"}
ALGORITHMS = {"q-learning": "Q-learning (off-policy: learns the greedy policy's values)",
              "sarsa": "SARSA (on-policy: learns the values of what it actually does, exploration included)",
              "dqn": "DQN (a small neural network instead of the table; replay buffer and target network)"}
# The page's default budgets, in moves (one step = one move): the shipped 6x6 agent's 13,000 moves are about 2,000
# episodes; DQN's gradient step per move runs about 1,000 moves a second on one laptop thread (15 s).
DEFAULT_MOVES = {"q-learning": 13_000, "sarsa": 13_000, "dqn": 15_000}

DEFAULT_GRID = "S...../.##.X./...#../.X.#../...#../.#...G"
CLIFF_GRID = "............/............/............/SXXXXXXXXXXG"
FOUR_ROOMS = "S...#..../....#..../........./....#..../##.###.##/....#..../........./....#..../....#...G"


# -- the grid world ------------------------------------------------------------------------------------------------
def parse_grid(text: str) -> list[str]:
    """Rows of the grid as strings; raises InputError on anything that is not a rectangular grid of . # S G X."""
    if not isinstance(text, str):
        raise InputError(f"The grid must be text, not {type(text).__name__}.")
    rows = [r.replace(" ", "").replace("\t", "") for r in text.replace("\r", "").replace("/", "\n").split("\n")]
    rows = [r.upper() if r.upper() != r and set(r.upper()) <= set(CELL_KINDS) else r for r in rows]
    rows = [r for r in rows if r]
    if not rows:
        raise InputError("The grid is empty: write one line per row, e.g. 'S..G'.")
    if len(rows) > MAX_SIDE or max(map(len, rows)) > MAX_SIDE:
        raise InputError(f"The grid is {len(rows)} x {max(map(len, rows))} cells; at most {MAX_SIDE} x {MAX_SIDE} "
                         "are allowed (a bigger table would not learn in seconds).")
    if len(set(map(len, rows))) > 1:
        raise InputError("Every row of the grid must have the same length; row lengths are "
                         f"{', '.join(str(len(r)) for r in rows)}.")
    for i, r in enumerate(rows):
        for j, ch in enumerate(r):
            if ch not in CELL_KINDS:
                raise InputError(f"Row {i + 1}, column {j + 1} holds {ch!r}; use only . (free), # (wall), S (start), "
                                 "G (goal) and X (pit).")
    return rows


class GridWorld:
    """The environment: cells, the deterministic move table, rewards on entering a cell, and slip."""

    def __init__(self, grid: str, step_cost: float = 0.04, goal_reward: float = 1.0, pit_reward: float = -1.0,
                 slip: float = 0.0, random_starts: bool = True):
        self.rows_text = parse_grid(grid)
        self.rows, self.cols = len(self.rows_text), len(self.rows_text[0])
        self.n = self.rows * self.cols
        flat = "".join(self.rows_text)
        self.kind = np.array(list(flat))
        self.wall = self.kind == "#"
        self.goal = self.kind == "G"
        self.pit = self.kind == "X"
        self.terminal = self.goal | self.pit
        self.slip = float(slip)
        if not self.goal.any():
            raise InputError("The grid has no goal: put a G somewhere.")
        self.next = np.zeros((self.n, 4), np.int64)
        for s in range(self.n):
            r, c = divmod(s, self.cols)
            for a, (dr, dc) in enumerate(MOVES):
                r2, c2 = r + dr, c + dc
                ok = 0 <= r2 < self.rows and 0 <= c2 < self.cols and not self.wall[r2 * self.cols + c2]
                self.next[s, a] = r2 * self.cols + c2 if ok else s   # bumping into a wall or the edge: stay
        # Reward for entering s': every move costs step_cost; entering the goal or a pit adds its reward.
        self.reward = np.full(self.n, -float(step_cost))
        self.reward[self.goal] += goal_reward
        self.reward[self.pit] += pit_reward
        self.can_reach = self._cells_reaching_goal()
        self.starts = np.flatnonzero(self.kind == "S")
        if len(self.starts) == 0 and not random_starts:
            raise InputError("The grid has no start: put an S somewhere, or tick 'start each episode in a random "
                             "cell'.")
        blocked = [int(s) for s in self.starts if not self.can_reach[s]]
        if blocked:
            r, c = divmod(blocked[0], self.cols)
            raise InputError(f"The goal cannot be reached from the start (row {r + 1}, column {c + 1}): walls or pits "
                             "close it off. Open a gap in the wall.")
        live = ~self.wall & ~self.terminal
        if not (live & self.can_reach).any():
            raise InputError("The goal cannot be reached from any cell: walls or pits close it off. Open a gap.")
        # Cells an episode may start in: the S cells, or (random starts) every free cell that can reach the goal.
        self.start_pool = np.flatnonzero(live & self.can_reach) if random_starts else self.starts
        self.live = live                               # states where the agent acts (not wall, not terminal)

    def _cells_reaching_goal(self) -> np.ndarray:
        """Breadth-first search backwards from the goals over cells the agent can stand on."""
        ok = np.zeros(self.n, bool)
        ok[self.goal] = True
        frontier = deque(np.flatnonzero(self.goal))
        while frontier:
            t = frontier.popleft()
            for s in np.flatnonzero((self.next == t).any(1)):
                if not ok[s] and not self.wall[s] and not self.terminal[s]:
                    ok[s] = True
                    frontier.append(s)
        return ok

    def rc(self, s: int) -> tuple[int, int]:
        return divmod(int(s), self.cols)

    def move(self, s: int, a: int, rng: np.random.Generator) -> int:
        """One move: the intended direction, or with probability `slip` one of the two at right angles."""
        if self.slip > 0 and rng.random() < self.slip:
            a = (a + (1 if rng.random() < 0.5 else 3)) % 4
        return int(self.next[s, a])

    def outcomes(self) -> list[tuple[float, np.ndarray]]:
        """The transition model as (probability, next-state table) pairs: P(s'|s,a) for value iteration."""
        if self.slip <= 0:
            return [(1.0, self.next)]
        return [(1 - self.slip, self.next), (self.slip / 2, np.roll(self.next, -1, axis=1)),
                (self.slip / 2, np.roll(self.next, 1, axis=1))]

    def greedy_paths(self, q: np.ndarray, max_len: int | None = None) -> np.ndarray:
        """For every cell, whether following argmax_a Q (intended moves, no slip) reaches a goal without a pit."""
        max_len = max_len or self.n + 1
        nxt = self.next[np.arange(self.n), q.argmax(1)]
        nxt[self.terminal] = np.flatnonzero(self.terminal)          # goals and pits keep the agent
        for _ in range(int(np.ceil(np.log2(max_len + 1)))):        # pointer doubling: 2^k moves per squaring
            nxt = nxt[nxt]
        return self.goal[nxt]

    def greedy_path(self, q: np.ndarray, start: int, max_len: int | None = None) -> list[int]:
        """The cells visited from `start` following argmax_a Q until a goal, a pit, a loop or max_len moves."""
        max_len = max_len or self.n + 1
        path, seen = [int(start)], {int(start)}
        s = int(start)
        for _ in range(max_len):
            if self.terminal[s]:
                break
            s = int(self.next[s, int(q[s].argmax())])
            path.append(s)
            if s in seen and not self.terminal[s]:
                break
            seen.add(s)
        return path


def value_iteration(env: GridWorld, gamma: float, tol: float = 1e-10, max_iter: int = 20000) -> np.ndarray:
    """Q*(s,a) by value iteration (Bellman optimality backup, Sutton & Barto eq. 4.10); terminal values are 0."""
    v = np.zeros(env.n)
    out = env.outcomes()
    for _ in range(max_iter):
        q = sum(p * (env.reward[nx] + gamma * np.where(env.terminal[nx], 0.0, v[nx])) for p, nx in out)
        v_new = np.where(env.live, q.max(1), 0.0)
        if np.max(np.abs(v_new - v)) < tol:
            v = v_new
            break
        v = v_new
    q = sum(p * (env.reward[nx] + gamma * np.where(env.terminal[nx], 0.0, v[nx])) for p, nx in out)
    q[~env.live] = 0.0
    return q


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


class QNet(nn.Module):
    """Q(s, .) as a one-hidden-layer network: state features in, four action values out."""

    def __init__(self, n_in: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_model(kind: str, n_states: int, n_in: int = 0, hidden: int = 64, **_) -> nn.Module:
    return QTable(n_states) if kind == "table" else QNet(n_in, hidden)


def state_features(env: GridWorld, how: str) -> torch.Tensor:
    """The network's input for every cell: a one-hot vector (no sharing between cells) or (row, column) in [0, 1]
    (neighbouring cells look alike, so what is learned in one cell spreads to its neighbours)."""
    if how == "one-hot":
        return torch.eye(env.n)
    r, c = np.divmod(np.arange(env.n), env.cols)
    return torch.tensor(np.c_[r / max(env.rows - 1, 1), c / max(env.cols - 1, 1)], dtype=torch.float32)


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


class DQNTask(QTask):
    """The same agent with Q(s, .) a small network: replay buffer, target network, one gradient step per move."""

    def __init__(self, config: QConfig, seed: int = 0, device=None):
        from .device import get_device, seed_everything

        gen = seed_everything(seed)
        self.device = get_device(device)
        self.feats = None
        super().__init__(config, seed)
        env = self.env
        self.feats = state_features(env, config.state_input).to(self.device)
        net = QNet(self.feats.shape[1], config.hidden)
        with torch.no_grad():                     # initialise from the task's own generator: same seed, same net
            for p in net.parameters():
                p.copy_(torch.empty_like(p).uniform_(-1, 1, generator=gen) / math.sqrt(p.shape[-1]))
        self.model = net.to(self.device)
        self.model_config = {"kind": "net", "n_states": env.n, "n_in": int(self.feats.shape[1]),
                             "hidden": config.hidden, "state_input": config.state_input}
        self.target = copy.deepcopy(self.model).eval()
        self.opt = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        n = config.buffer_size
        self.buf = {"s": np.zeros(n, np.int64), "a": np.zeros(n, np.int64), "r": np.zeros(n, np.float32),
                    "s2": np.zeros(n, np.int64), "done": np.zeros(n, np.float32)}
        self.filled = 0
        self.updates = 0
        self.loss = float("nan")
        self._sync_target()
        self._sync_caches()
        self._scores = self._score()

    def q_values(self) -> np.ndarray:
        if self.feats is None:
            return np.zeros((self.env.n, 4))
        return self._q_online.copy()

    def _all(self, net) -> np.ndarray:
        """Q of every cell under `net`, as a CPU array (one forward pass over all cells: the grid is tiny)."""
        with torch.no_grad():
            return net(self.feats).double().cpu().numpy()

    def _sync_caches(self) -> None:
        self._q_online = self._all(self.model)

    def _row(self, s: int) -> np.ndarray:
        return self._q_online[s]

    def _update(self, s, a, r, s2, done) -> Transition:
        cfg = self.config
        i = self.filled % cfg.buffer_size
        for k, v in (("s", s), ("a", a), ("r", r), ("s2", s2), ("done", float(done))):
            self.buf[k][i] = v
        self.filled += 1
        q_old = float(self._q_online[s, a])
        nv = 0.0 if done else float(self._q_target[s2].max())
        if self.filled >= cfg.batch_size:
            idx = self.rng.integers(min(self.filled, cfg.buffer_size), size=cfg.batch_size)
            b = {k: torch.as_tensor(v[idx], device=self.device) for k, v in self.buf.items()}
            # y = r + gamma (1 - done) max_a' Q_target(s', a')   (Mnih et al. 2015); the target net is frozen
            # between syncs, so its values for every cell are computed once per sync and looked up here.
            y = b["r"] + cfg.gamma * (1 - b["done"]) * self._target_max[b["s2"]]
            q = self.model(self.feats[b["s"]]).gather(1, b["a"][:, None])[:, 0]
            loss = nn.functional.smooth_l1_loss(q, y)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.loss = float(loss.detach())
            self.updates += 1
            if self.updates % cfg.target_every == 0:
                self._sync_target()
            self._sync_caches()
        q_new = float(self._q_online[s, a])
        return Transition(s, a, r, s2, None, done, q_old, nv, r + cfg.gamma * nv, q_new, cfg.lr, cfg.gamma, "dqn")

    def _sync_target(self) -> None:
        self.target.load_state_dict(self.model.state_dict())
        self._q_target = self._all(self.target)
        self._target_max = torch.as_tensor(self._q_target.max(1), dtype=torch.float32, device=self.device)

    def step(self):
        m = super().step()
        return {**m, "loss": self.loss} if math.isfinite(self.loss) else m

    def state_dict(self):
        st = super().state_dict()
        st.update(model=copy.deepcopy(self.model.state_dict()), target=copy.deepcopy(self.target.state_dict()),
                  opt=copy.deepcopy(self.opt.state_dict()), buf={k: v.copy() for k, v in self.buf.items()},
                  filled=self.filled, updates=self.updates)
        return st

    def load_state_dict(self, st):
        self.model.load_state_dict(st["model"])
        self.target.load_state_dict(st["target"])
        self.opt.load_state_dict(st["opt"])
        self.buf = {k: v.copy() for k, v in st["buf"].items()}
        self.filled, self.updates = st["filled"], st["updates"]
        self._q_target = self._all(self.target)
        self._target_max = torch.as_tensor(self._q_target.max(1), dtype=torch.float32, device=self.device)
        self._sync_caches()
        st = {**st, "q": self.q}
        super().load_state_dict(st)


def make_task(config: QConfig, seed: int = 0, device=None) -> QTask:
    """A fresh agent for the engine: tabular Q-learning / SARSA on the CPU (a table of a few hundred numbers is
    fastest there), or a DQN on `device`."""
    config = config.check()
    if config.algorithm == "dqn":
        return DQNTask(config, seed, device)
    return QTask(config, seed)


def train_episodes(task: QTask, episodes: int, max_steps: int = 2_000_000):
    """Train through the engine until `episodes` episodes have finished (a step budget in disguise)."""
    from .train import Trainer

    tr = Trainer(task, record_every=100)
    while task.episodes < episodes and tr.steps < max_steps:
        tr.run(steps=200, evaluate=False)
    tr.last_eval = task.evaluate()
    return tr


class Stepper:
    """A fresh agent moved by hand, one transition or one episode at a time, through the engine (for the page's
    step-by-step view and for notebooks). `history` keeps the last transitions, newest last."""

    def __init__(self, config: QConfig, seed: int = 0, keep: int = 12):
        from .train import Trainer

        self.config = config
        self.task = make_task(config, seed, device="cpu")
        self.trainer = Trainer(self.task)
        self.history: deque[Transition] = deque(maxlen=keep)

    @classmethod
    def from_task(cls, task: QTask, keep: int = 12) -> "Stepper":
        """Carry on by hand from a copy of a trained agent (the original is left as it is)."""
        from .train import Trainer

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


def load(source) -> Agent:
    """An Agent from a checkpoint written by pretrain/CLI/the page's download."""
    model, mcfg, extra = checkpoints.load(source, expect_builder=BUILDER)
    try:
        cfg = QConfig(**extra["config"]).check()
    except (KeyError, TypeError):
        raise InputError("This checkpoint has no grid-world settings in it.") from None
    env = cfg.env()
    if mcfg.get("kind") == "table":
        q = model.q.detach().double().numpy()
    else:
        with torch.no_grad():
            q = model(state_features(env, mcfg.get("state_input", "one-hot"))).double().numpy()
    return Agent(cfg, env, q, value_iteration(env, cfg.gamma), list(extra.get("returns", [])),
                 list(extra.get("last_path", [])), int(extra.get("steps", 0)))


# -- figures ----------------------------------------------------------------------------------------------------------
def _cell_colour(kind: str) -> str | None:
    return {"#": "#444444", "G": "#2ca02c", "X": "#7f1d1d"}.get(kind)


def q_figure(agent: Agent, title: str | None = None, path: list[int] | None = None, show_numbers: bool | None = None,
             animate: bool = False, height: int | None = None) -> go.Figure:
    """The grid with Q(s,a) as four coloured triangles per cell, the greedy action as an arrow, and an optional
    path (the cells an episode visited), animated with a Play button when `animate`."""
    env, q = agent.env, agent.q
    R, C = env.rows, env.cols
    live = env.live
    vals = q[live]
    lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (0.0, 1.0)
    span = max(hi - lo, 1e-9)
    show_numbers = (R * C <= 48) if show_numbers is None else show_numbers
    fig = go.Figure()
    shapes, hx, hy, htext = [], [], [], []
    tx, ty, tt = [], [], []
    for s in range(env.n):
        r, c = env.rc(s)
        x0, y0 = c, R - 1 - r                 # row 0 at the top
        kind = env.kind[s]
        if not live[s]:
            shapes.append(dict(type="rect", x0=x0, y0=y0, x1=x0 + 1, y1=y0 + 1, line=dict(color="white", width=1),
                               fillcolor=_cell_colour(kind) or "#dddddd"))
            label = {"G": "goal", "X": "pit", "#": ""}.get(kind, "")
            if label:
                tx.append(x0 + 0.5), ty.append(y0 + 0.5), tt.append(f"<b>{label}</b>")
            continue
        cx, cy = x0 + 0.5, y0 + 0.5
        corners = {0: [(x0, y0 + 1), (x0 + 1, y0 + 1)], 1: [(x0 + 1, y0 + 1), (x0 + 1, y0)],
                   2: [(x0 + 1, y0), (x0, y0)], 3: [(x0, y0), (x0, y0 + 1)]}
        cols = sample_colorscale("RdYlGn", [(float(q[s, a]) - lo) / span for a in range(4)])
        for a in range(4):
            (ax, ay), (bx, by) = corners[a]
            shapes.append(dict(type="path", path=f"M {cx} {cy} L {ax} {ay} L {bx} {by} Z", fillcolor=cols[a],
                               line=dict(color="white", width=0.5), layer="below"))
            mx, my = (cx + ax + bx) / 3, (cy + ay + by) / 3
            hx.append(mx), hy.append(my)
            htext.append(f"row {r + 1}, column {c + 1}: Q(s, {ACTIONS[a]}) = {q[s, a]:.3f}"
                         + (f"; Q* = {agent.q_star[s, a]:.3f}" if agent.q_star is not None else ""))
            if show_numbers:
                tx.append(cx + (mx - cx) * 1.25), ty.append(cy + (my - cy) * 1.25), tt.append(f"{q[s, a]:.2f}")
        if np.ptp(q[s]) > 1e-12:
            tx.append(cx), ty.append(cy), tt.append(f"<b>{ARROWS[int(q[s].argmax())]}</b>")
        if kind == "S":
            shapes.append(dict(type="rect", x0=x0 + 0.04, y0=y0 + 0.04, x1=x0 + 0.96, y1=y0 + 0.96,
                               line=dict(color="#1f77b4", width=3)))
    fig.add_trace(go.Scatter(x=hx, y=hy, mode="markers", marker=dict(size=14, opacity=0), text=htext,
                             hovertemplate="%{text}<extra></extra>", showlegend=False))
    fig.add_trace(go.Scatter(x=tx, y=ty, mode="text", text=tt, hoverinfo="skip", showlegend=False,
                             textfont=dict(size=9 if show_numbers else 14, color="black")))
    # colour bar for the triangles
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                             marker=dict(colorscale="RdYlGn", cmin=lo, cmax=hi, color=[lo], showscale=True,
                                         colorbar=dict(title="Q(s,a)", thickness=12))))
    if path:
        px = [env.rc(s)[1] + 0.5 for s in path]
        py = [R - 1 - env.rc(s)[0] + 0.5 for s in path]
        fig.add_trace(go.Scatter(x=px, y=py, mode="lines", line=dict(color="#1f77b4", width=3), opacity=0.6,
                                 name="path", hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(x=[px[-1 if not animate else 0]], y=[py[-1 if not animate else 0]], mode="markers",
                                 marker=dict(size=18, color="#1f77b4", symbol="circle"), name="agent",
                                 hoverinfo="skip", showlegend=False))
        if animate and len(path) > 1:
            k = len(fig.data) - 1
            fig.frames = [go.Frame(data=[go.Scatter(x=[px[i]], y=[py[i]])], traces=[k], name=str(i))
                          for i in range(len(path))]
            play = dict(label="▶ Play the episode", method="animate",
                        args=[None, dict(frame=dict(duration=250, redraw=False), transition=dict(duration=0),
                                         fromcurrent=False)])
            fig.update_layout(updatemenus=[dict(type="buttons", showactive=False, x=0, y=-0.04, xanchor="left",
                                                yanchor="top", buttons=[play])])
    fig.update_layout(shapes=shapes, title=title, height=height or int(min(640, 70 * R + 90)),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=40 if animate else 10),
                      plot_bgcolor="white")
    fig.update_xaxes(range=[-0.05, C + 0.05], visible=False)
    fig.update_yaxes(range=[-0.05, R + 0.05], visible=False, scaleanchor="x", scaleratio=1)
    return fig


def returns_figure(runs: dict[str, list[float]], window: int = 20, title: str | None = None) -> go.Figure:
    """Return (sum of rewards) of every episode, faint, with its moving average over `window` episodes."""
    from .viz import PALETTE

    fig = go.Figure()
    for i, (name, rets) in enumerate(runs.items()):
        rets = np.asarray(rets, float)
        col = PALETTE[i % len(PALETTE)]
        x = np.arange(1, len(rets) + 1)
        fig.add_trace(go.Scatter(x=x, y=rets, mode="lines", line=dict(color=col, width=1), opacity=0.25,
                                 name=f"{name}: each episode", showlegend=False, hoverinfo="skip"))
        if len(rets):
            w = min(window, len(rets))
            avg = np.convolve(rets, np.ones(w) / w, mode="valid")
            fig.add_trace(go.Scatter(x=x[w - 1:], y=avg, mode="lines", line=dict(color=col, width=2.5),
                                     name=f"{name} (mean of {w} episodes)"))
    fig.update_layout(title=title, xaxis_title="episode", yaxis_title="return (sum of rewards)", height=300,
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0))
    return fig


def value_figure(agent: Agent) -> go.Figure:
    """Three heat maps: the learned V(s) = max_a Q(s,a), the exact V*(s) from value iteration, and |V - V*|."""
    env = agent.env
    grid = lambda v: np.asarray(v, float).reshape(env.rows, env.cols)  # noqa: E731
    v, vs = agent.v, agent.v_star
    diff = np.abs(v - vs)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.08,
                        subplot_titles=["learned V(s) = max_a Q(s,a)", "exact V*(s) (value iteration)",
                                        "|V - V*|"])
    lo, hi = float(np.nanmin(vs)), float(np.nanmax(vs))
    text = lambda z: [[("" if np.isnan(x) else f"{x:.2f}") for x in row] for row in z]  # noqa: E731
    for j, (z, cs, zmin, zmax) in enumerate([(grid(v), "RdYlGn", lo, hi), (grid(vs), "RdYlGn", lo, hi),
                                             (grid(diff), "Reds", 0.0, max(0.05, float(np.nanmax(diff))))]):
        fig.add_trace(go.Heatmap(z=z[::-1], zmin=zmin, zmax=zmax, colorscale=cs, showscale=j == 2,
                                 text=text(z[::-1]), texttemplate="%{text}" if env.n <= 64 else None,
                                 hovertemplate="%{z:.3f}<extra></extra>", colorbar=dict(thickness=10)),
                      row=1, col=j + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    for j in range(3):
        fig.update_yaxes(scaleanchor=f"x{'' if j == 0 else j + 1}", row=1, col=j + 1)
    fig.update_layout(height=int(min(420, 40 * env.rows + 120)), margin=dict(l=10, r=10, t=40, b=10))
    return fig


def q_table_csv(agent: Agent) -> str:
    """The learned table as CSV (one row per cell the agent can stand on), with the exact Q* beside it."""
    lines = ["row,column,cell," + ",".join(f"Q_{a}" for a in ACTIONS) + "," + ",".join(f"Qstar_{a}" for a in ACTIONS)]
    for s in np.flatnonzero(agent.env.live):
        r, c = agent.env.rc(s)
        lines.append(f"{r + 1},{c + 1},{agent.env.kind[s]}," + ",".join(f"{x:.5f}" for x in agent.q[s]) + ","
                     + ",".join(f"{x:.5f}" for x in agent.q_star[s]))
    return "\n".join(lines) + "\n"


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


# -- shipped agents, pretrain, CLI -----------------------------------------------------------------------------------
CLIFF = PRESETS["Cliff walking (Sutton & Barto)"]
SHIPPED: dict[str, Shipped] = {
    "qlearning_grid6": Shipped("qlearning_grid6", "grid6", QConfig(), 13000),            # about 2,000 episodes
    "qlearning_cliff": Shipped("qlearning_cliff", "cliff", CLIFF, 10500),                # about 500 episodes
    "sarsa_cliff": Shipped("sarsa_cliff", "cliff", CLIFF.replace(algorithm="sarsa"), 13000),  # about 500
    "dqn_grid6": Shipped("dqn_grid6", "grid6", QConfig(algorithm="dqn"), 10000),
}


def shipped_for(config: QConfig) -> str | None:
    """The shipped agent trained with exactly these settings, if there is one."""
    for name, sh in SHIPPED.items():
        if sh.config == config:
            return name
    return None


def pretrain(out_dir=None) -> dict:
    import sys

    return pretrain_shipped(sys.modules[__name__], out_dir, extra=save_extra)


def cli_args(command, parser) -> None:
    import dataclasses

    from .topics import add_budget_args, add_config_args

    parser.add_argument("--preset", default=None, choices=list(_PRESET_KEYS),
                        help="start from a preset (its grid and rewards), then apply the options given")
    add_config_args(parser, QConfig)
    # Options not given stay None, so a preset's values are kept unless overridden.
    parser.set_defaults(**{f.name: None for f in dataclasses.fields(QConfig)})
    add_budget_args(parser, seconds=5.0)
    parser.add_argument("--episodes", type=int, default=None, help="train until this many episodes finished")


_PRESET_KEYS = {"default": "6x6 grid (default)", "cliff": "Cliff walking (Sutton & Barto)",
                "slippery": "Slippery 6x6 (20% of moves slip)", "four-rooms": "Four rooms"}


def cli_run(command, args) -> dict:
    import dataclasses
    import sys

    from .topics import save_checkpoint
    from .train import Trainer

    base = PRESETS[_PRESET_KEYS[args.preset]] if args.preset else QConfig()
    given = {f.name for f in dataclasses.fields(QConfig) if getattr(args, f.name, None) is not None}
    cfg = dataclasses.replace(base, **{k: getattr(args, k) for k in given}).check()
    task = make_task(cfg, args.seed, device=args.device)
    if args.episodes:
        tr = train_episodes(task, args.episodes)
    else:
        tr = Trainer(task, record_every=100).run(steps=args.steps, seconds=None if args.steps else args.seconds)
    ag = agent_of(task)
    ok, total = ag.reached()
    out = {"algorithm": cfg.algorithm, "grid": cfg.grid, "steps": tr.steps, "episodes": task.episodes,
           "seconds": round(tr.seconds, 3), "max_abs_V_minus_Vstar": round(ag.max_err(), 4),
           "greedy_reaches_goal_from": f"{ok}/{total} cells",
           "mean_return_last_50": round(float(np.mean(task.returns[-50:])), 4) if task.returns else None,
           "greedy_path_from_start": " ".join(f"({r + 1},{c + 1})" for r, c in map(ag.env.rc, ag.start_path()))}
    if args.out:
        save_checkpoint(args.out, sys.modules[__name__], task, {**save_extra(task), "steps": tr.steps})
    return out
