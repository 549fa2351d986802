"""The one training engine every demo uses (pages, CLI, tests and benchmarks alike).

A demo describes *what* one optimisation step is by writing a `Task`; the `Trainer` decides *how long* to run
it (a step budget and/or a wall-clock budget), records metrics, can be stopped and resumed, and keeps the last
good weights when the loss blows up.

    task = MyTask(...)                       # owns model, optimiser, data and its own random generator
    trainer = Trainer(task)
    trainer.run(seconds=10, callback=print)  # metrics after every step
    trainer.run(steps=100)                   # resumes where it stopped
"""

from __future__ import annotations

import copy
import math
import threading
import time
from typing import Any, Callable

import torch

from . import limits
from .debug import TRAINERS
from .errors import InputError, TrainingDiverged

Metrics = dict[str, float]


class Task:
    """One optimisation problem. Subclasses implement `step()`; the rest is optional.

    `step()` performs one update and returns its metrics (floats or 0-d tensors; the engine converts them only
    when it records, so a step does not wait on the device). Draw batches from `self.generator`, never from the
    global generator: then stopping and resuming gives exactly the same model as not stopping.
    """

    max_threads: int | None = None   # the most CPU threads this task benefits from (None: as many as it gets)
    rollback = True                  # snapshot state_dict() now and then to undo a divergence
    finished = False                 # True once there is nothing left to do (a layout converged): runs end there

    def step(self) -> dict[str, Any]:
        raise NotImplementedError

    def evaluate(self) -> Metrics:
        """Held-out metrics (e.g. test loss); called by the engine at the end of each run()."""
        return {}

    def state_dict(self) -> dict | None:
        """Everything needed to roll back after a divergence (model and optimiser state); None disables it."""
        return None

    def load_state_dict(self, state: dict) -> None:
        pass

    def live_state(self):
        """A snapshot for the page's live view while the run trains elsewhere (default: the whole state)."""
        return self.state_dict()

    def load_live_state(self, state) -> None:
        if state is not None:
            self.load_state_dict(state)


class ModelTask(Task):
    """A Task whose whole state is `self.model`, its optimiser `self.opt` and its batch order `self.batches` (most
    demos): saving and restoring those three is what makes a stop/resume or a NaN rollback exact."""

    device_generator: torch.Generator | None = None   # noise drawn on a GPU comes from this one (device.py)

    def state_dict(self):
        # torch's global generator too: dropout draws from it (nn.Dropout takes no generator), so a run resumed in
        # another process (the runner's workers) continues the same masks. Each worker runs one task at a time.
        s = {"model": self.model.state_dict(), "opt": self.opt.state_dict(), "batches": self.batches.state_dict(),
             "global_rng": torch.random.get_rng_state()}
        if self.device_generator is not None and self.device_generator is not self.batches.generator:
            s["device_rng"] = self.device_generator.get_state()   # a GPU generator's state is host-side: no wait
        return s

    def load_state_dict(self, s):
        self.model.load_state_dict(s["model"])
        self.opt.load_state_dict(s["opt"])
        self.batches.load_state_dict(s["batches"])
        if "global_rng" in s:
            torch.random.set_rng_state(s["global_rng"])
        if "device_rng" in s and self.device_generator is not None:
            self.device_generator.set_state(s["device_rng"])

    def live_state(self):
        return {"model": self.model.state_dict()}     # the live view needs only the weights

    def load_live_state(self, s) -> None:
        self.model.load_state_dict(s["model"])


class FunctionTask(Task):
    """Wrap a plain `step()` function as a task (for tiny demos and tests)."""

    def __init__(self, step: Callable[[], dict], evaluate: Callable[[], Metrics] | None = None):
        self._step, self._evaluate = step, evaluate

    def step(self):
        return self._step()

    def evaluate(self):
        return self._evaluate() if self._evaluate else {}


def _to_float(v) -> float:
    return float(v.detach().item()) if isinstance(v, torch.Tensor) else float(v)


def _out_of_memory(e: BaseException) -> InputError:
    """CUDA out of memory as a sentence (the cached blocks are given back first, so the next try can fit)."""
    try:
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    except Exception:  # noqa: BLE001 - freeing the cache is a courtesy
        pass
    return InputError("The GPU ran out of memory for this run (other sessions share it). Try a smaller size: fewer "
                      "pixels, a smaller batch or a smaller model, and train again.")


