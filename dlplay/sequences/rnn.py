"""Recurrent networks written out: the vanilla RNN cell, the LSTM's gates, a character language model over them,
the gradient that vanishes through time, and the "remember the first symbol" task.

The vanilla RNN (Elman 1990) keeps a state s_t and updates it from the input x_t:

    s_t = f(U x_t + W s_{t-1} + b)          f = tanh (or ReLU with W initialised to the identity: Le et al. 2015)
    y_t = softmax(V s_t + c)                a prediction at every step, so a loss at every step

The LSTM (Hochreiter & Schmidhuber 1997, with the forget gate of Gers et al. 2000) adds a memory cell c_t that is
only ever scaled and added to, so a gradient can pass through many steps without being squashed:

    i_t = sigma(U_i x_t + W_i h_{t-1} + b_i)      input gate
    f_t = sigma(U_f x_t + W_f h_{t-1} + b_f)      forget gate
    g_t = tanh (U_g x_t + W_g h_{t-1} + b_g)      candidate
    o_t = sigma(U_o x_t + W_o h_{t-1} + b_o)      output gate
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Training is backpropagation through time, truncated: the text is read in windows of seq_len characters, the
state is carried from one window to the next but the gradient is cut there (`detach`).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import InputError
from . import text as T

CELLS = ("tanh", "relu", "lstm")


class RNNCell(nn.Module):
    """s_t = f(U x_t + W s_{t-1} + b). init 'default' is nn.RNN's uniform(-1/sqrt(H), 1/sqrt(H)); 'identity' sets
    W = I (the IRNN of Le, Jaitly & Hinton 2015, meant for f = ReLU)."""

    def __init__(self, n_in: int, hidden: int, nonlinearity: str = "tanh", init: str = "default"):
        super().__init__()
        self.hidden, self.f = hidden, torch.tanh if nonlinearity == "tanh" else torch.relu
        self.U = nn.Linear(n_in, hidden)               # U x_t + b
        self.W = nn.Linear(hidden, hidden, bias=False)   # W s_{t-1}
        bound = 1 / math.sqrt(hidden)
        for p in (self.U.weight, self.U.bias, self.W.weight):
            nn.init.uniform_(p, -bound, bound)
        if init == "identity":
            nn.init.eye_(self.W.weight)
            nn.init.zeros_(self.U.bias)

    def initial(self, batch: int, device=None):
        return torch.zeros(batch, self.hidden, device=device)

    def forward(self, ux_t: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """One step, given U x_t + b already computed (for all t at once, one matrix product)."""
        return self.f(ux_t + self.W(s))

    @staticmethod
    def output(s):
        return s


class LSTMCell(nn.Module):
    """The four gates of the LSTM, computed in one product and split (order i, f, g, o as in nn.LSTM)."""

    def __init__(self, n_in: int, hidden: int, forget_bias: float = 1.0):
        super().__init__()
        self.hidden = hidden
        self.U = nn.Linear(n_in, 4 * hidden)             # U_i, U_f, U_g, U_o stacked, with the biases
        self.W = nn.Linear(hidden, 4 * hidden, bias=False)
        bound = 1 / math.sqrt(hidden)
        for p in (self.U.weight, self.U.bias, self.W.weight):
            nn.init.uniform_(p, -bound, bound)
        with torch.no_grad():   # forget-gate bias > 0: remember by default at the start (Gers et al. 2000;
            self.U.bias[hidden:2 * hidden].fill_(forget_bias)   # 1 in Jozefowicz et al. 2015; more for long gaps)

    def initial(self, batch: int, device=None):
        z = torch.zeros(batch, self.hidden, device=device)
        return (z, z.clone())

    def forward(self, ux_t: torch.Tensor, state):
        h, c = state
        i, f, g, o = (ux_t + self.W(h)).chunk(4, 1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        return (h, c)

    @staticmethod
    def output(state):
        return state[0]


def make_cell(cell: str, n_in: int, hidden: int, forget_bias: float = 1.0) -> nn.Module:
    if cell == "tanh":
        return RNNCell(n_in, hidden, "tanh", "default")
    if cell == "relu":
        return RNNCell(n_in, hidden, "relu", "identity")
    if cell == "lstm":
        return LSTMCell(n_in, hidden, forget_bias)
    raise InputError(f"Unknown cell {cell!r}: choose one of {', '.join(CELLS)}.")


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def run_cell(cell: nn.Module, ux: torch.Tensor, state, keep_states: bool = False):
    """Unroll the recurrence over time: ux is (T, B, .) = U x_t + b for every t. Returns (outputs (T, B, H), last
    state[, every state]). The loop is the recurrence: nothing is hidden inside a library call."""
    outs, states = [], []
    for t in range(ux.shape[0]):
        state = cell(ux[t], state)
        outs.append(cell.output(state))
        if keep_states:
            states.append(state)
    return (torch.stack(outs), state, states) if keep_states else (torch.stack(outs), state)


class SequenceNet(nn.Module):
    """Symbols in, a prediction per step out: embedding -> recurrent cell -> linear layer to logits."""

    def __init__(self, vocab: int, cell: str = "lstm", hidden: int = 256, embed: int = 32, n_out: int | None = None,
                 forget_bias: float = 1.0):
        super().__init__()
        self.vocab, self.cell_name, self.hidden_size = vocab, cell, hidden
        self.embed = nn.Embedding(vocab, embed)
        self.cell = make_cell(cell, embed, hidden, forget_bias)
        self.out = nn.Linear(hidden, n_out or vocab)

    def initial(self, batch: int):
        return self.cell.initial(batch, self.out.weight.device)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (T, B) -> (logits (T, B, n_out), last state)."""
        if state is None:
            state = self.initial(ids.shape[1])
        h, state = run_cell(self.cell, self.cell.U(self.embed(ids)), state)
        return self.out(h), state


