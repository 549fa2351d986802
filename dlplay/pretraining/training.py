"""The tasks the engine trains: CD-k on binarised digits (RBMTask), and the comparisons written as plans of phases
run one step at a time (PlanTask): greedy layer-wise pre-training against random initialisation and a linear probe
(StackTask; Bengio et al. 2007), the deep belief net unrolled into an autoencoder (DBNTask; Hinton, Osindero & Teh
2006)."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..data import ImageData
from ..device import device_generator, get_device, seed_everything
from ..errors import InputError
from ..train import Batches, ModelTask, Task
from .configs import DBNConfig, RBMConfig, StackConfig, _data
from .models import DBN_METHODS, STACK_METHODS, Compared, _act, build_model
from .rbm import RBM, bernoulli, binarise, cd_k, free_energy_test, reconstruction_error


# -- the RBM task --------------------------------------------------------------------------------------------------
class RBMTask(ModelTask):
    """CD-k on binarised digits. The update is computed by `cd_k` (the equations above) and handed to SGD with
    momentum as a gradient: .grad = -(positive phase - negative phase), since optimisers minimise."""

    def __init__(self, config: RBMConfig, seed: int = 0, device=None):
        self.cfg = config
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        d = self.data.n_pixels
        self.model_config = {"kind": "rbm", "n_visible": d, "n_hidden": config.hidden,
                             "image_shape": list(self.data.image_shape)}
        self.model = build_model(**self.model_config).to(self.device)
        self.v = binarise(self.data.x_train).to(self.device)
        self.v_test = binarise(self.data.x_test).to(self.device)
        with torch.no_grad():   # W ~ N(0, 0.01^2); b = log(p / (1 - p)) of each pixel's 'on' rate (Hinton 2010)
            self.model.W.copy_(0.01 * torch.randn(self.model.W.shape, generator=self.generator))
            p = self.v.mean(0).clamp(0.01, 0.99)
            self.model.b.copy_(torch.log(p / (1 - p)))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=config.momentum)
        self.batches = Batches(len(self.v), config.batch_size, self.generator, device=self.device)
        self.device_generator = device_generator(self.device, self.generator)

    def step(self):
        v0 = self.v[self.batches.next()]
        update, vk = cd_k(self.model, v0, self.cfg.k, self.device_generator)
        for name, p in self.model.named_parameters():
            p.grad = -update[name]
        self.opt.step()
        with torch.no_grad():
            rec = F.mse_loss(self.model.p_v(self.model.p_h(v0)), v0)
        return {"recon_error": rec}

    def evaluate(self):
        return {"recon_error": reconstruction_error(self.model, self.v_test), **free_energy_test(self.model, self.data)}


# -- comparison tasks: a plan of phases, run one step at a time ----------------------------------------------------
class PlanTask(Task):
    """A task whose work is a plan (pre-train layer 1, layer 2, ..., fine-tune; then the same for the next seed)
    written as a generator that yields after every optimisation step: each step() advances it by one.

    The plan repeats with seed, seed + 1, seed + 2, ...; `config.seeds` repeats (`total_steps` step() calls) make one
    full comparison, and `finished` says they are done (the engine and the runner end the run there). Only
    completed repeats enter the results; a resumed plan starts the next seed."""

    phase = ""
    steps_per_seed = 1
    done_steps = 0

    def _plan(self):
        raise NotImplementedError
        yield {}

    @property
    def total_steps(self) -> int:
        return self.cfg.seeds * self.steps_per_seed

    @property
    def finished(self) -> bool:
        return len(self.results) >= self.cfg.seeds

    @property
    def progress(self) -> float:
        """How much of the planned repeats is done (0..1; above 1 means extra seeds)."""
        return self.done_steps / max(1, self.total_steps)

    def step(self):
        if not hasattr(self, "_it"):
            self._it = self._plan()
        return next(self._it)

    # The runner trains in a worker process and sends the page these (the plan's generator stays there): the live
    # view needs the phase and finished results; the end of a run also brings the models as they are.
    rollback = False

    def live_state(self):
        return {"phase": self.phase, "done_steps": self.done_steps, "results": list(self.results),
                "layer_losses": list(getattr(self, "layer_losses", []))}

    def load_live_state(self, s):
        self.phase, self.done_steps, self.results = s["phase"], s["done_steps"], list(s["results"])
        self.layer_losses = list(s["layer_losses"])

    def state_dict(self):
        return {**self.live_state(), "model": self.model}

    def load_state_dict(self, s):
        self.load_live_state(s)
        self.model = s["model"]


def labelled_subset(data: ImageData, per_class: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of `per_class` training images of each class, drawn at random (the only labels fine-tuning sees)."""
    out = []
    for c in range(len(data.class_names)):
        idx = torch.nonzero(data.y_train == c).flatten()
        if per_class > len(idx):
            raise InputError(f"labels per class = {per_class} is more than the {len(idx)} training images of class "
                             f"{data.class_names[c]}.")
        out.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    return torch.cat(out)


