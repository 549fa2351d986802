"""The 2-D GAN playground: a generator and a discriminator, both small MLPs, learning a point cloud in the plane.

One training iteration is the loop of the lecture: K discriminator steps on real versus generated points, then
M generator steps that try to fool the (now fixed) discriminator. Every number the page shows is measured here.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

import numpy as np
import torch
from torch import nn

from .. import data, limits
from ..device import get_device, seed_everything
from ..errors import InputError
from ..topics import Config
from ..train import Batches, Task
from .losses import check_loss, d_accuracy, d_loss, g_loss, gradient_penalty

BUILDER = "dlplay.gan:build_gan2d"
OPTIMIZERS = ("adam", "sgd", "rmsprop")
NOISES = ("gaussian", "uniform")
N_REAL = 4000          # size of the real training set drawn from the target distribution
N_EVAL = 2000          # samples used for the histogram distance and the mode counts
N_MMD = 400            # samples used for the kernel distance (MMD costs N^2)


# -- models ----------------------------------------------------------------------------------------------------
def mlp(n_in: int, n_out: int, hidden: int, layers: int, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    mods, d = [], n_in
    for _ in range(layers):
        mods += [nn.Linear(d, hidden), act()]
        d = hidden
    return nn.Sequential(*mods, nn.Linear(d, n_out))


class LeakyReLU02(nn.LeakyReLU):
    def __init__(self):
        super().__init__(0.2)


class GAN2D(nn.Module):
    """G: noise (noise_dim) -> point (2);  D: point (2) -> one score (a logit, or a critic value for WGAN)."""

    def __init__(self, noise_dim: int = 2, g_hidden: int = 64, g_layers: int = 3, d_hidden: int = 64,
                 d_layers: int = 3):
        super().__init__()
        self.noise_dim = noise_dim
        self.G = mlp(noise_dim, 2, g_hidden, g_layers, nn.ReLU)
        self.D = mlp(2, 1, d_hidden, d_layers, LeakyReLU02)


def build_gan2d(noise_dim=2, g_hidden=64, g_layers=3, d_hidden=64, d_layers=3) -> GAN2D:
    return GAN2D(noise_dim, g_hidden, g_layers, d_hidden, d_layers)


# -- settings --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GAN2DConfig(Config):
    """Every knob of the playground. Bounds are enforced by check() (widgets only mirror them). `points` holds a
    user's own target (float32 x, y pairs as bytes, so the config stays plain, comparable data) when dataset is
    'points'."""
    dataset: str = "ring8"
    loss: str = "nonsaturating"
    noise_dim: int = 2
    noise: str = "gaussian"
    g_hidden: int = 64
    g_layers: int = 3
    d_hidden: int = 64
    d_layers: int = 3
    optimizer: str = "adam"
    lr_g: float = 2e-3
    lr_d: float = 2e-3
    k_d: int = 1           # discriminator steps per iteration
    m_g: int = 1           # generator steps per iteration
    batch_size: int = 256
    gp_weight: float = 0.1  # lambda of WGAN-GP (0.1 suits 2-D data, as in the WGAN-GP paper's toy experiments)
    points: bytes | None = field(default=None, repr=False)

    def check(self) -> "GAN2DConfig":
        check_loss(self.loss)
        if self.noise not in NOISES:
            raise InputError(f"Noise distribution must be one of {', '.join(NOISES)}, not {self.noise!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise InputError(f"Optimiser must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}.")
        for name, lo, hi in [("noise_dim", 1, 16), ("g_hidden", 4, 512), ("d_hidden", 4, 512), ("g_layers", 1, 6),
                             ("d_layers", 1, 6), ("k_d", 1, 20), ("m_g", 1, 20), ("batch_size", 8, 4096)]:
            limits.check_range(name, getattr(self, name), lo, hi)
        for name in ("lr_g", "lr_d"):
            limits.check_range(name, getattr(self, name), 1e-6, 1.0)
        limits.check_range("gp_weight", self.gp_weight, 0.0, 100.0)
        return self

    def model_config(self) -> dict:
        return {k: getattr(self, k) for k in ("noise_dim", "g_hidden", "g_layers", "d_hidden", "d_layers")}

    def with_(self, **kw) -> "GAN2DConfig":
        known = {f.name for f in fields(self)}
        return replace(self, **{k: v for k, v in kw.items() if k in known})

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "points"}

    def target_points(self) -> np.ndarray | None:
        return None if self.points is None else np.frombuffer(self.points, np.float32).reshape(-1, 2)


def make_task(config: GAN2DConfig, seed: int = 0, device=None) -> "GAN2DTask":
    """The topic contract's task factory for the 2-D playground."""
    return GAN2DTask(config, seed=seed, device=device, points=config.target_points())


