"""Upper limits on everything that costs time or memory, enforced in the backend (widgets only mirror them).

Each can be raised for a bigger machine through an environment variable, e.g. DLPLAY_MAX_RUN_SECONDS=600.
"""

from __future__ import annotations

import os

from .errors import InputError


def _env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(f"DLPLAY_{name}", default))
    except ValueError:
        return default


# Wall-clock limit of one training run (one press of Train): a runaway run stops there, weights kept.
MAX_RUN_SECONDS = _env("MAX_RUN_SECONDS", 300)


def check_range(name: str, value, lo, hi, what: str = "") -> float:
    """Return value if lo <= value <= hi (and a finite number), else raise InputError naming the knob."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, not {value!r}.") from None
    if not (lo <= v <= hi):  # also False for NaN
        raise InputError(f"{name} = {value} is out of range: it must be between {lo} and {hi}{what}.")
    return value


# gensim (word2vec on the Words page, Doc2Vec on the Documents page): the work of one run, counted before it
# starts. Tokens x epochs is what a corpus asks for; the weights say how much one token costs at the other settings,
# relative to gensim's defaults (window 5, 5 negatives, d = 100). Measured on this 2-core machine (gensim 4, 2
# workers): 1 epoch of the 452,944-token Wikipedia sample takes 0.96 s at the defaults and 20.0 s at window 10,
# 25 negatives, d = 300, which this count weighs 26x (21x measured). 25 million is about a minute here.
MAX_TOKEN_EPOCHS = _env("MAX_TOKEN_EPOCHS", 20_000_000)     # tokens x epochs of one gensim run, whatever the settings
MAX_GENSIM_WORK = _env("MAX_GENSIM_WORK", 25_000_000)       # tokens x epochs x the settings' weight (below)


def gensim_work(tokens: int, epochs: int, window: int = 5, negative: int = 5, dim: int = 100,
                loss: str = "negative") -> float:
    """One gensim word2vec run's work in default-equivalent token updates: tokens x epochs x (window / 5) x
    (outputs scored per prediction / 6) x (d / 100); hierarchical softmax scores about log2(V) ~ 15 inner nodes."""
    per = (negative + 1) if loss == "negative" else 16
    return float(tokens) * epochs * (window / 5) * (per / 6) * (dim / 100)


def check_token_epochs(tokens: int, epochs: int, what: str = "This run") -> None:
    """InputError when tokens x epochs exceeds MAX_TOKEN_EPOCHS, with the numbers and what to change."""
    if tokens * epochs > MAX_TOKEN_EPOCHS:
        raise InputError(f"{what} would read {tokens * epochs:,} words ({tokens:,} tokens x {epochs} epochs); the "
                         f"limit on this server is {MAX_TOKEN_EPOCHS:,.0f}. Use fewer epochs or a shorter text.")


def check_gensim_budget(tokens: int, epochs: int, window: int = 5, negative: int = 5, dim: int = 100,
                        loss: str = "negative", what: str = "gensim's word2vec") -> float:
    """Refuse (InputError) a gensim run above MAX_TOKEN_EPOCHS or MAX_GENSIM_WORK; return its work."""
    check_token_epochs(tokens, epochs, what)
    work = gensim_work(tokens, epochs, window, negative, dim, loss)
    if work > MAX_GENSIM_WORK:
        per = "negatives" if loss == "negative" else "hierarchical softmax"
        raise InputError(f"{what} at these settings is too much work for a shared server: {tokens:,} tokens x "
                         f"{epochs} epochs at window {window}, d = {dim} and {per} count as {work / 1e6:,.0f} million "
                         f"word updates at the default settings; the limit is {MAX_GENSIM_WORK / 1e6:,.0f} million "
                         "(about a minute). Use fewer epochs, a smaller window, dimension or number of negatives, "
                         "or a shorter text.")
    return work
