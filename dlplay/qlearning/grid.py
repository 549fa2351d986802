"""The grid world: parsing the grid text, the environment (cells, moves, rewards, slip) and value iteration, the
exact answer every learned table is compared with.

Value iteration (Bellman optimality, Sutton & Barto eq. 4.10):
    V*(s) = max_a sum_s' P(s'|s,a) [ R(s') + gamma V*(s') ]
"""

from __future__ import annotations

from collections import deque

import numpy as np

from ..errors import InputError

MAX_SIDE = 16                        # rows and columns of a grid, each at most this
ACTIONS = ["up", "right", "down", "left"]
MOVES = [(-1, 0), (0, 1), (1, 0), (0, -1)]
ARROWS = ["↑", "→", "↓", "←"]
CELL_KINDS = {".": "free", "#": "wall", "S": "start", "G": "goal", "X": "pit"}

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