# name -> (settings that differ from the defaults, what to watch). Every preset names the target it was calibrated
# on ("dataset"), and choosing the preset selects that target: the same knobs tell another story elsewhere (measured
# at seed 0, 120 iterations, median of the last 20: G's gradient norm under the "too strong" knobs is 0.67 on the
# moons and 0.57 on the spiral, healthy 0.30 and 1.16, against 3e-6 on the ring; issue 30 measured the WGAN-GP knobs
# covering 0 of the 5x5 grid's 25 modes). tests/test_gan.py checks each lesson on its target at a fixed iteration
# budget on seeds 1 and 2.
CALIBRATED_ON = "ring8"
PRESETS: dict[str, tuple[dict, str]] = {
    "healthy training": (
        {"dataset": CALIBRATED_ON},
        "Non-saturating loss, one discriminator step per generator step, equal learning rates, on the ring of 8 "
        "Gaussians. Watch the fake points spread along the ring and split into the modes while D's accuracy on "
        "both sets drifts towards 50%."),
    "discriminator too strong: vanishing gradients": (
        {"dataset": CALIBRATED_ON, "loss": "minimax", "k_d": 5, "lr_d": 5e-3, "d_hidden": 128, "lr_g": 1e-4},
        "The original minimax loss, a wider discriminator that takes five fast steps per slow generator step, on "
        "the ring of 8: D soon rejects every fake point with certainty, its sigmoid saturates and the arrows (G's "
        "gradient) shrink to nothing. The 'gradient norm at G' curve drops by orders of magnitude and the fake "
        "points freeze."),
    "mode collapse": (
        # lr_g 1e-3, not 3e-3: at 3e-3 the clump on seed 0 was a dead generator (every ReLU of a hidden layer off
        # for all z, its output constant), which no loss can revive; at 1e-3 the clump stays alive and switching
        # to WGAN-GP brings back 8 / 8 / 8 / 7 modes on seeds 0-3 (1,800 iterations collapsed, 2,400 after)
        {"dataset": CALIBRATED_ON, "m_g": 5, "lr_g": 1e-3, "lr_d": 3e-4, "noise_dim": 1},
        "The generator takes five fast steps per slow discriminator step, so it races to wherever D currently "
        "says 'real' and squeezes all its points into one tight clump. Watch the clump jump around the ring, "
        "usually landing between the modes, while 'modes covered' stays at 0 or 1 and the distances stall."),
    "WGAN-GP fixes it": (
        {"dataset": CALIBRATED_ON, "loss": "wgan-gp", "m_g": 1, "k_d": 5, "lr_g": 1e-3, "lr_d": 1e-3,
         "noise_dim": 1},
        "Same small noise, but a Wasserstein critic with a gradient penalty trained five times per generator "
        "step, on the ring of 8. The critic's slope never saturates, so the arrows always point towards "
        "uncovered modes and the fake points spread over the whole ring."),
}
PRESET_NOTE = ("This preset was calibrated on the ring of 8 Gaussians (choosing it selects that target). On the "
               "target you picked since, the same knobs may tell another story: measured at 120 iterations, the "
               "'too strong' knobs leave G's gradient as large as healthy training does on the moons and the "
               "spiral. Try it and compare.")


def preset(name: str, dataset: str | None = None) -> GAN2DConfig:
    """The preset's settings on the target it was calibrated for. `dataset` overrides the target (the CLI's
    --dataset); the preset's description then no longer promises anything."""
    if name not in PRESETS:
        raise InputError(f"Unknown preset {name!r}: choose one of {', '.join(PRESETS)}.")
    cfg = GAN2DConfig().with_(**PRESETS[name][0])
    return (cfg if dataset is None else cfg.with_(dataset=dataset)).check()