def build_model(vocab: int = T.V, cell: str = "lstm", hidden: int = 256, embed: int = 32,
                n_out: int | None = None, forget_bias: float = 1.0) -> SequenceNet:
    return SequenceNet(int(vocab), cell, int(hidden), int(embed), n_out, float(forget_bias))


# -- the character language model --------------------------------------------------------------------------------
def streams(ids: torch.Tensor, batch: int) -> torch.Tensor:
    """Cut the text into `batch` contiguous streams, one per column (T_total, B): each column is read in order,
    window after window, so the state carried between windows belongs to the text that follows (as in
    pytorch/examples word_language_model)."""
    n = len(ids) // batch
    return ids[:n * batch].view(batch, n).t().contiguous()


@torch.no_grad()
def bits_per_char(model: SequenceNet, ids: torch.Tensor, batch: int = 16, window: int = 256) -> float:
    """Held-out bits per character: read the whole text (in `batch` streams), state carried throughout."""
    model.eval()
    dev = model.out.weight.device
    data = streams(ids, batch).to(dev)
    state, total, n = model.initial(batch), 0.0, 0
    for i in range(0, data.shape[0] - 1, window):
        x, y = data[i:i + window], data[i + 1:i + 1 + window]
        x = x[:len(y)]
        logits, state = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        n += y.numel()
    return total / max(n, 1) / math.log(2)


@torch.no_grad()
def sample_chars(model: SequenceNet, prompt_ids: torch.Tensor, n: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None):
    """Yield (next id, its distribution p(x_t | prompt, x_<t) as a CPU tensor) n times, one character at a time:
    the prompt is read first, then each sampled character is fed back in."""
    model.eval()
    dev = model.out.weight.device
    logits, state = model(prompt_ids.view(-1, 1).to(dev))
    last = logits[-1, 0]
    for _ in range(n):
        p = F.softmax(last.float(), -1).cpu()
        if temperature == 0:
            nxt = int(p.argmax())
        else:
            nxt = int(torch.multinomial(F.softmax(last.float().cpu() / temperature, -1), 1, generator=generator))
        yield nxt, p
        logits, state = model(torch.tensor([[nxt]], device=dev), state)
        last = logits[-1, 0]


# -- vanishing gradients -----------------------------------------------------------------------------------------
def gradient_through_time(model: SequenceNet, ids: torch.Tensor, T_steps: int = 50) -> torch.Tensor:
    """||dL_T / ds_{T-k}|| for k = 0 .. T_steps-1, where L_T is the loss of the last step only and s the state
    (for the LSTM both h and c). Averaged over the rows of ids (B, T_steps + 1). The model is not changed."""
    model.eval()
    dev = model.out.weight.device
    ids = ids.to(dev)
    x, y = ids[:, :T_steps].t(), ids[:, T_steps]
    cell = model.cell
    ux = cell.U(model.embed(x))
    state = model.initial(ids.shape[0])
    kept = []
    for t in range(T_steps):
        state = cell(ux[t], state)
        for s in (state if isinstance(state, tuple) else (state,)):
            s.retain_grad()
        kept.append(state)
    loss = F.cross_entropy(model.out(cell.output(state)), y)
    params = [p.requires_grad for p in model.parameters()]
    loss.backward()
    norms = []
    for st in reversed(kept):   # k = 0 is the last state
        parts = st if isinstance(st, tuple) else (st,)
        g = torch.cat([p.grad for p in parts], 1)
        norms.append(g.norm(dim=1).mean())
    model.zero_grad(set_to_none=True)
    del params
    return torch.stack(norms).detach().cpu()


# -- the copy task: remember the first symbol -------------------------------------------------------------------
COPY_SYMBOLS = 8          # the symbol to remember is one of 8 (chance: 12.5%)
GO = COPY_SYMBOLS         # the last input: "now say it"
MAX_DELAY = 200


def copy_batch(batch: int, delay: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs (delay + 2, B): the symbol, `delay` random distractor symbols, then GO; target: the first symbol."""
    first = torch.randint(0, COPY_SYMBOLS, (batch,), generator=generator)
    noise = torch.randint(0, COPY_SYMBOLS, (delay, batch), generator=generator)
    x = torch.cat([first[None], noise, torch.full((1, batch), GO)])
    return x, first


def copy_logits(model: SequenceNet, x: torch.Tensor) -> torch.Tensor:
    """Only the last step's prediction counts: the answer is asked for once, after GO."""
    logits, _ = model(x)
    return logits[-1]
