"""A fake CUDA device for machines without a GPU: tensors that claim `cuda:0` and CUDA's rules enforced.

Nobody on the project has a GPU, so the GPU path is exercised here. Under `fake_cuda()`:

- `torch.cuda.is_available()` is True; a tensor created on or moved to 'cuda' is a `FakeCudaTensor`: its data
  lives in a CPU tensor (`.elem`), but it reports `device.type == 'cuda'`, and so does everything computed from it;
  `nn.Module.to('cuda')` swaps its parameters for such tensors, like a real move.
- CUDA's rules hold: an operation mixing a device tensor with a CPU tensor that is not a 0-d scalar raises (as on
  a GPU: "Expected all tensors to be on the same device"); `.numpy()` of a device tensor raises; a CPU generator
  used for device='cuda' (or a cuda generator for the CPU) raises.
- Host-device synchronisations are counted (`SYNCS.count`): reading a value (`.item()`, `float()`, `bool()`,
  `.tolist()`), copying to the CPU (`.cpu()`, `.to('cpu')`, which `.numpy()` after `.cpu()` needs), copying a
  CPU tensor to the device without `non_blocking=True` (a blocking host-to-device copy from pageable memory, which
  `torch.cuda.set_sync_debug_mode` reports too), indexing a device tensor with CPU indices (they are copied
  first), and `torch.cuda.synchronize()`.

Two torch modes do it: a TorchFunctionMode that sees Python-level calls (where device='cuda' arguments and
generators are visible, before PyTorch would try to initialise a real GPU) and a TorchDispatchMode that runs every
ATen operation on the CPU data and wraps the results. Both are thread-local, so the fixture enters them in every
thread started while it is active (the runner's threads, Streamlit's script thread).
"""

from __future__ import annotations

import contextlib
import threading
import traceback
import types
from collections import Counter

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves, tree_map

CUDA = torch.device("cuda", 0)
_aten = torch.ops.aten
_RealGenerator = torch.Generator


class FakeCudaTensor(torch.Tensor):
    """A CPU tensor (`.elem`) that says it lives on cuda:0."""

    @staticmethod
    def __new__(cls, elem: torch.Tensor):
        assert not isinstance(elem, FakeCudaTensor)
        r = torch.Tensor._make_wrapper_subclass(
            cls, elem.size(), strides=elem.stride(), storage_offset=elem.storage_offset(), dtype=elem.dtype,
            layout=elem.layout, device=elem.device, requires_grad=elem.requires_grad,
            # sizes and strides are asked of `elem` each time: then in-place shape changes PyTorch makes inside an
            # operation (GRU's output.transpose_) show on the wrapper too
            dispatch_sizes_strides_policy="sizes")
        r.elem = elem
        return r

    # PyTorch's C++ side sees a CPU tensor (so autograd never looks for a real CUDA stream); Python code sees cuda:0
    @property
    def device(self):
        return CUDA

    # .is_cuda stays False: PyTorch's own Python code takes cuDNN-only branches on it (RNN.flatten_parameters);
    # dlplay asks `.device.type`, which is what this fake answers

    def __reduce_ex__(self, proto):
        return (FakeCudaTensor, (self.elem,))

    def __repr__(self, *, tensor_contents=None):
        return f"FakeCudaTensor({self.elem!r}, device='cuda:0')"

    # traceable: nn.Module.to() then swaps parameters in place (their identity stays, as with a real move)
    def __tensor_flatten__(self):
        return ["elem"], None

    @staticmethod
    def __tensor_unflatten__(inner, meta, outer_size, outer_stride):
        return FakeCudaTensor(inner["elem"])

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        # only reached when no FakeCuda mode is active (a tensor outliving its test): run it anyway
        return _run(func, args, kwargs or {}, None)

    __torch_function__ = torch._C._disabled_torch_function_impl