# -- data ------------------------------------------------------------------------------------------------------
def parse_points_csv(raw: bytes, max_points: int = 50_000) -> np.ndarray:
    """Points from an uploaded CSV with exactly two numeric columns (x, y); one header line is allowed.

    Cells may be separated by commas, semicolons, tabs or spaces. A line with another number of cells (a ragged
    file), a cell that is not a number, or a NaN / infinity is refused with its line number: silently dropping or
    guessing cells would train on points the student never gave."""
    text = data.read_text(raw, what="CSV file")
    rows, seen_data = [], False
    for i, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        sep = next((s for s in (",", ";", "\t") if s in line), None)
        cells = [c.strip() for c in (line.split(sep) if sep else line.split())]
        if sep and len(cells) > 2 and cells[-1] == "":
            cells = cells[:-1]  # one trailing separator ("1,2,") as spreadsheets sometimes write
        try:
            vals = [float(c) for c in cells]
        except ValueError:
            if not seen_data and not rows:
                seen_data = True  # the first line that is not numbers: a header
                continue
            bad = next(c for c in cells if not _is_number(c))
            what = "an empty cell" if bad == "" else f"{bad[:30]!r}"
            raise InputError(f"Line {i} of the CSV is not two numbers: {what} is not a number "
                             f"(the line reads {line[:60]!r}).") from None
        seen_data = True
        if len(vals) != 2:
            raise InputError(f"Line {i} of the CSV has {len(vals)} value{'s' if len(vals) != 1 else ''}; every line "
                             "needs exactly two numbers, x and y.")
        if not all(math.isfinite(v) for v in vals):
            raise InputError(f"Line {i} of the CSV holds {line[:60]!r}, which is not a finite number (NaN or "
                             "infinity); remove it and try again.")
        rows.append(vals)
        if len(rows) > max_points:
            raise InputError(f"The CSV has more than {max_points:,} points; please upload fewer.")
    pts = np.asarray(rows, np.float64).reshape(-1, 2)
    return normalise_points(pts)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def normalise_points(pts: np.ndarray) -> np.ndarray:
    """Centre user points and scale them to fit in [-2.5, 2.5] (the playground's view); keep the aspect ratio."""
    pts = np.asarray(pts, np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise InputError("Points must be pairs (x, y).")
    if len(pts) < 10:
        raise InputError(f"Only {len(pts)} points: give at least 10 so there is a distribution to learn.")
    if not np.isfinite(pts).all():
        raise InputError("Some points are not finite numbers (NaN or infinity); remove them and try again.")
    pts = pts - (pts.max(0) + pts.min(0)) / 2
    span = np.abs(pts).max()
    if span < 1e-9:
        raise InputError("All points are the same; a distribution needs some spread.")
    return (pts / span * 2.5).astype(np.float32)


def real_points(dataset: str, n: int = N_REAL, seed: int = 0) -> np.ndarray:
    return data.toy2d(dataset, n, seed=seed)


def view_range(real: np.ndarray) -> tuple[float, float, float, float]:
    """A fixed square window around the data, so frames of the live view do not jump."""
    lo, hi = real.min(0), real.max(0)
    c, half = (lo + hi) / 2, max(float((hi - lo).max()) / 2 * 1.35, 0.5)
    return float(c[0] - half), float(c[0] + half), float(c[1] - half), float(c[1] + half)


# -- distances between the real and the generated distribution ----------------------------------------------------
def mmd(x: torch.Tensor, y: torch.Tensor, scales=(0.05, 0.2, 1.0)) -> float:
    """Squared maximum mean discrepancy with a sum of Gaussian kernels (Gretton et al. 2012, eq. 3, biased form):
    MMD^2 = E k(x,x') + E k(y,y') - 2 E k(x,y),  k(a,b) = sum_s exp(-||a-b||^2 / (2 s^2)). Zero iff the same."""
    x, y = x.float().cpu(), y.float().cpu()
    sq = lambda a, b: ((a * a).sum(1)[:, None] + (b * b).sum(1)[None] - 2 * a @ b.T).clamp_min(0)  # noqa: E731
    k = lambda d: sum(torch.exp(-d / (2 * s * s)) for s in scales)  # noqa: E731
    return float(k(sq(x, x)).mean() + k(sq(y, y)).mean() - 2 * k(sq(x, y)).mean())


def js_divergence(x: np.ndarray, y: np.ndarray, bounds, bins: int = 40) -> float:
    """Jensen-Shannon divergence (in bits, 0..1) between 2-D histograms of the two samples on the view window."""
    rng = [[bounds[0], bounds[1]], [bounds[2], bounds[3]]]
    p = np.histogram2d(x[:, 0], x[:, 1], bins=bins, range=rng)[0].ravel() + 1e-10
    q = np.histogram2d(y[:, 0], y[:, 1], bins=bins, range=rng)[0].ravel() + 1e-10
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    kl = lambda a, b: float(np.sum(a * np.log2(a / b)))  # noqa: E731
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def mode_stats(dataset: str, fake: np.ndarray) -> dict[str, float]:
    """For mixture targets: modes covered (>= 2% of samples within 3 std of the mode) and the share of samples
    within 3 std of some mode ("high quality"), as in the unrolled-GAN and VEEGAN papers. {} for other sets."""
    m = data.toy2d_modes(dataset)
    if m is None:
        return {}
    centres, std = m
    d = np.linalg.norm(fake[:, None, :] - centres[None], axis=2)
    near = d.min(1) <= 3 * std
    which = d.argmin(1)
    counts = np.bincount(which[near], minlength=len(centres))
    return {"modes_covered": float((counts >= 0.02 * len(fake)).sum()), "n_modes": float(len(centres)),
            "high_quality": float(near.mean())}


# -- the task --------------------------------------------------------------------------------------------------
class GAN2DTask(Task):
    """One `step()` is one iteration of the GAN loop: k_d discriminator steps, then m_g generator steps.

    Set `phase` to "d" or "g" to make the next step() a single discriminator or generator update (the page's
    step buttons do this and then call trainer.run(steps=1)).
    """

    max_threads = 1   # tiny MLPs: more threads only add overhead (and spin-waiting on a busy machine)
    # Knobs that change mid-run (topics.tune): the networks stay, only the game they play changes. GAN Lab's
    # lesson: let a run collapse, switch the loss to WGAN-GP, watch the modes come back.
    LIVE_KNOBS = ("loss", "lr_g", "lr_d", "k_d", "m_g", "gp_weight", "batch_size", "optimizer", "noise")

    def __init__(self, config: GAN2DConfig = GAN2DConfig(), seed: int = 0, device=None,
                 points: np.ndarray | None = None, distance_every: int = 100):
        self.config = config.check()
        # Kept on the CPU whatever device is asked for: two MLPs of a few hundred weights on 2-D points do far too
        # little work per step to fill a GPU, where each step would cost kernel launches and a copy of its metrics
        # (bench/gpu_smoke.py measures both; `device` is still checked, so a bad name is an error as elsewhere).
        get_device(device)
        self.device = torch.device("cpu")
        self.generator = seed_everything(seed)
        if points is None:
            points = real_points(config.dataset, seed=seed)
        self.real_np = np.asarray(points, np.float32)
        self.real = torch.as_tensor(self.real_np, device=self.device)
        self.bounds = view_range(self.real_np)
        self.model_config = config.model_config()
        self.model = build_gan2d(**self.model_config).to(self.device)
        self.G, self.D = self.model.G, self.model.D
        self.opt_g, self.opt_d = self._optimizer(self.G, config.lr_g), self._optimizer(self.D, config.lr_d)
        self.batches = Batches(len(self.real), config.batch_size, self.generator)
        # Fixed noise for the pictures and the distances: drawn once from a separate generator, so looking at
        # the model never changes the random numbers training uses.
        g_view = torch.Generator().manual_seed(seed + 12345)
        self.z_eval = self.noise(N_EVAL, g_view)
        self.real_eval = self.real[torch.randperm(len(self.real), generator=g_view)[:N_EVAL]]
        self.phase = "iteration"
        self.iterations = self.d_steps = self.g_steps = 0
        self.distance_every = max(1, int(distance_every))
        self._calls = 0
        self._dist: dict[str, float] = {}
        self._last: dict[str, torch.Tensor] = {}

    def _optimizer(self, net: nn.Module, lr: float):
        c = self.config
        if c.optimizer == "adam":  # beta1 = 0.5 as in DCGAN; WGAN-GP's paper uses (0, 0.9), (0.5, 0.9) is gentler
            # foreach: one fused update for all of a small net's tensors (on the CPU the default is one at a time)
            return torch.optim.Adam(net.parameters(), lr=lr, betas=(0.5, 0.9 if c.loss == "wgan-gp" else 0.999),
                                    foreach=True)
        if c.optimizer == "rmsprop":
            return torch.optim.RMSprop(net.parameters(), lr=lr)
        return torch.optim.SGD(net.parameters(), lr=lr)

    def retune(self, config: GAN2DConfig) -> None:
        """Take new knobs, keeping both networks. A new optimiser type starts its own state; Adam keeps its
        moments but takes the new learning rates and the betas that go with the loss."""
        old, self.config = self.config, config
        if config.optimizer != old.optimizer:
            self.opt_g, self.opt_d = self._optimizer(self.G, config.lr_g), self._optimizer(self.D, config.lr_d)
        else:
            for opt, lr in ((self.opt_g, config.lr_g), (self.opt_d, config.lr_d)):
                for group in opt.param_groups:
                    group["lr"] = lr
                    if config.optimizer == "adam":
                        group["betas"] = (0.5, 0.9 if config.loss == "wgan-gp" else 0.999)
        self.batches.batch_size = min(config.batch_size, self.batches.n)
        self._dist = {}    # the next step measures the distances again

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I) or U(-1, 1)^noise_dim, drawn on the CPU from the given (default: the task's) generator."""
        g = generator or self.generator
        shape = (n, self.config.noise_dim)
        z = torch.randn(shape, generator=g) if self.config.noise == "gaussian" else torch.rand(shape, generator=g) * 2 - 1
        return z.to(self.device)

    # one discriminator update: minimise d_loss (+ lambda * gradient penalty for WGAN-GP)
    def d_step(self) -> None:
        c = self.config
        real = self.real[self.batches.next().to(self.device)]
        with torch.no_grad():
            fake = self.G(self.noise(len(real)))
        r, f = self.D(real).squeeze(1), self.D(fake).squeeze(1)
        loss = d_loss(c.loss, r, f)
        if c.loss == "wgan-gp":
            loss = loss + c.gp_weight * gradient_penalty(self.D, real, fake, self.generator)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        acc_real, acc_fake = d_accuracy(c.loss, r.detach(), f.detach())
        self._last.update(d_loss=loss.detach(), d_acc_real=acc_real, d_acc_fake=acc_fake)
        self.d_steps += 1

    # one generator update: minimise g_loss through the fixed discriminator
    def g_step(self) -> None:
        f = self.D(self.G(self.noise(self.config.batch_size))).squeeze(1)
        loss = g_loss(self.config.loss, f)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        # How much gradient reaches G: the norm of dL_G/dtheta_G over all of G's parameters.
        gnorm = torch.nn.utils.get_total_norm([p.grad for p in self.G.parameters() if p.grad is not None])
        self.opt_g.step()
        self._last.update(g_loss=loss.detach(), g_grad_norm=gnorm)
        self.g_steps += 1

    def step(self):
        if not self.model.training:   # view() switches to eval; switching back costs a walk over every module
            self.model.train()
        phase, self.phase = self.phase, "iteration"
        if phase in ("iteration", "d"):
            for _ in range(self.config.k_d if phase == "iteration" else 1):
                self.d_step()
        if phase in ("iteration", "g"):
            for _ in range(self.config.m_g if phase == "iteration" else 1):
                self.g_step()
        if phase == "iteration":
            self.iterations += 1
        self._calls += 1
        if not self._dist or self._calls % self.distance_every == 0:
            self._dist = self.distances()
        return {**self._last, **self._dist, "iteration": self.iterations}

    @torch.no_grad()
    def samples(self, n: int = N_EVAL, generator: torch.Generator | None = None) -> np.ndarray:
        z = self.z_eval[:n] if generator is None and n <= N_EVAL else self.noise(n, generator or torch.Generator().manual_seed(1))
        return self.G(z).cpu().numpy()

    def distances(self) -> dict[str, float]:
        fake = self.samples()
        real = self.real_eval.cpu()
        out = {"mmd": mmd(real[:N_MMD], torch.as_tensor(fake[:N_MMD])),
               "js": js_divergence(real.numpy(), fake, self.bounds)}
        ms = mode_stats(self.config.dataset, fake) if self.config.dataset in data.TOY2D else {}
        out.update({k: v for k, v in ms.items() if k != "n_modes"})
        return out

    def evaluate(self):
        return self.distances()

    def state_dict(self):
        return {"model": self.model.state_dict(), "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
                "batches": self.batches.state_dict(),
                "counts": (self.iterations, self.d_steps, self.g_steps, self._calls)}

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.opt_g.load_state_dict(s["opt_g"])
        self.opt_d.load_state_dict(s["opt_d"])
        self.batches.load_state_dict(s["batches"])
        self.iterations, self.d_steps, self.g_steps, self._calls = s["counts"]

    # -- what the live view needs ------------------------------------------------------------------------------
    def view(self, n_points: int = 400, grid: int = 50, manifold: int = 21) -> dict[str, np.ndarray]:
        """Arrays for one frame: real and fake points, D on a grid, G's gradient at each fake point, the image of
        a grid of noise points. D's grid values are probabilities of 'real' (critic scores for WGAN-GP)."""
        c = self.config
        self.model.eval()
        x0, x1, y0, y1 = self.bounds
        z = self.z_eval[:n_points]
        fake = self.G(z).detach().requires_grad_(True)
        score = self.D(fake).squeeze(1)
        # Arrows: the direction G's loss pushes each generated point, -dL_G/dx (per point, so times batch size).
        grad, = torch.autograd.grad(g_loss(c.loss, score) * len(score), fake)
        with torch.no_grad():
            gx, gy = torch.linspace(x0, x1, grid), torch.linspace(y0, y1, grid)
            pts = torch.stack(torch.meshgrid(gx, gy, indexing="xy"), -1).reshape(-1, 2).to(self.device)
            s = self.D(pts).squeeze(1)
            heat = (s if c.loss == "wgan-gp" else torch.sigmoid(s) if c.loss != "lsgan" else s.clamp(0, 1))
            # The generator's manifold: a regular grid of noise values (first two noise coordinates, the rest 0).
            lim = 2.0 if c.noise == "gaussian" else 1.0
            t = torch.linspace(-lim, lim, manifold)
            if c.noise_dim == 1:
                zm = t[:, None]
            else:
                a, b = torch.meshgrid(t, t, indexing="xy")
                zm = torch.zeros(manifold * manifold, c.noise_dim)
                zm[:, 0], zm[:, 1] = a.reshape(-1), b.reshape(-1)
            mani = self.G(zm.to(self.device)).cpu().numpy()
        self.model.train()
        return {"real": self.real_eval[:n_points].cpu().numpy(), "fake": fake.detach().cpu().numpy(),
                "arrows": -grad.cpu().numpy(), "grid_x": gx.numpy(), "grid_y": gy.numpy(),
                "heat": heat.reshape(grid, grid).cpu().numpy(), "manifold": mani,
                "manifold_shape": (manifold,) if c.noise_dim == 1 else (manifold, manifold)}


def summary(task: GAN2DTask, trainer) -> dict:
    """The numbers the CLI and the benchmark report after a run."""
    last = trainer.latest
    out = {"dataset": task.config.dataset, "loss": task.config.loss, "steps": trainer.steps,
           "iterations": task.iterations, "seconds": round(trainer.seconds, 3),
           "d_loss": last.get("d_loss", math.nan), "g_loss": last.get("g_loss", math.nan),
           "g_grad_norm": last.get("g_grad_norm", math.nan)}
    out.update(task.distances())
    return out
