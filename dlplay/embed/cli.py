"""`python -m dlplay embed ...`."""

from __future__ import annotations


import numpy as np

from ..device import get_device
from ..errors import InputError
from .figures import coords_csv
from .methods import METHODS, Embedder
from .quality import quality
from .sources import load_source, source_names
from .tables import read_table

# ------------------------------------------------------------------------------------------------ CLI

def cli_args(command: str, parser) -> None:
    parser.add_argument("--source", default="digits",
                        help=f"one of {', '.join(source_names())}, or a .csv / .tsv / .npy file")
    parser.add_argument("--method", default="tsne", choices=list(METHODS))
    parser.add_argument("--dim", type=int, default=2, choices=[2, 3])
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE (2-100)")
    parser.add_argument("--learning-rate", default="auto", help="t-SNE: 'auto' or 10-10000")
    parser.add_argument("--early-exaggeration", type=float, default=12.0, help="t-SNE (1-50)")
    parser.add_argument("--iterations", type=int, default=500, help="t-SNE iterations after the 250 exaggerated ones")
    parser.add_argument("--neighbors", type=int, default=None,
                        help="UMAP n_neighbors (default 15) or Isomap / LLE neighbours (default 10)")
    parser.add_argument("--min-dist", type=float, default=0.1, help="UMAP (0-1)")
    parser.add_argument("--drop-missing", action="store_true", help="uploaded table: drop rows with NaN / empty cells")
    parser.add_argument("--no-quality", action="store_true", help="skip the quality numbers")


def cli_run(command: str, args) -> dict:
    from pathlib import Path

    if args.source in source_names():
        src = load_source(args.source)
    else:
        p = Path(args.source)
        if not p.is_file():
            raise InputError(f"--source {args.source!r} is neither a built-in source ({', '.join(source_names())}) "
                             "nor a file.")
        src = read_table(p.read_bytes(), p.name, drop_missing=args.drop_missing).to_source(p.name)
    lr = args.learning_rate if args.learning_rate == "auto" else _float(args.learning_rate, "--learning-rate")
    neighbours_ = args.neighbors or (15 if args.method == "umap" else 10)
    emb = Embedder(args.method, args.dim, args.seed, perplexity=args.perplexity, learning_rate=lr,
                   early_exaggeration=args.early_exaggeration, n_iter=args.iterations, n_neighbors=neighbours_,
                   min_dist=args.min_dist).fit(src.x)
    out = {"method": args.method, "source": args.source, "n": len(src), "dim": args.dim,
           "seconds": round(emb.seconds_, 3), **{k: v for k, v in emb.params().items() if k not in ("method", "dim")}}
    if not args.no_quality:
        q = quality(src.x, emb.embedding_)
        out.update(trustworthiness=round(q["trustworthiness"], 4), knn_kept=round(q["knn_kept"], 4),
                   quality_k=q["k"])
    if args.out:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".csv":
            path.write_bytes(coords_csv(emb.embedding_, None if src.labels is None else
                                        [src.label_text(i) for i in range(len(src))]))
        else:
            np.save(path, emb.embedding_)
        out["out"] = str(path)
    notes = list(emb.notes_)
    if get_device(args.device).type != "cpu":   # said, not silently ignored
        notes.append(f"The layout ran on the CPU: {args.method} (openTSNE / umap-learn / scikit-learn) has no GPU "
                     "path, so --device does not apply to it.")
    out["device"] = "cpu"
    if notes:
        out["notes"] = notes
    return out


def _float(s: str, name: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise InputError(f"{name} must be a number or 'auto', not {s!r}.") from None