class FakeCudaGenerator(_RealGenerator):
    """torch.Generator(device='cuda'): a CPU generator underneath, which says it is a cuda one."""

    def __new__(cls, device="cpu"):
        g = _RealGenerator.__new__(cls)
        return g

    def __init__(self, device="cpu"):
        super().__init__()
        self._fake_cuda = _is_cuda(device)

    @property
    def device(self):
        return CUDA if self._fake_cuda else torch.device("cpu")

    def manual_seed(self, seed):
        super().manual_seed(seed)
        return self


def _is_cuda(d) -> bool:
    if d is None:
        return False
    if isinstance(d, int):
        return True
    try:
        return torch.device(d).type == "cuda"
    except (RuntimeError, TypeError):
        return False


def _gen_is_cuda(g) -> bool:
    return bool(getattr(g, "_fake_cuda", False))


_INSIDE = threading.local()


class SyncCounter:
    """Host-device synchronisations seen, by kind; `where` keeps a short stack of the last few (for messages)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.count = 0
        self.kinds: Counter = Counter()
        self.where: Counter = Counter()
        self.trace = False

    def add(self, kind: str) -> None:
        with self.lock:
            self.count += 1
            self.kinds[kind] += 1
            if self.trace:
                frames = [f for f in traceback.extract_stack()
                          if "dlplay" in f.filename and "fakecuda" not in f.filename]
                if frames:
                    f = frames[-1]
                    self.where[f"{kind} at {f.filename.split('dlplay/', 1)[-1]}:{f.lineno}"] += 1

    def reset(self) -> None:
        with self.lock:
            self.count = 0
            self.kinds.clear()
            self.where.clear()


SYNCS = SyncCounter()


def _mixed(func, tensors) -> None:
    devs = {("cuda" if isinstance(t, FakeCudaTensor) else "cpu") for t in tensors}
    if len(devs) > 1:
        cpu = [t for t in tensors if not isinstance(t, FakeCudaTensor) and t.dim() > 0]
        if cpu:   # a 0-d CPU tensor is allowed beside CUDA tensors, as on a GPU
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu! "
                f"(fake CUDA, in {func})")


_INDEX_OPS = {_aten.index.Tensor, _aten.index_put_.default, _aten.index_put.default, _aten._index_put_impl_.default}
_COPY_OPS = {_aten.copy_.default, _aten._to_copy.default, _aten._copy_from.default, _aten._copy_from_and_resize.default}
_READ_OPS = {_aten._local_scalar_dense.default, _aten.equal.default, _aten.allclose.default,
             _aten.is_nonzero.default}


_META = {_aten.sym_size.default: lambda t: t.size(), _aten.sym_stride.default: lambda t: t.stride(),
         _aten.dim.default: lambda t: t.dim(), _aten.sym_numel.default: lambda t: t.numel(),
         _aten.sym_storage_offset.default: lambda t: t.storage_offset(),
         _aten.is_contiguous.default: lambda t: t.is_contiguous(),
         _aten.sym_size.int: None, _aten.sym_stride.int: None}


def _run(func, args, kwargs, mode):
    if func in _META and isinstance(args[0], FakeCudaTensor):
        f = _META[func]
        if f is None:
            return func(args[0].elem, *args[1:])
        return f(args[0].elem)
    if func is _aten.is_contiguous.memory_format and isinstance(args[0], FakeCudaTensor):
        return args[0].elem.is_contiguous(memory_format=args[1] if len(args) > 1 else kwargs["memory_format"])
    fake = False
    tensors = []

    def un(x):
        nonlocal fake
        if isinstance(x, FakeCudaTensor):
            fake = True
            tensors.append(x)
            return x.elem
        if isinstance(x, torch.Tensor):
            tensors.append(x)
        return x

    a, k = tree_map(un, args), tree_map(un, kwargs)
    # a tensor PyTorch makes for itself (no tensor inputs) inside a call on device tensors (sparse.mm's zeros)
    # takes the device of that call's tensors, as on a GPU (its C++ side sees CPU tensors here)
    to_cuda = not tensors and getattr(_INSIDE, "depth", 0) > 0
    if "device" in k:
        if _is_cuda(k["device"]):
            to_cuda = True
            k = dict(k, device=torch.device("cpu"))
    if func in _COPY_OPS:
        dst_cuda = isinstance(args[0], FakeCudaTensor) if func is _aten.copy_.default else None
        if func is _aten._to_copy.default:
            target_cuda = _is_cuda(kwargs.get("device")) if kwargs.get("device") is not None else fake
            if fake and not target_cuda:
                SYNCS.add("device to host copy")
            elif target_cuda and not fake and not kwargs.get("non_blocking"):
                SYNCS.add("host to device copy")
            out = func(*a, **k)
            return FakeCudaTensor(out) if target_cuda else out
        if func is _aten.copy_.default:
            src_cuda = isinstance(args[1], FakeCudaTensor)
            if dst_cuda != src_cuda and (args[1].dim() > 0 or not dst_cuda):
                SYNCS.add("device to host copy" if src_cuda else "host to device copy")
            func(*a, **k)
            return args[0]
    if fake and func in _INDEX_OPS:
        cpu_idx = [t for t in tensors if not isinstance(t, FakeCudaTensor) and t.dim() > 0]
        if cpu_idx:
            SYNCS.add("CPU indices copied to the device")
    elif fake:
        _mixed(func, tensors)
    if fake and func in _READ_OPS:
        SYNCS.add("value read (.item(), float(), bool())")
        return func(*a, **k)
    out = func(*a, **k)
    if not (fake or to_cuda):
        return out
    if func in (_aten._local_scalar_dense.default,):
        return out
    wrap_ok = fake or to_cuda
    if not wrap_ok:
        return out
    # in-place ops return their (already wrapped) first argument
    if isinstance(out, torch.Tensor) and len(args) and isinstance(args[0], FakeCudaTensor) and out is args[0].elem:
        return args[0]
    return tree_map(lambda x: FakeCudaTensor(x) if isinstance(x, torch.Tensor) and not isinstance(x, FakeCudaTensor)
                    else x, out)


class _Dispatch(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        return _run(func, args, kwargs or {}, self)


class _ToDevice(torch.autograd.Function):
    """A CPU tensor copied to the fake device, differentiably."""

    @staticmethod
    def forward(ctx, x):
        return FakeCudaTensor(x.detach().clone())

    @staticmethod
    def backward(ctx, g):
        return g.elem.clone() if isinstance(g, FakeCudaTensor) else g


class _ToHost(torch.autograd.Function):
    """A fake device tensor copied to the CPU, differentiably."""

    @staticmethod
    def forward(ctx, x):
        return x.elem.detach().clone()

    @staticmethod
    def backward(ctx, g):
        return FakeCudaTensor(g)


def _parse_to(args, kwargs):
    """(device or None, dtype or None, non_blocking, copy) of a Tensor.to() call."""
    device = kwargs.get("device")
    dtype = kwargs.get("dtype")
    nb = bool(kwargs.get("non_blocking", False))
    for i, a in enumerate(args):
        if isinstance(a, torch.dtype):
            dtype = a
        elif isinstance(a, bool):
            nb = nb or a
        elif isinstance(a, (str, torch.device, int)):
            device = a
        elif isinstance(a, torch.Tensor):
            device, dtype = a.device, a.dtype
    return device, dtype, nb, bool(kwargs.get("copy", False))


def _wrap(out):
    return tree_map(lambda x: FakeCudaTensor(x) if isinstance(x, torch.Tensor) and not isinstance(x, FakeCudaTensor)
                    else x, out)


_T = torch.Tensor


class _Function(TorchFunctionMode):
    """Python-level calls: device='cuda', .to()/.cuda()/.cpu(), .numpy()/.tolist(), and the generator rules."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        x = args[0] if args else None
        fx = isinstance(x, FakeCudaTensor)
        if func in (_T.to, _T.cuda, _T.cpu):
            if func is _T.cuda:
                device, dtype, nb, cp = CUDA, None, bool(kwargs.get("non_blocking")), False
            elif func is _T.cpu:
                device, dtype, nb, cp = torch.device("cpu"), None, False, False
            else:
                device, dtype, nb, cp = _parse_to(args[1:], kwargs)
            if device is None:
                return func(*args, **kwargs)          # a dtype change stays where it is
            y = x if dtype is None else x.to(dtype)
            if _is_cuda(device):
                if fx:
                    return y.clone() if cp and y is x else y
                if not nb:
                    SYNCS.add("host to device copy")
                return _ToDevice.apply(y)
            if fx:
                SYNCS.add("device to host copy")
                return _ToHost.apply(y)
            return func(*args, **kwargs)
        if func is _T.pin_memory:       # page-locked host memory needs a real driver: the tensor as it is
            return x
        if func is _T.is_pinned:
            return True
        if fx and func is _T.numpy:
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                            "to host memory first. (fake CUDA)")
        if fx and func is _T.tolist:
            SYNCS.add("value read (.tolist())")
            return x.elem.tolist()
        if fx and func is _T.__array__:
            raise TypeError("can't convert cuda:0 device type tensor to numpy (fake CUDA)")
        name = getattr(func, "__name__", str(func))
        gen = kwargs.get("generator")
        if gen is None:
            gen = next((a for a in args if isinstance(a, _RealGenerator)), None)
        dev = kwargs.get("device")
        if gen is not None:
            want_cuda = _is_cuda(dev) if dev is not None else \
                any(isinstance(a, FakeCudaTensor) for a in tree_leaves(args) if isinstance(a, torch.Tensor))
            if want_cuda != _gen_is_cuda(gen):
                raise RuntimeError(
                    f"Expected a '{'cuda' if want_cuda else 'cpu'}' device type for generator but found "
                    f"'{'cuda' if _gen_is_cuda(gen) else 'cpu'}' (fake CUDA, in {name})")
        if dev is not None and _is_cuda(dev):
            kw = dict(kwargs, device="cpu")
            if func in (torch.tensor, torch.as_tensor, _T.new_tensor):
                src = args[0] if func is not _T.new_tensor else args[1]
                if isinstance(src, FakeCudaTensor):
                    return src.to(kwargs.get("dtype") or src.dtype)
                SYNCS.add("host to device copy")
            return _wrap(func(*args, **kw))
        if any(isinstance(a, FakeCudaTensor) for a in tree_leaves((args, kwargs))):
            _INSIDE.depth = getattr(_INSIDE, "depth", 0) + 1
            try:
                return func(*args, **kwargs)
            finally:
                _INSIDE.depth -= 1
        return func(*args, **kwargs)


