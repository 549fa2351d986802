"""The figures: Q(s,a) on the grid (with an episode's path, animated), episode returns, learned V against the exact
V*, and the table as CSV."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

from .agent import Agent
from .grid import ACTIONS, ARROWS


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
    from ..viz import PALETTE

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
