"""Learning from rewards: Q-learning, SARSA and a small DQN in an editable grid world, against value iteration."""

import numpy as np
import pandas as pd
import streamlit as st

from dlplay import checkpoints
from dlplay import qlearning as ql
from dlplay.errors import InputError
from dlplay.topics import checkpoint_bytes
from dlplay.ui import device_badge, errors_shown, page_header, present, training_panel
from dlplay.ui import share

page_header(
    "Learning from rewards",
    "No labels here: an agent moves through a grid, gets a reward for each move (a small cost, +1 at the goal, a "
    "penalty in a pit) and must find out by trying which moves pay off in the long run. **Q-learning** keeps a "
    "table Q(s, a): its guess of the discounted return of move a in cell s. After every move it nudges that guess "
    "towards what it just saw, the reward plus the best guess from where it landed. Acting greedily on the table is "
    "the policy; a little randomness (epsilon) keeps it exploring. Value iteration, which knows the rules of the "
    "grid, computes the exact answer to compare with.",
    formula=r"Q(s,a) \leftarrow Q(s,a) + \alpha\,\big(r + \gamma \max_{a'} Q(s',a') - Q(s,a)\big)"
            r"\qquad \pi(s) = \arg\max_a Q(s,a)",
    try_list=[
        "Open the page: the shipped agent's table, four triangles per cell (green = a good move), and its greedy "
        "arrows. Press *Play the episode* under the grid to watch it walk from the start.",
        "Press **Train** (13,000 moves: about 2,000 episodes on the 6x6 grid); the curves show the return per "
        "episode rising and max |V - V*| falling to about zero.",
        "*Step by step*: move one transition at a time and read the update with its numbers filled in; then press "
        "*50 episodes* a few times and watch the values spread backwards from the goal.",
        "Preset **Cliff walking**, then the *SARSA vs Q-learning* tab: SARSA learns the safe path, Q-learning the "
        "short one along the edge, and SARSA earns more while it still explores.",
        "Set epsilon to 0 and untick *Start each episode in a random cell*: the agent repeats what first worked "
        "and 3-5 of the 27 cells stay wrong (0-1 at epsilon 0.2; seeds 0-2). With random starts on, each new "
        "start cell explores for it. Set gamma to 0.5: far cells barely see the goal.",
        "Edit the grid (# wall, X pit, G goal, S start) and train again; wall the goal in to see the check.",
        "Algorithm **DQN**: a small network replaces the table (15,000 moves, about 15 s: a gradient step per "
        "move is slower than a table update); compare its arrows and |V - V*| with the table's.",
    ])
device_badge()
_base = lambda v: ql.PRESETS[v["preset"]]  # noqa: E731
share.link("rewards", [share.choice("preset", "rl:preset", list(ql.PRESETS)),
                       share.choice("algorithm", lambda v: f"rl:alg:{v['preset']}", list(ql.ALGORITHMS)),
                       share.number("alpha", lambda v: f"rl:alpha:{v['preset']}", 0.01, 1.0,
                                    lambda v: float(_base(v).alpha)),
                       share.number("gamma", lambda v: f"rl:gamma:{v['preset']}", 0.0, 1.0,
                                    lambda v: float(_base(v).gamma)),
                       share.number("epsilon", lambda v: f"rl:eps:{v['preset']}", 0.0, 1.0,
                                    lambda v: float(_base(v).epsilon)),
                       *share.panel("rl:train", steps=lambda v: ql.DEFAULT_MOVES[v["algorithm"]],
                                    seconds=lambda v: 15.0 if v["algorithm"] == "dqn" else 2.0,
                                    max_seconds=60.0)])


@st.cache_resource(show_spinner="Loading the shipped agent ...")
def _shipped(name: str) -> ql.Agent:
    return ql.load(checkpoints.shipped(name))