class _State:
    active = 0


def _enter_modes(stack: contextlib.ExitStack) -> None:
    stack.enter_context(_Function())
    stack.enter_context(_Dispatch())


@contextlib.contextmanager
def fake_cuda(monkeypatch=None):
    """Pretend this machine has one CUDA GPU (see the module docstring); yields the SyncCounter."""
    mp = monkeypatch or __import__("_pytest.monkeypatch", fromlist=["MonkeyPatch"]).MonkeyPatch()
    cuda = torch.cuda
    mp.setattr(cuda, "is_available", lambda: True)
    mp.setattr(cuda, "device_count", lambda: 1)
    mp.setattr(cuda, "current_device", lambda: 0)
    mp.setattr(cuda, "get_device_name", lambda *a, **k: "Fake CUDA (tests/fakecuda.py)")
    mp.setattr(cuda, "synchronize", lambda *a, **k: SYNCS.add("torch.cuda.synchronize()"))
    mp.setattr(cuda, "_lazy_init", lambda: None)
    for f in ("manual_seed", "manual_seed_all", "seed", "seed_all", "empty_cache", "reset_peak_memory_stats",
              "set_sync_debug_mode", "set_device"):
        mp.setattr(cuda, f, lambda *a, **k: None)
    for f in ("max_memory_allocated", "memory_allocated", "max_memory_reserved", "memory_reserved"):
        mp.setattr(cuda, f, lambda *a, **k: 0)
    props = types.SimpleNamespace(name="Fake CUDA", major=8, minor=0, total_memory=16 * 2**30,
                                  multi_processor_count=80, is_integrated=False, gcnArchName="")
    mp.setattr(cuda, "get_device_properties", lambda *a, **k: props)
    mp.setattr(cuda, "get_device_capability", lambda *a, **k: (8, 0))
    mp.setattr(cuda, "is_bf16_supported", lambda *a, **k: True)
    mp.setattr(cuda, "get_rng_state", lambda *a, **k: torch.zeros(16, dtype=torch.uint8))
    mp.setattr(cuda, "get_rng_state_all", lambda *a, **k: [torch.zeros(16, dtype=torch.uint8)])
    mp.setattr(cuda, "set_rng_state", lambda *a, **k: None)
    mp.setattr(cuda, "set_rng_state_all", lambda *a, **k: None)
    mp.setattr(torch, "Generator", FakeCudaGenerator)
    # nn.Module.to()/.cpu() swap each parameter for its moved copy (torch's future default), so a module moved off
    # the fake device becomes plain CPU tensors (`param.data = ...` would leave a FakeCudaTensor shell around them)
    # (only there: load_state_dict asks the same flag, and swapping fails on GRU weights, which hold weakrefs)
    import sys as _sys
    real_swap = torch.__future__.get_swap_module_params_on_conversion
    mp.setattr(torch.__future__, "get_swap_module_params_on_conversion",
               lambda: _sys._getframe(1).f_code.co_name == "_apply" or real_swap())
    # the optimisers ask the real accelerator whether a CUDA graph is being captured: never, here
    mp.setattr(torch.optim.Optimizer, "_accelerator_graph_capture_health_check", lambda self: None)

    # torch groups tensors by their C++ device (CPU, here) before a foreach update or clip_grad_norm_: give the
    # groups of device tensors their claimed device back, or torch would copy its scalars to the CPU for them
    import torch.nn.utils.clip_grad as clip_mod
    import torch.optim.optimizer as opt_mod
    import torch.utils._foreach_utils as fe
    orig_group = fe._group_tensors_by_device_and_dtype

    def group(*a, **k):
        out = orig_group(*a, **k)
        fixed = {}
        for (dev, dt), v in out.items():
            first = next((t for lst in v[0] for t in lst if t is not None), None)
            fixed[(CUDA if isinstance(first, FakeCudaTensor) else dev, dt)] = v
        return fixed

    for m in (fe, clip_mod, opt_mod):
        mp.setattr(m, "_group_tensors_by_device_and_dtype", group)

    # every thread started while the fake is on runs under it too (modes are thread-local)
    real_run = threading.Thread.run

    def run(self):
        with contextlib.ExitStack() as s:
            _enter_modes(s)
            real_run(self)

    mp.setattr(threading.Thread, "run", run)
    SYNCS.reset()
    try:
        with contextlib.ExitStack() as s:
            _enter_modes(s)
            yield SYNCS
    finally:
        if monkeypatch is None:
            mp.undo()


@contextlib.contextmanager
def counting(trace: bool = False):
    """Count the synchronisations inside the block: `with counting() as c: ...; c.count`."""
    class C:
        count = 0
        kinds: Counter = Counter()
        where: Counter = Counter()
    c = C()
    old_trace = SYNCS.trace
    SYNCS.trace = trace
    base, kinds0, where0 = SYNCS.count, Counter(SYNCS.kinds), Counter(SYNCS.where)
    try:
        yield c
    finally:
        SYNCS.trace = old_trace
        c.count = SYNCS.count - base
        c.kinds = SYNCS.kinds - kinds0
        c.where = SYNCS.where - where0


def on_fake_cuda(x) -> bool:
    return isinstance(x, FakeCudaTensor)
