"""`python -m dlplay ...`: list, download, pretrain, train, embed, style, corpus, search, bench.

Topic commands are plug-ins: the module named in COMMANDS defines

    def cli_args(command: str, parser: argparse.ArgumentParser) -> None   # add its own options
    def cli_run(command: str, args: argparse.Namespace) -> dict           # do the work, return a summary

and this file adds the shared options (--seed, --device, --out, --json) and prints the summary. With --json the
last line of output is one JSON object; without it the summary is printed as `key: value` lines.
A module is imported only when its command runs, so `--help` and `list` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from .errors import InputError

# command -> (module, one-line help). "train X" commands are keyed as "train X".
COMMANDS: dict[str, tuple[str, str]] = {
    "train classifier": ("dlplay.classifier", "the small digit classifier (the judge of generated samples)"),
    "train autoencoder": ("dlplay.autoencoders", "an autoencoder variant; compares with PCA"),
    "train vae": ("dlplay.vae", "a variational autoencoder"),
    "train gan2d": ("dlplay.gan", "a GAN on a 2-D toy distribution"),
    "train gan": ("dlplay.gan", "a DCGAN-style GAN on images"),
    "train word2vec": ("dlplay.words", "word2vec (skip-gram / CBOW) from scratch"),
    "train rbm": ("dlplay.pretraining", "a restricted Boltzmann machine with CD-k on binarised digits"),
    "train pretrain-stack": ("dlplay.pretraining", "greedy layer-wise pre-training vs random init vs linear probe"),
    "train glove": ("dlplay.documents.glove", "GloVe word vectors from the co-occurrence matrix, plain PyTorch"),
    "train doc-ae": ("dlplay.documents", "the deep document autoencoder on bags of words; precision@10 vs LSA"),
    "search": ("dlplay.documents", "search the Wikipedia paragraphs by TF-IDF, LSA, the autoencoder or Doc2Vec"),
    "train charlm": ("dlplay.sequences", "a character language model: n-gram, vanilla RNN or LSTM"),
    "train copy-task": ("dlplay.sequences", "RNN or LSTM on 'remember the first symbol' after a delay"),
    "train reverse": ("dlplay.sequences", "encoder-decoder reversing digit strings, with or without attention"),
    "train pixelcnn": ("dlplay.sequences", "a PixelCNN on binarised 8x8 digits (exact likelihood)"),
    "train domain-adapt": ("dlplay.domain", "adversarial domain adaptation: clean digits -> digits in the wild"),
    "embed": ("dlplay.embed", "project a dataset with PCA, t-SNE, UMAP, MDS, Isomap or LLE"),
    "style": ("dlplay.style", "neural style transfer of one picture onto another"),
    "corpus": ("dlplay.words", "write a built-in text corpus, tokenised"),
    "train cnn": ("dlplay.convolution", "a convolutional network written as a stack, on the digits"),
    "cnn": ("dlplay.convolution", "`cnn shapes STACK --input 32x32x3`: each layer's shape, parameters, receptive field"),
    "train qlearning": ("dlplay.qlearning", "Q-learning, SARSA or a small DQN in a grid world (presets: cliff, ...)"),
    "train multimodal": ("dlplay.multimodal", "image and text encoders in one space (contrastive), plus a captioner"),
}

# Modules that ship checkpoints re-created by `python -m dlplay pretrain`; each defines pretrain(out_dir) -> dict.
PRETRAIN = ["dlplay.classifier", "dlplay.autoencoders", "dlplay.vae", "dlplay.gan", "dlplay.words",
            "dlplay.convolution", "dlplay.qlearning", "dlplay.multimodal", "dlplay.pretraining", "dlplay.documents",
            "dlplay.documents.glove", "dlplay.sequences", "dlplay.domain", "dlplay.board"]


def _module(name: str):
    return importlib.import_module(name)


def _shared(p: argparse.ArgumentParser, out_help: str = "where to write the result") -> None:
    p.add_argument("--seed", type=int, default=0, help="random seed (same seed, same result)")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda or mps; also $DLPLAY_DEVICE")
    p.add_argument("--out", default=None, help=out_help)
    p.add_argument("--json", action="store_true", help="print one JSON object on the last line")


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dlplay", description="dlplay: the unsupervised deep learning playground.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    sub.add_parser("list", help="print the datasets and demos")
    d = sub.add_parser("download", help="download MNIST / Fashion-MNIST into $DLPLAY_DATA (needs internet)")
    d.add_argument("name", choices=["mnist", "fashion_mnist"])
    p = sub.add_parser("pretrain", help="re-create the checkpoints shipped in dlplay/assets/checkpoints")
    p.add_argument("only", nargs="*", help="modules to pretrain (default: all), e.g. classifier vae")
    p.add_argument("--out-dir", default=None, help="folder to write to (default: the shipped folder)")
    p.add_argument("--json", action="store_true")
    b = sub.add_parser("bench", help="run the benchmarks and print a table plus JSON")
    b.add_argument("--quick", action="store_true", help="small sizes, a couple of minutes")
    b.add_argument("--only", nargs="*", default=None, help="bench files to run, e.g. core vae")
    b.add_argument("--out", default=None, help="write the JSON results here")

    t = sub.add_parser("train", help="train a demo's model; `train TOPIC --help` for its options")
    topics = t.add_subparsers(dest="topic", metavar="TOPIC")
    topics.required = True
    for key, (module, help_) in COMMANDS.items():
        parts = key.split()
        parent = topics if parts[0] == "train" else sub
        sp = parent.add_parser(parts[-1], help=help_)
        sp.set_defaults(_key=key, _module=module)
        # Import a topic's module (and torch) only for the command actually being run.
        if argv[:len(parts)] == parts:
            _shared(sp)
            _module(module).cli_args(key, sp)
    return parser


def _print_summary(summary: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, default=float))
    else:
        for k, v in summary.items():
            print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(argv).parse_args(argv)
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        if args.command == "list":
            return _list()
        if args.command == "download":
            from .data import download
            print(f"saved under {download(args.name)}")
            return 0
        if args.command == "pretrain":
            from .runner import set_threads
            set_threads()   # honours DLPLAY_THREADS (e.g. 1 when several pretrain jobs share a busy machine)
            return _pretrain(args)
        if args.command == "bench":
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from bench.run import main as bench_main
            return bench_main((["--quick"] if args.quick else []) + (["--only", *args.only] if args.only else [])
                              + (["--out", args.out] if args.out else []))
        from .runner import set_threads
        set_threads()
        start = time.perf_counter()
        summary = _module(args._module).cli_run(args._key, args)
        summary.setdefault("wall_seconds", round(time.perf_counter() - start, 3))
        _print_summary(summary, args.json)
        return 0
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _list() -> int:
    from . import catalogue
    from .data import DATASETS, TOY2D, dataset_names

    here = set(dataset_names(available_only=True))
    print("Image datasets:")
    for name, (_, blurb, _) in DATASETS.items():
        print(f"  {name:<14} {'ready' if name in here else 'not downloaded'}  {blurb}")
    print("2-D toy distributions: " + ", ".join(TOY2D))
    print("Demos:")
    for d in catalogue.DEMOS:
        print(f"  [{d.group}] {d.title} (pages/{d.page}){'' if d.exists else ' (not built yet)'}: {d.idea}")
    return 0


def _pretrain(args) -> int:
    from .checkpoints import SHIPPED_DIR

    out_dir = Path(args.out_dir) if args.out_dir else SHIPPED_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    wanted = {f"dlplay.{o}" if not o.startswith("dlplay.") else o for o in args.only}
    results = {}
    for name in PRETRAIN:
        if wanted and name not in wanted:
            continue
        mod = importlib.import_module(name)
        print(f"pretraining {name} ...", flush=True)
        start = time.perf_counter()
        results[name] = {**(mod.pretrain(out_dir) or {}), "seconds": round(time.perf_counter() - start, 2)}
        print(f"  {results[name]}", flush=True)
    _print_summary(results, args.json) if args.json else None
    return 0
