"""DQN (Mnih et al. 2015): Q(s, .) is a small network instead of the table; minimise the Huber loss between
Q(s,a) and y = r + gamma max_a' Q_target(s',a') on minibatches from a replay buffer; Q_target is a copy synced
every `target_every` steps."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from .grid import GridWorld
from .tabular import QConfig, QTask, Transition


class QNet(nn.Module):
    """Q(s, .) as a one-hidden-layer network: state features in, four action values out."""

    def __init__(self, n_in: int, hidden: int = 64):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def state_features(env: GridWorld, how: str) -> torch.Tensor:
    """The network's input for every cell: a one-hot vector (no sharing between cells) or (row, column) in [0, 1]
    (neighbouring cells look alike, so what is learned in one cell spreads to its neighbours)."""
    if how == "one-hot":
        return torch.eye(env.n)
    r, c = np.divmod(np.arange(env.n), env.cols)
    return torch.tensor(np.c_[r / max(env.rows - 1, 1), c / max(env.cols - 1, 1)], dtype=torch.float32)


class DQNTask(QTask):
    """The same agent with Q(s, .) a small network: replay buffer, target network, one gradient step per move."""

    def __init__(self, config: QConfig, seed: int = 0, device=None):
        from ..device import get_device, seed_everything

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
