"""No code moves a trainer's (or a task's) model in place with .cpu() / .to() / .cuda() outside the place a task
builds it. On a GPU that moves the weights away from the optimiser and the data, and the next step fails with a
device mismatch (the VAE page's `model.cpu().eval()` did that on Resume). Views and saves work on copies:
`copy.deepcopy(model).cpu()`, `device.cpu_copy(model)`, or no-grad helpers that return CPU tensors."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MOVES = {"cpu", "to", "cuda", "mps"}
MODEL_ATTRS = {"model", "G", "D", "net", "rbm", "judge"}
BUILD_FUNCS = ("__init__", "build", "_build", "make_", "load", "_load", "output_layer_only", "_plan")
PAGE_NAMES = ("model", "net", "rbm", "vae", "gan", "judge")


def _receiver_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def offences(path: Path, page: bool) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = []

    def visit(node, func: str):
        for child in ast.iter_child_nodes(node):
            f = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in MOVES:
                recv = child.func.value
                name = _receiver_name(recv)
                # x.to(device) where x is <something>.model (a task's model), or in a page any model-like name
                is_task_model = isinstance(recv, ast.Attribute) and name in MODEL_ATTRS
                is_page_model = page and name is not None and any(n in name.lower() for n in PAGE_NAMES)
                # .to(dtype) / .to(device) on tensors named like `model_input` are not model moves: only flag
                # receivers that are models by name; a build function may move its fresh model
                if (is_task_model or is_page_model) and not f.startswith(BUILD_FUNCS):
                    out.append(f"{path.relative_to(ROOT)}:{child.lineno}: {ast.unparse(child)[:80]}")
            visit(child, f)

    visit(tree, "")
    return out


def test_no_code_moves_a_trainers_model_in_place():
    found = []
    for p in sorted((ROOT / "dlplay").rglob("*.py")):
        found += offences(p, page=False)
    for p in sorted((ROOT / "pages").glob("*.py")):
        found += offences(p, page=True)
    assert not found, "models moved in place (use a copy: device.cpu_copy(model)):\n" + "\n".join(found)


def test_the_lint_finds_the_vae_pages_old_bug(tmp_path, monkeypatch):
    """The check is not vacuous: the line that crashed the VAE page on a GPU is caught, its fix is not."""
    bad = tmp_path / "page.py"
    bad.write_text("model = trainer.task.model\nmodel = model.cpu().eval()\nx = trainer.task.model.to('cpu')\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert len(offences(bad, page=True)) == 2
    good = tmp_path / "good.py"
    good.write_text("import copy\nmodel = copy.deepcopy(trainer.task.model).cpu().eval()\n"
                    "view = cpu_copy(trainer.task.model)\nx = batch.to(dev)\n")
    assert offences(good, page=True) == []
