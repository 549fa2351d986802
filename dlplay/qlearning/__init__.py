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

The package: grid.py (the grid world and value iteration), tabular.py (settings, presets, the table, one
transition explained, the Q-learning/SARSA task), dqn.py (the network, its task), agent.py (make_task, training by
episodes, the Stepper, the trained Agent), figures.py (plotly and CSV); here the topic contract: shipped agents,
load, pretrain and the CLI.
"""

from __future__ import annotations

import numpy as np
import torch

from .. import checkpoints
from ..errors import InputError
from ..topics import Shipped, pretrain_shipped
from .agent import Agent, Stepper, agent_of, build_model, edge_cells, make_task, path_edge_share, save_extra, \
    train_episodes
from .dqn import DQNTask, QNet, state_features
from .figures import q_figure, q_table_csv, returns_figure, value_figure
from .grid import (ACTIONS, ARROWS, CELL_KINDS, CLIFF_GRID, DEFAULT_GRID, FOUR_ROOMS, MAX_SIDE, MOVES, GridWorld,
                   parse_grid, value_iteration)
from .tabular import ALGORITHMS, DEFAULT_MOVES, PRESETS, QConfig, QTable, QTask, Transition, update_latex

TITLE = "Learning from rewards: Q-learning in a grid world"
BUILDER = "dlplay.qlearning:build_model"


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

    from ..topics import add_budget_args, add_config_args

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

    from ..topics import save_checkpoint
    from ..train import Trainer

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