class Trainer:
    """Runs a Task under a step and/or time budget; history survives stops, so run() again resumes."""

    def __init__(self, task: Task, *, record_every: int = 1, snapshot_seconds: float = 1.0):
        self.task = task
        self.record_every = max(1, int(record_every))
        self.snapshot_seconds = snapshot_seconds
        TRAINERS.add(self)      # counted by the load test's leak counters (dlplay/debug.py), nothing else
        self.steps = 0          # optimisation steps taken so far, over all runs
        self.seconds = 0.0      # time spent inside step(), over all runs
        self.history: list[Metrics] = []   # one dict per recorded step, with 'step' and 'time'
        self.marks: list[dict] = []        # knob changes made mid-run: {"step": ..., "label": ...}
        self.notice = ""                   # the last knob change the run refused, as a sentence
        self.last_eval: Metrics = {}
        self.stopped_reason = ""
        self._stop = threading.Event()
        self._snapshot = None       # the last state known to give a finite loss (what a divergence restores)
        self._candidate = None      # a state copied before a step whose loss has not been checked yet
        self._bad = None            # device-side "some unrecorded step was not finite" flag
        self._snapshot_time = -math.inf

    # -- control -------------------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask a running run() to return after the current step (safe to call from another thread)."""
        self._stop.set()

    @property
    def latest(self) -> Metrics:
        return self.history[-1] if self.history else {}

    def series(self, key: str) -> tuple[list[int], list[float]]:
        """(steps, values) of one recorded metric, for plotting."""
        pts = [(h["step"], h[key]) for h in self.history if key in h]
        return [p[0] for p in pts], [p[1] for p in pts]

    # -- the loop --------------------------------------------------------------------------------------------
    def run(self, *, steps: int | None = None, seconds: float | None = None,
            callback: Callable[["Trainer", Metrics], bool | None] | None = None,
            evaluate: bool = True) -> "Trainer":
        """Take steps until `steps` more were taken or `seconds` passed (whichever first) or stop() was called.

        `callback(trainer, metrics)` runs after every recorded step; returning False stops the run.
        Raises TrainingDiverged (after restoring the last good weights) if a metric becomes NaN or infinite.
        No run lasts longer than limits.MAX_RUN_SECONDS ($DLPLAY_MAX_RUN_SECONDS), whatever the budget says.
        """
        if steps is None and seconds is None:
            raise ValueError("give a step budget, a time budget, or both")
        capped = seconds is None or seconds > limits.MAX_RUN_SECONDS
        seconds = min(seconds if seconds is not None else math.inf, limits.MAX_RUN_SECONDS)
        self._stop.clear()
        self.stopped_reason = ""
        start = time.perf_counter()
        taken = 0
        while True:
            if steps is not None and taken >= steps:
                self.stopped_reason = "step budget reached"
                break
            if time.perf_counter() - start >= seconds:
                self.stopped_reason = (f"stopped at the {limits.MAX_RUN_SECONDS:g} s limit of one run "
                                       "(weights kept)" if capped else "time budget reached")
                break
            if self._stop.is_set():
                self.stopped_reason = "stopped"
                break
            if self.task.finished:
                self.stopped_reason = "finished"
                break
            self._maybe_snapshot()
            try:
                out = self.task.step()
            except torch.OutOfMemoryError as e:
                raise _out_of_memory(e) from None
            taken += 1
            self.steps += 1
            record = self.steps % self.record_every == 0 or (steps is not None and taken == steps)
            m = self._watch(out, record)
            if record:
                m["step"] = self.steps
                m["time"] = self.seconds + time.perf_counter() - start
                self.history.append(m)
                if callback is not None and callback(self, m) is False:
                    self.stopped_reason = "stopped"
                    break
        self.seconds += time.perf_counter() - start
        if evaluate:
            try:
                self.last_eval = {k: _to_float(v) for k, v in self.task.evaluate().items()}
            except torch.OutOfMemoryError as e:
                raise _out_of_memory(e) from None
        return self

    # -- divergence: detected on the step it happens, rolled back to weights whose loss was finite ----------------
    # Before a step, now and then, the task's state is copied as a *candidate*. Once that step's loss is known to be
    # finite, the candidate becomes the *good* state: weights that produced a finite loss. A non-finite metric at
    # any step puts the good state back. On the CPU every step's metrics are checked at once (cheap); on a GPU a
    # device-side flag collects them and is read at recorded steps only, so unrecorded steps never wait.
    def _maybe_snapshot(self) -> None:
        now = time.perf_counter()
        if not self.task.rollback or self._candidate is not None or now - self._snapshot_time < self.snapshot_seconds:
            return
        state = self.task.state_dict()
        if state is not None:
            self._candidate = copy.deepcopy(state)
            self._snapshot_time = now

    def _watch(self, out: dict, record: bool) -> Metrics | None:
        """Check one step's metrics (or note them on the device); returns them as floats when read."""
        tensors = [v for v in out.values() if isinstance(v, torch.Tensor) and v.device.type != "cpu"]
        if tensors and not record:   # on the device: remember, read later
            bad = torch.stack([(~torch.isfinite(v.detach().float())).any() for v in tensors]).any()
            self._bad = bad if self._bad is None else self._bad | bad
            return None
        if tensors:     # one transfer for all of this step's device metrics and the unrecorded steps' flag
            keys = [k for k, v in out.items() if isinstance(v, torch.Tensor) and v.device.type != "cpu"]
            dt = torch.float32 if tensors[0].device.type == "mps" else torch.float64   # MPS has no float64
            vals = [out[k].detach().reshape(()).to(dt) for k in keys]
            if self._bad is not None:
                vals.append(self._bad.to(dt))
            host = torch.stack(vals).cpu().tolist()
            m = {k: (host[keys.index(k)] if k in keys else _to_float(v)) for k, v in out.items()}
            unrecorded_bad = bool(host[-1]) if self._bad is not None else False
        else:
            m = {k: _to_float(v) for k, v in out.items()}
            unrecorded_bad = self._bad is not None and bool(self._bad)
        bad = [k for k, v in m.items() if not math.isfinite(v)]
        if self._bad is not None:
            if unrecorded_bad and not bad:
                bad = ["a metric"]
            self._bad = None
        if bad:
            self._diverged(bad, m)
        if self._candidate is not None:
            self._snapshot, self._candidate = self._candidate, None
        return m

    def _diverged(self, bad: list[str], m: Metrics) -> None:
        if self._snapshot is not None:
            self.task.load_state_dict(copy.deepcopy(self._snapshot))
        self._candidate = None
        self.stopped_reason = "diverged"
        value = m.get(bad[0], float("nan"))
        raise TrainingDiverged(
            f"Training stopped at step {self.steps}: {', '.join(bad)} became {value} (not a finite number). "
            "This usually means the learning rate is too high; lower it and train again. "
            + ("The last good weights were kept." if self._snapshot is not None else ""))