# -- settings ------------------------------------------------------------------------------------------------------
ctl, stage = present.stage()      # presenter mode: the controls on the left, the Q-table on the right (issue 26)
with ctl:
    c = [*st.columns(2), *st.columns(3)] if present.presenting() else st.columns([1.6, 1.6, 1, 1, 1])
    preset = c[0].selectbox("Preset", list(ql.PRESETS), key="rl:preset",
                            help="A grid with its rewards and the settings that go with it.")
    base = ql.PRESETS[preset]
    algorithm = c[1].selectbox("Algorithm", list(ql.ALGORITHMS), key=f"rl:alg:{preset}",
                               format_func=lambda a: ql.ALGORITHMS[a].split(" (")[0], help="\n\n".join(
                                   f"**{v.split(' (')[0]}**: {v.split(' (', 1)[1].rstrip(')')}"
                                   for v in ql.ALGORITHMS.values()))
    alpha = c[2].slider("Learning rate α", 0.01, 1.0, float(base.alpha), 0.01, key=f"rl:alpha:{preset}",
                        help="How far each update moves Q(s,a) towards its target (the table; DQN uses its own lr).")
    gamma = c[3].slider("Discount γ", 0.0, 1.0, float(base.gamma), 0.01, key=f"rl:gamma:{preset}",
                        help="A reward k moves ahead counts γ^k: small γ = short-sighted.")
    epsilon = c[4].slider("Exploration ε", 0.0, 1.0, float(base.epsilon), 0.01, key=f"rl:eps:{preset}",
                          help="Probability of a random move instead of the greedy one.")

    with st.expander("The grid and its rewards", expanded=False):
        g = st.columns([1.3, 1, 1, 1, 1])
        grid_text = g[0].text_area("Grid (one line per row)", "\n".join(ql.parse_grid(base.grid)), height=200,
                                   key=f"rl:grid:{preset}",
                                   help=". free, # wall, S start, G goal (ends the episode), X pit (ends it with the pit "
                                        f"reward). At most {ql.MAX_SIDE} x {ql.MAX_SIDE}.")
        step_cost = g[1].number_input("Cost of each move", -1.0, 10.0, float(base.step_cost), 0.01,
                                      key=f"rl:cost:{preset}")
        goal_reward = g[1].number_input("Goal reward", -1000.0, 1000.0, float(base.goal_reward), 1.0,
                                        key=f"rl:goal:{preset}")
        pit_reward = g[2].number_input("Pit reward", -1000.0, 1000.0, float(base.pit_reward), 1.0,
                                       key=f"rl:pit:{preset}")
        slip = g[2].slider("Slip probability", 0.0, 0.9, float(base.slip), 0.05, key=f"rl:slip:{preset}",
                           help="With this probability a move goes at right angles to the one chosen.")
        random_starts = g[3].checkbox("Start each episode in a random cell", base.random_starts,
                                      key=f"rl:rs:{preset}", help="Else every episode starts on S.")
        max_steps = g[3].number_input("Moves per episode (cut-off)", 1, 10000, int(base.max_episode_steps),
                                      key=f"rl:maxt:{preset}")
        g[4].markdown("**DQN only**")
        hidden = g[4].number_input("Hidden units", 4, 512, int(base.hidden), key="rl:hidden")
        lr = g[4].select_slider("Network learning rate", [3e-4, 1e-3, 3e-3, 1e-2], float(base.lr), key="rl:lr")
        state_input = g[4].radio("State input", ["one-hot", "coordinates"], key="rl:input", horizontal=True,
                                 help="One-hot: one input per cell, nothing shared (a table in disguise). Coordinates: "
                                      "(row, column), so neighbouring cells share what they learn.")

    try:
        cfg = ql.QConfig(grid="/".join(grid_text.splitlines()), algorithm=algorithm, alpha=alpha, gamma=gamma,
                         epsilon=epsilon, step_cost=step_cost, goal_reward=goal_reward, pit_reward=pit_reward, slip=slip,
                         random_starts=random_starts, max_episode_steps=int(max_steps), hidden=int(hidden), lr=lr,
                         state_input=state_input).check()
    except InputError as e:
        st.error(str(e), icon=":material/error:")
        st.stop()


    def live(trainer):
        """The table while it trains, with the episode under way drawn as a line."""
        ag = ql.agent_of(trainer.task, trainer.steps)
        st.session_state["rl:draws"] = st.session_state.get("rl:draws", 0) + 1
        st.plotly_chart(ql.q_figure(ag, path=trainer.task.path or trainer.task.last_path, height=360,
                                    title=f"Live: Q-values after {trainer.task.episodes:,} episodes "
                                          "(line = the current episode)"),
                        key=f"rl:live:{st.session_state['rl:draws']}")


    trainer = training_panel(
        "rl:train", ql.make_task, config=cfg, steps=ql.DEFAULT_MOVES[cfg.algorithm],
        seconds=15.0 if cfg.algorithm == "dqn" else 2.0, max_seconds=60.0,
        live=live, record_every=50,
        panels={"return per episode (mean of last 50)": ["return_avg"], "max |V - V*| over the cells": ["max_err"],
                "share of cells the greedy policy gets to the goal": ["reached"]})
    share.code_behind("rl:train", ql.make_task, cfg,
                      command='train qlearning', steps=ql.DEFAULT_MOVES[cfg.algorithm], seconds=15.0 if cfg.algorithm == "dqn" else 2.0,
                      title='Learning from rewards')

    # -- the agent shown: the user's, else the shipped one, else an untrained one ------------------------------------------
    shipped_name = ql.shipped_for(cfg)
    if trainer is not None and trainer.steps > 0:
        agent, who = ql.agent_of(trainer.task, trainer.steps), "your agent"
        st.success(f"Showing **your agent** ({ql.ALGORITHMS[cfg.algorithm].split(' (')[0]}, "
                   f"{trainer.task.episodes:,} episodes, {trainer.steps:,} moves).", icon=":material/person:")
    elif shipped_name:
        agent, who = _shipped(shipped_name), "the shipped agent"
        st.info(f"Showing **the shipped agent** for these settings ({len(agent.returns):,} episodes, trained by "
                "`python -m dlplay pretrain qlearning`). Press *Train* for your own.", icon=":material/inventory_2:")
    else:
        env = cfg.env()
        agent = ql.Agent(cfg, env, np.zeros((env.n, 4)), ql.value_iteration(env, cfg.gamma))
        who = "an untrained agent"
        st.info("No shipped agent for these settings: the table below is all zeros. Press *Train* (a second or two).",
                icon=":material/info:")