def summarise(results: list[dict[str, float]], methods) -> dict[str, float]:
    """Per method over the completed seeds: the mean and (as `<method>_std`) the sample standard deviation."""
    out = {}
    for m in methods:
        vals = np.array([r[m] for r in results])
        if len(vals):
            out[m] = float(vals.mean())
            out[f"{m}_std"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0
    out["seeds_done"] = float(len(results))
    return out


def pretrain_layer(lin: nn.Linear, h: torch.Tensor, activation: str, steps: int, lr: float, batches: Batches,
                   bottom: bool):
    """Greedy step: train one shallow autoencoder h -> act(lin(h)) -> h' on the codes of the layer below (frozen);
    its decoder is thrown away afterwards. Yields the reconstruction loss after every step. The bottom layer
    rebuilds pixels in [0, 1] (sigmoid output); higher ones rebuild codes (sigmoid codes: sigmoid, ReLU: linear)."""
    dec = nn.Linear(lin.out_features, lin.in_features).to(h.device)
    opt = torch.optim.Adam([*lin.parameters(), *dec.parameters()], lr=lr)
    squash = bottom or activation == "sigmoid"
    for _ in range(steps):
        x = h[batches.next().to(h.device)]
        r = dec(_act(activation)(lin(x)))
        loss = F.mse_loss(torch.sigmoid(r) if squash else r, x)   # 1/D ||h - g(f(h))||^2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        yield loss


class StackTask(PlanTask):
    """Greedy layer-wise pre-training, then fine-tuning with few labels, against random initialisation and a
    linear probe: same architecture, same labels, same fine-tuning steps and learning rate; repeated over seeds
    (seed, seed + 1, ...), each with its own labelled subset and initialisation."""

    def __init__(self, config: StackConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "stack", "n_in": self.data.n_pixels, "sizes": list(config.sizes),
                             "activation": config.activation, "n_classes": len(self.data.class_names)}
        self.model = build_model(**self.model_config).to(self.device)
        self.x = self.data.x_train.flatten(1).to(self.device)
        self.x_test, self.y_test = self.data.x_test.flatten(1).to(self.device), self.data.y_test.to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = len(config.sizes) * config.pretrain_steps + config.finetune_steps
        self.layer_losses: list[float] = []    # the last reconstruction loss of each shallow autoencoder

    def _plan(self):
        cfg = self.cfg
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            torch.manual_seed(s)
            fresh = build_model(**self.model_config).to(self.device)  # one initialisation, copied to all three
            self.model = Compared({m: copy.deepcopy(fresh["pretrained"]) for m in STACK_METHODS})
            self.labelled = labelled_subset(self.data, cfg.labels_per_class, g)
            net = self.model["pretrained"]
            h = self.x
            self.layer_losses = []
            for i, lin in enumerate(net.layers):           # greedy: one shallow autoencoder per layer
                self.phase = f"seed {s}: pre-training layer {i + 1} of {len(net.layers)}"
                batches = Batches(len(h), 64, g, device=self.device)
                for loss in pretrain_layer(lin, h, cfg.activation, cfg.pretrain_steps, cfg.lr, batches, i == 0):
                    self.done_steps += 1
                    yield {"pretrain_loss": loss}
                if cfg.pretrain_steps:
                    self.layer_losses.append(float(loss.detach()))
                with torch.no_grad():                      # freeze it: its codes are the next layer's data
                    h = _act(cfg.activation)(lin(h))
            self.model["linear_probe"].load_state_dict(net.state_dict())
            xl, yl = self.x[self.labelled.to(self.device)], self.data.y_train[self.labelled].to(self.device)
            opts = {"pretrained": torch.optim.Adam(net.parameters(), lr=cfg.lr / 3),
                    "random_init": torch.optim.Adam(self.model["random_init"].parameters(), lr=cfg.lr / 3),
                    "linear_probe": torch.optim.Adam(self.model["linear_probe"].head.parameters(), lr=cfg.lr / 3)}
            self.phase = f"seed {s}: fine-tuning with {len(yl)} labels"
            for i in range(cfg.finetune_steps):            # the three take their steps side by side
                out = {}
                for m, opt in opts.items():
                    net_m = self.model[m]
                    if m == "linear_probe":                # frozen features: no gradient reaches the body
                        with torch.no_grad():
                            feats = net_m.body(xl)
                        logits = net_m.head(feats)
                    else:
                        logits = net_m(xl)
                    loss = F.cross_entropy(logits, yl)     # all labelled images in one batch
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    out[f"{m}_loss"] = loss
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    self.results.append(self.accuracies())
                yield out

    @torch.no_grad()
    def accuracies(self) -> dict[str, float]:
        """Test accuracy of each of the three networks as they are now (the 360 test digits)."""
        self.model.eval()
        acc = {m: (self.model[m](self.x_test).argmax(1) == self.y_test).float().mean().item() for m in STACK_METHODS}
        self.model.train()
        return acc

    def evaluate(self):
        return {**summarise(self.results, STACK_METHODS), "labels_per_class": float(self.cfg.labels_per_class)}


class DBNTask(PlanTask):
    """A stack of RBMs trained greedily (each on the hidden probabilities of the one below), unrolled into an
    autoencoder (encoder W, decoder W') and fine-tuned on the reconstruction error; beside it the same autoencoder
    from random initialisation, which takes one Adam step for every RBM step and every fine-tuning step, so both
    have had the same total number of updates when they are compared. Repeated over seeds."""

    def __init__(self, config: DBNConfig, seed: int = 0, device=None):
        self.cfg, self.seed = config, int(seed)
        self.data = _data(config.dataset)
        self.device = get_device(device)
        self.generator = seed_everything(seed)
        self.model_config = {"kind": "dbn", "n_in": self.data.n_pixels, "sizes": list(config.sizes),
                             "image_shape": list(self.data.image_shape)}
        self.model = build_model(**self.model_config).to(self.device)
        self.x = self.data.x_train.flatten(1).to(self.device)
        self.x_test = self.data.x_test.to(self.device)
        self.results: list[dict[str, float]] = []
        self.steps_per_seed = len(config.sizes) * config.rbm_steps + config.finetune_steps

    def _plan(self):
        cfg = self.cfg
        for r in itertools.count(len(self.results)):   # a resumed plan goes on with the next seed
            s = self.seed + r
            g = torch.Generator().manual_seed(s)
            gd = device_generator(self.device, g)             # the Gibbs samples' noise, made on the device
            torch.manual_seed(s)
            self.model = build_model(**self.model_config).to(self.device)
            dbn, rnd = self.model["dbn"], self.model["random_init"]
            opt_rnd = torch.optim.Adam(rnd.parameters(), lr=cfg.lr)
            rnd_batches = Batches(len(self.x), 64, g, device=self.device)

            def random_step():
                x = self.x[rnd_batches.next().to(self.device)]
                loss = F.mse_loss(rnd(x).flatten(1), x)
                opt_rnd.zero_grad(set_to_none=True)
                loss.backward()
                opt_rnd.step()
                return loss

            h = self.x                                        # the bottom RBM sees pixel intensities as probabilities
            dims = [self.data.n_pixels, *cfg.sizes]
            for i in range(len(cfg.sizes)):
                self.phase = f"seed {s}: RBM {i + 1} of {len(cfg.sizes)} ({dims[i]}-{dims[i + 1]}), CD-{cfg.k}"
                rbm = RBM(dims[i], dims[i + 1], self.data.image_shape).to(self.device)
                with torch.no_grad():
                    rbm.W.copy_(0.01 * torch.randn(rbm.W.shape, generator=g))
                opt = torch.optim.SGD(rbm.parameters(), lr=cfg.rbm_lr, momentum=0.5)
                batches = Batches(len(h), 32, g, device=self.device)
                for _ in range(cfg.rbm_steps):
                    v0 = bernoulli(h[batches.next()], gd)   # sample binary states from the probabilities
                    update, _ = cd_k(rbm, v0, cfg.k, gd)
                    for name, p in rbm.named_parameters():
                        p.grad = -update[name]
                    opt.step()
                    with torch.no_grad():
                        rec = F.mse_loss(rbm.p_v(rbm.p_h(v0)), v0)
                    self.done_steps += 1
                    yield {"rbm_recon_error": rec, "random_init_loss": random_step()}
                with torch.no_grad():                         # unroll: encoder layer i uses W, decoder uses W'
                    dbn.enc[i].weight.copy_(rbm.W.T)
                    dbn.enc[i].bias.copy_(rbm.c)
                    dbn.dec[len(cfg.sizes) - 1 - i].weight.copy_(rbm.W)
                    dbn.dec[len(cfg.sizes) - 1 - i].bias.copy_(rbm.b)
                    h = rbm.p_h(h)                             # its hidden probabilities are the next RBM's data
            self.phase = f"seed {s}: fine-tuning both autoencoders end to end"
            opt_dbn = torch.optim.Adam(dbn.parameters(), lr=cfg.lr)
            batches = Batches(len(self.x), 64, g, device=self.device)
            for i in range(cfg.finetune_steps):
                x = self.x[batches.next().to(self.device)]
                loss = F.mse_loss(dbn(x).flatten(1), x)
                opt_dbn.zero_grad(set_to_none=True)
                loss.backward()
                opt_dbn.step()
                out = {"dbn_loss": loss, "random_init_loss": random_step()}
                self.done_steps += 1
                if i == cfg.finetune_steps - 1:
                    self.results.append(self.test_mse())
                yield out

    @torch.no_grad()
    def test_mse(self) -> dict[str, float]:
        return {m: F.mse_loss(self.model[m](self.x_test), self.x_test).item() for m in DBN_METHODS}

    def evaluate(self):
        return summarise(self.results, DBN_METHODS)