class Batches:
    """Endless shuffled minibatch indices drawn from the task's own generator (epoch by epoch, no repeats within one).

    With `device` (a GPU) each epoch's order is drawn on the CPU, from the same generator (so a run gives the same
    batches on any device), and copied to the device once per epoch: the batches of a step are then slices of a
    device tensor and indexing the device dataset with them never waits for the GPU."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, device=None):
        self.n, self.batch_size, self.generator = n, min(batch_size, n), generator
        self.device = None if device is None or torch.device(device).type == "cpu" else torch.device(device)
        self._perm = torch.empty(0, dtype=torch.long)     # on the CPU: what state_dict() saves
        self._perm_dev = self._perm                       # the same order on the device
        self._pos = 0
        self.epoch = 0

    def _moved(self) -> None:
        self._perm_dev = self._perm if self.device is None else self._perm.to(self.device)

    def next(self) -> torch.Tensor:
        if self._pos + self.batch_size > len(self._perm):
            self._perm = torch.randperm(self.n, generator=self.generator)
            self._moved()
            self._pos = 0
            self.epoch += 1
        idx = self._perm_dev[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return idx

    def state_dict(self) -> dict:
        return {"perm": self._perm.clone(), "pos": self._pos, "epoch": self.epoch,
                "rng": self.generator.get_state()}

    def load_state_dict(self, s: dict) -> None:
        self._perm, self._pos, self.epoch = s["perm"].clone(), s["pos"], s["epoch"]
        self._moved()
        self.generator.set_state(s["rng"])