with errors_shown():
    ok, total = agent.reached()
    m = st.columns(4)
    m[0].metric("Episodes trained", f"{len(agent.returns):,}")
    m[1].metric("Greedy policy reaches the goal from", f"{ok} / {total} cells",
                help="Following the arrows (without slipping) from each cell that can reach the goal at all.")
    m[2].metric("max |V - V*|", f"{agent.max_err():.3f}",
                help="Largest gap over those cells between the learned V(s) = max_a Q(s,a) and the exact V*(s) "
                     "from value iteration.")
    m[3].metric("Mean return, last 50 episodes",
                f"{np.mean(agent.returns[-50:]):.3f}" if agent.returns else "n/a",
                help="Sum of the rewards of an episode, exploration moves included.")

    if cfg.slip > 0:
        st.caption("With slips the same move can end in different cells, so each update chases one random outcome "
                   "and a constant α keeps the table noisy: on the slippery preset after 4,000 episodes, max |V - V*| "
                   "was 0.15-0.28 with α = 0.3 and 0.08-0.12 with α = 0.03 (seeds 0-2). Lower α averages over more "
                   "outcomes, at the price of slower learning.")
    # presenter mode: the Q-table beside the controls, the returns below
    left, right = (stage, st.container()) if present.presenting() else st.columns([3, 2])
    start_path = agent.start_path()
    with left:
        which = "greedy path from the start"
        if agent.last_path:
            which = st.radio("Path drawn", ["greedy path from the start", "last training episode"], horizontal=True,
                             key="rl:pathkind", help="The last training episode includes the exploration moves.")
        path = start_path if which.startswith("greedy") else agent.last_path
        st.plotly_chart(ql.q_figure(agent, path=path, animate=True,
                                    title=f"Q-values of {who}: four triangles per cell, arrow = greedy move"),
                        key="rl:q")
        st.caption("Each cell is split into four triangles, one per move (up, right, down, left), coloured by "
                   f"Q(s, move). Hover a triangle for its value and the exact Q*. The line is the {which} "
                   f"({len(path) - 1} moves); *Play the episode* walks it.")
    with right:
        if agent.returns:
            st.plotly_chart(ql.returns_figure({who: agent.returns}, title="Return per episode"), key="rl:returns")
        cells = " → ".join(f"({r + 1},{c + 1})" for r, c in map(agent.env.rc, start_path))
        st.markdown(f"**Greedy path from the start** ({len(start_path) - 1} moves; cells as (row, column)): "
                    f"{cells}")

    tabs = st.tabs(["Step by step", "The exact answer (value iteration)", "SARSA vs Q-learning on the cliff",
                    "From a table to a network (DQN)", "Downloads"])

    with tabs[0]:
        st.markdown("A fresh agent with the settings above that you move by hand. Each move updates one entry "
                    "of the table; the update is written out with its numbers.")
        ss = st.session_state
        if ss.get("rl:stepper") is None or ss["rl:stepper"].config != cfg:
            ss["rl:stepper"] = ql.Stepper(cfg, seed=int(ss.get("rl:train:seed", 0)))
        stp = ss["rl:stepper"]
        if trainer is not None and trainer.steps > 0 and st.button(
                "Continue from a copy of your trained agent", key="rl:stepcopy",
                help="The panel's agent is left as it is; this copy is moved by hand."):
            ss["rl:stepper"] = stp = ql.Stepper.from_task(trainer.task)
        b = st.columns(5)
        if b[0].button("1 move", key="rl:step1", type="primary", width="stretch"):
            stp.moves(1)
        if b[1].button("10 moves", key="rl:step10", width="stretch"):
            stp.moves(10)
        if b[2].button("1 episode", key="rl:ep1", width="stretch"):
            stp.episodes(1)
        if b[3].button("50 episodes", key="rl:ep50", width="stretch"):
            stp.episodes(50)
        if b[4].button("Start over", key="rl:stepreset", width="stretch"):
            ss["rl:stepper"] = stp = ql.Stepper(cfg, seed=int(ss.get("rl:train:seed", 0)))
        t = stp.task
        if t.last is None:
            st.caption("Press *1 move*.")
        else:
            st.latex(ql.update_latex(t.last, t.env))
            kind = "max over the next cell's moves" if cfg.algorithm != "sarsa" else "the move SARSA will take next"
            st.caption(f"Move {stp.trainer.steps:,} (episode {t.episodes + 1}): the target r + γ·({kind}) is what "
                       "the agent just saw; the update moves Q(s,a) a fraction α of the way towards it.")
        sa = ql.agent_of(t, stp.trainer.steps)
        st.plotly_chart(ql.q_figure(sa, path=t.path, height=360, title=f"The hand-moved agent after "
                                    f"{stp.trainer.steps:,} moves and {t.episodes:,} finished episodes"),
                        key="rl:stepfig")
        if stp.history:
            st.dataframe(pd.DataFrame([{
                "cell s": "({},{})".format(*(v + 1 for v in t.env.rc(h.s))), "move a": ql.ACTIONS[h.a],
                "reward r": round(h.r, 3), "next cell s'": "({},{})".format(*(v + 1 for v in t.env.rc(h.s2))),
                "Q(s,a) before": round(h.q_old, 4), "target": round(h.target, 4), "Q(s,a) after": round(h.q_new, 4)}
                for h in reversed(stp.history)]), hide_index=True)
            st.caption("The last moves, newest first.")

    with tabs[1]:
        st.markdown("Value iteration knows the grid's rules (where each move leads, with which probability, and "
                    "its reward) and repeats the Bellman backup over all cells until nothing changes. Q-learning "
                    "never sees the rules, only its own moves; with enough exploration it converges to the same "
                    "values.")
        st.latex(r"V^*(s) = \max_a \sum_{s'} P(s' \mid s, a)\,\big(R(s') + \gamma\,V^*(s')\big)")
        st.plotly_chart(ql.value_figure(agent), key="rl:values")
        exact = ql.Agent(cfg, agent.env, agent.q_star, agent.q_star)
        same, n_cells = agent.policy_agreement()
        st.metric("Cells where the learned greedy move is an optimal one", f"{same} / {n_cells}",
                  help="Optimal by value iteration's Q*; where several moves are exactly as good, any of them counts.")
        st.plotly_chart(ql.q_figure(exact, path=exact.start_path(), title="The exact Q* and its greedy policy"),
                        key="rl:qstar")

    with tabs[2]:
        st.markdown("On the cliff every move costs 1 and stepping into the cliff costs 100. Both agents explore "
                    "with ε = 0.1. **Q-learning** is *off-policy*: its target uses the best next move, so it "
                    "learns the values of the greedy policy and its path runs along the edge (the shortest). "
                    "**SARSA** is *on-policy*: its target uses the move it will really take, random ones "
                    "included, so it learns that walking next to the edge sometimes ends in the cliff, and keeps "
                    "a row or two away.")
        st.latex(r"\text{SARSA: } Q(s,a) \leftarrow Q(s,a) + \alpha\,\big(r + \gamma\,Q(s',a') - Q(s,a)\big),"
                 r"\quad a' \sim \varepsilon\text{-greedy}(s')")
        sarsa, qlearn = _shipped("sarsa_cliff"), _shipped("qlearning_cliff")
        cc = st.columns(2)
        for col, (name, ag) in zip(cc, [("SARSA", sarsa), ("Q-learning", qlearn)]):
            p = ag.start_path()
            col.plotly_chart(ql.q_figure(ag, path=p, animate=True, show_numbers=False, height=300,
                                         title=f"{name}: greedy path of {len(p) - 1} moves"),
                             key=f"rl:cliff:{name}")
            k = col.columns(2)
            k[0].metric(f"{name}: path moves next to the cliff", f"{ql.path_edge_share(ag):.0%}",
                        help="Share of the greedy path's cells that are one step from the cliff.")
            k[1].metric(f"{name}: mean return while learning (last 100 episodes)",
                        f"{np.mean(ag.returns[-100:]):.1f}",
                        help="Exploration moves included: what the agent actually earned.")
        st.plotly_chart(ql.returns_figure({"SARSA": sarsa.returns, "Q-learning": qlearn.returns}, window=20,
                                          title="Return per episode while learning (ε = 0.1)"), key="rl:cliffret")
        st.caption(f"Shipped agents: {len(sarsa.returns)} episodes each, α = {ql.CLIFF.alpha}, seed 0. Pick the "
                   "*Cliff walking* preset above to train either one yourself with another seed.")

    with tabs[3]:
        st.markdown("A table has one free number per cell and move; it cannot say anything about a cell it has "
                    "not visited. A **DQN** computes Q(s, ·) with a small network, trained on minibatches of "
                    "remembered moves (the replay buffer) towards targets from a frozen copy of itself (the target "
                    "network), because chasing its own moving predictions tends to diverge.")
        st.latex(r"\mathcal{L}(\theta) = \mathbb{E}_{(s,a,r,s') \sim \text{buffer}}\,\mathrm{Huber}\big(r + \gamma "
                 r"\max_{a'} Q_{\theta^-}(s',a') - Q_\theta(s,a)\big)")
        dqn, tab = _shipped("dqn_grid6"), _shipped("qlearning_grid6")
        cc = st.columns(2)
        for col, (name, ag) in zip(cc, [("Table (Q-learning)", tab), ("Network (DQN, one-hot input)", dqn)]):
            col.plotly_chart(ql.q_figure(ag, path=ag.start_path(), height=360, title=name), key=f"rl:dqn:{name}")
            k = col.columns(2)
            k[0].metric(f"{name}: max |V - V*|", f"{ag.max_err():.3f}")
            k[1].metric(f"{name}: moves trained", f"{ag.steps:,}" if ag.steps else "n/a")
        st.caption("Both shipped, on the default 6x6 grid. Choose *DQN* above to train one live (a few hundred "
                   "moves per second on a CPU: slower than the table, which is the price of a function).")

    with tabs[4]:
        d = st.columns(2)
        d[0].download_button("Download the Q-table (CSV, with Q* beside it)", ql.q_table_csv(agent),
                             file_name="q_table.csv", mime="text/csv", key="rl:csv", on_click="ignore")
        if trainer is not None and trainer.steps > 0:
            d[1].download_button("Download your agent (checkpoint)",
                                 checkpoint_bytes(ql, trainer.task, {**ql.save_extra(trainer.task),
                                                                     "steps": trainer.steps}),
                                 file_name=f"{cfg.algorithm}_agent.pt", key="rl:ckpt", on_click="ignore")
        d[0].caption("Reload a checkpoint on the command line: `python -m dlplay train qlearning --help`.")
