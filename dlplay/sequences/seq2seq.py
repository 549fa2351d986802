"""Encoder-decoder with and without attention, on a task whose answer is known: reverse a string of digits.

The encoder reads the input x_1..x_n into states h_1..h_n. Without attention the decoder sees only the last
one, h_n: the whole string must squeeze through one vector (Sutskever et al. 2014). With attention
(Bahdanau, Cho & Bengio 2015, eq. 5-6) the decoder, before emitting output t, looks back at every h_i:

    e_ti  = v^T tanh(W_a s_{t-1} + U_a h_i)       how well input i matches what the decoder needs now
    a_ti  = softmax_i(e_ti)                        the attention weights (one row of the heat map)
    c_t   = sum_i a_ti h_i                         the context vector it reads

and feeds c_t into its next step. For a reversal output t should look at input n+1-t: the anti-diagonal.
The recurrent layers themselves are PyTorch's GRU (the lesson here is the attention, written out).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

DIGITS = 10
BOS, EOS = 10, 11        # decoder start symbol; end of the output
VOCAB = 12
MAX_LEN = 24


def reversal_batch(batch: int, length: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(inputs (B, n) of random digits, targets (B, n + 1): the digits reversed, then EOS)."""
    x = torch.randint(0, DIGITS, (batch, length), generator=generator)
    y = torch.cat([x.flip(1), torch.full((batch, 1), EOS)], 1)
    return x, y


class Seq2Seq(nn.Module):
    def __init__(self, hidden: int = 128, attention: bool = True, embed: int = 32):
        super().__init__()
        self.hidden, self.attention = hidden, attention
        self.embed_in = nn.Embedding(VOCAB, embed)
        self.embed_out = nn.Embedding(VOCAB, embed)
        self.encoder = nn.GRU(embed, hidden, batch_first=True)
        self.decoder = nn.GRUCell(embed + (hidden if attention else 0), hidden)
        if attention:
            self.W_a = nn.Linear(hidden, hidden, bias=False)
            self.U_a = nn.Linear(hidden, hidden)
            self.v = nn.Linear(hidden, 1, bias=False)
        self.out = nn.Linear(hidden * (2 if attention else 1), VOCAB)

    def attend(self, s: torch.Tensor, H: torch.Tensor, UH: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Bahdanau attention: weights a (B, n) over the encoder states H (B, n, hidden); the context c (B, hidden)."""
        e = self.v(torch.tanh(self.W_a(s)[:, None] + UH)).squeeze(-1)    # e_ti = v^T tanh(W_a s + U_a h_i)
        a = F.softmax(e, -1)
        return a, torch.bmm(a[:, None], H).squeeze(1)                    # c_t = sum_i a_ti h_i

    def step(self, y_prev, s, H, UH):
        emb = self.embed_out(y_prev)
        if not self.attention:
            s = self.decoder(emb, s)
            return self.out(s), s, None
        a, c = self.attend(s, H, UH)
        s = self.decoder(torch.cat([emb, c], 1), s)
        return self.out(torch.cat([s, c], 1)), s, a

    def encode(self, x):
        H, h_n = self.encoder(self.embed_in(x))
        return H, h_n[0], (self.U_a(H) if self.attention else None)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: logits (B, m, VOCAB) for targets y (B, m), the decoder fed the true previous symbol."""
        H, s, UH = self.encode(x)
        prev = torch.full((x.shape[0],), BOS, device=x.device)
        logits = []
        for t in range(y.shape[1]):
            out, s, _ = self.step(prev, s, H, UH)
            logits.append(out)
            prev = y[:, t]
        return torch.stack(logits, 1)

    @torch.no_grad()
    def greedy(self, x: torch.Tensor, max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Decode without the answer: each output fed back in. (outputs (B, m), attention (B, m, n) or None)."""
        self.eval()
        H, s, UH = self.encode(x)
        prev = torch.full((x.shape[0],), BOS, device=x.device)
        outs, atts = [], []
        for _ in range(max_len or x.shape[1] + 1):
            out, s, a = self.step(prev, s, H, UH)
            prev = out.argmax(1)
            outs.append(prev)
            if a is not None:
                atts.append(a)
        return torch.stack(outs, 1), (torch.stack(atts, 1) if atts else None)


def build_model(hidden: int = 128, attention: bool = True, embed: int = 32) -> Seq2Seq:
    return Seq2Seq(int(hidden), bool(attention), int(embed))


@torch.no_grad()
def exact_match(model: Seq2Seq, length: int, n: int = 500, seed: int = 1234) -> float:
    """Share of n fresh random strings of this length reversed exactly (every digit and the EOS right)."""
    dev = model.out.weight.device
    x, y = reversal_batch(n, length, torch.Generator().manual_seed(seed + length))
    out, _ = model.greedy(x.to(dev), y.shape[1])
    return (out.cpu() == y).all(1).float().mean().item()
