"""The ``dnn-xp`` command (also ``python -m dnn_xp``): train, predict, evaluate, info.

Results go to stdout as ``name: value`` lines (``train accuracy: 0.9050``).
Exit codes: 0 on success; 2 for bad input, with one line
``dnn-xp: error: ...`` on stderr that says what to fix; 130 when interrupted;
141 when the reader of stdout closed it early.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__
from .activations import ACTIVATIONS
from .backend import BACKENDS, DTYPES, ENV_VAR, BackendError, describe_backends, resolve_backend, to_numpy
from .datasets import circles, load_cat, load_csv, load_npz, moons, planar_flower
from .initializers import SCHEMES
from .losses import OUTPUTS
from .network import Network

PROG = "dnn-xp"
BAD_INPUT = 2
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports a program stopped by it
GENERATED = {"flower": planar_flower, "moons": moons, "circles": circles}
FILE_FORMATS = ("npz", "csv")
DATASETS = (*GENERATED, "cat", *FILE_FORMATS)


class UsageError(ValueError):
    """Bad command-line input; its message says what to change."""


@dataclass(frozen=True)
class Recipe:
    """A training configuration used where the command line leaves a choice open."""

    hidden_sizes: tuple[int, ...]
    hidden: str
    init: str
    seed: int
    learning_rate: float
    iterations: int
    record_every: int


# The course's planar model: 90.5% train accuracy on the flower in about a second.
PLANAR = Recipe((4,), "tanh", "small", 2, 1.2, 10_000, 1_000)
# The course's L-layer cat model: 98.6% train and 80% test accuracy.
DEEP_CAT = Recipe((20, 7, 5), "relu", "lecun", 1, 0.0075, 2_500, 100)


class Data(NamedTuple):
    """Loaded examples: ``splits`` maps ``"train"``/``"test"`` to ``(X: (n_x, m), Y: (1, m) or None)``."""

    kind: str
    source: str
    splits: dict


# ---------------------------------------------------------------------- entry point
def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
        # Overflow in a diverging run is reported once, by fit, as a FloatingPointError.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return args.command(args)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except BrokenPipeError:  # the reader went away (dnn-xp predict | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return BROKEN_PIPE
    except (ValueError, OSError, FloatingPointError, ImportError) as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return BAD_INPUT


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, raised instead of printed with usage."""

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Train, save, reload and evaluate deep fully connected networks.")
    parser.add_argument("--version", action="version", version=f"dnn_xp {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, parser_class=_Parser, metavar="COMMAND")

    train = commands.add_parser("train", help="train a network, report its accuracy, optionally save it",
                                description="Train a network; with no options, on the planar flower data.",
                                epilog=f"Options left out come from the course: for cat, {_describe(DEEP_CAT)}; "
                                       f"for the other data, {_describe(PLANAR)}.")
    _data_options(train)
    model = train.add_argument_group("model")
    model.add_argument("--layers", type=_layer_list, metavar="N0,N1,...,NL",
                       help="layer sizes, e.g. 12288,20,7,5,1; the input size may be left out "
                            "(it is taken from the data when the first entry differs from it)")
    model.add_argument("--hidden", choices=tuple(ACTIVATIONS), help="hidden activation")
    model.add_argument("--output", choices=tuple(OUTPUTS), default="sigmoid",
                       help="output layer and cost (default: sigmoid)")
    model.add_argument("--init", type=_init_scheme, metavar="SCHEME",
                       help=f"weight initialization: {', '.join(SCHEMES)}, or a number that scales randn")
    model.add_argument("--seed", type=int, help="seed of the weight initialization")
    fit = train.add_argument_group("training")
    fit.add_argument("--learning-rate", type=_positive_float, metavar="RATE")
    fit.add_argument("--iterations", type=_positive_int, metavar="N")
    fit.add_argument("--record-every", type=_positive_int, metavar="N", help="record (and print) the cost every N iterations")
    fit.add_argument("--checkpoint", metavar="FILE.npz",
                     help="save progress to FILE while training, and resume from it if it exists")
    fit.add_argument("--checkpoint-every", type=_positive_int, metavar="N", help="default: --record-every")
    _backend_options(train).add_argument("--dtype", choices=DTYPES, default="float64", help="default: float64")
    outputs = train.add_argument_group("output")
    outputs.add_argument("--save", metavar="FILE.npz", help="save the trained model")
    outputs.add_argument("--plot", metavar="FILE.png",
                         help="save the learning curve (and the decision boundary for 2-D data)")
    outputs.add_argument("--quiet", action="store_true", help="print only the results")
    train.set_defaults(command=run_train)

    predict = commands.add_parser("predict", help="write a saved model's predictions as CSV",
                                  description="Write one CSV row per example: prediction,probability.")
    predict.add_argument("--model", required=True, metavar="FILE.npz")
    _data_options(predict, split=True)
    predict.add_argument("--out", metavar="FILE.csv",
                         help="write the predictions here (default: stdout, with the summary on stderr)")
    _backend_options(predict)
    predict.set_defaults(command=run_predict)

    evaluate = commands.add_parser("evaluate", help="report a saved model's cost and accuracy")
    evaluate.add_argument("--model", required=True, metavar="FILE.npz")
    _data_options(evaluate, split=True)
    _backend_options(evaluate)
    evaluate.set_defaults(command=run_evaluate)

    info = commands.add_parser("info", help="list the backends, whether each is usable, and their devices")
    info.set_defaults(command=run_info)
    return parser


def _describe(recipe: Recipe) -> str:
    sizes = ", ".join(map(str, recipe.hidden_sizes))
    return (f"layers [n_x, {sizes}, 1], hidden {recipe.hidden}, init {recipe.init}, seed {recipe.seed}, "
            f"learning rate {recipe.learning_rate}, {recipe.iterations} iterations, cost every "
            f"{recipe.record_every}")


def _data_options(parser, split=False):
    group = parser.add_argument_group("data")
    group.add_argument("--dataset", choices=DATASETS,
                       help="default: from --data's suffix, cat with --data-dir, else flower")
    group.add_argument("--data-dir", metavar="DIR", help="folder holding train_catvnoncat.h5 and test_catvnoncat.h5")
    group.add_argument("--data", metavar="FILE",
                       help=".npz with arrays X (m, n_x) and Y (m,), or .csv with one example per row "
                            "and the label in the last column")
    if split:
        group.add_argument("--split", choices=("train", "test"),
                           help="which part of data that has a test split (default: all for evaluate, "
                                "test for predict)")


def _backend_options(parser):
    group = parser.add_argument_group("backend")
    group.add_argument("--backend", choices=BACKENDS,
                       help=f"array library (default: ${ENV_VAR}, else numpy; auto picks a usable GPU)")
    group.add_argument("--device", help="e.g. cpu, 0, cuda:1, device1 (array_api_strict)")
    return group


def _layer_list(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: layer sizes must be positive integers")
    return sizes


def _positive(convert, what: str):
    """An argparse type: ``convert(text)``, which must be positive and finite."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = 0
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{text!r} is not a positive {what}")
        return value

    return parse


_positive_int = _positive(int, "integer")
_positive_float = _positive(float, "number")


def _init_scheme(text: str):
    if text in SCHEMES:
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"unknown scheme {text!r}; choose one of {', '.join(SCHEMES)} or a number") from None


# ---------------------------------------------------------------------- train
def run_train(args) -> int:
    say = _printer(args.quiet)
    for path, option in ((args.save, "--save"), (args.plot, "--plot"), (args.checkpoint, "--checkpoint")):
        _check_folder(path, option)
    if args.plot:
        from .plotting import require_matplotlib

        require_matplotlib()
    data = load_data(args)
    X, Y = data.splits["train"]
    if Y is None:
        raise UsageError(f"{data.source} has no labels (an array Y); training needs them")
    recipe = DEEP_CAT if data.kind == "cat" else PLANAR
    dims = layer_dims(args.layers, X.shape[0], recipe)
    hidden = args.hidden or recipe.hidden
    init = recipe.init if args.init is None else args.init
    seed = recipe.seed if args.seed is None else args.seed
    net = Network(dims, hidden, args.output, init, seed, backend=args.backend, device=args.device, dtype=args.dtype)
    learning_rate = recipe.learning_rate if args.learning_rate is None else args.learning_rate
    iterations = recipe.iterations if args.iterations is None else args.iterations
    record_every = recipe.record_every if args.record_every is None else args.record_every

    say(f"backend: {net.backend.name}, device: {net.backend.device_label}, dtype: {args.dtype}")
    counts = [f"{split[0].shape[1]} {dict(train='training').get(name, name)} examples"
              for name, split in data.splits.items()]
    say(f"data: {data.source}, {', '.join(counts)}, {X.shape[0]} features")
    say(f"model: layers {dims}, hidden {hidden}, output {args.output}, init {init}, seed {seed}")
    say(f"training: learning rate {learning_rate}, {iterations} iterations")
    checkpoint = {}
    if args.checkpoint:
        every = record_every if args.checkpoint_every is None else args.checkpoint_every
        checkpoint = dict(checkpoint_path=args.checkpoint, checkpoint_every=every, resume=True)
        if Path(args.checkpoint).exists():
            say(f"resuming from {args.checkpoint}")
    interactive = sys.stderr.isatty()
    history = net.fit(X, Y, learning_rate, iterations, record_every, print_cost=not args.quiet and not interactive,
                      progress=not args.quiet and interactive, **checkpoint)
    for name, (X_split, Y_split) in data.splits.items():
        _report(net, name, X_split, Y_split, cost=not net.output.classifies)
    if args.save:
        net.save(args.save)
        print(f"saved model: {args.save}")
    if args.plot:
        from .plotting import plot_training

        plot_training(net, history, X, Y, args.plot)
        print(f"saved plot: {args.plot}")
    return 0


def layer_dims(spec, n_x: int, recipe: Recipe) -> list[int]:
    """``--layers`` as full layer sizes: the data's input size is put first unless already there."""
    if spec is None:
        return [n_x, *recipe.hidden_sizes, 1]
    if spec[-1] != 1:
        raise UsageError(f"--layers {','.join(map(str, spec))}: the last layer must have 1 unit "
                         f"(one label per example); got {spec[-1]}")
    return list(spec) if spec[0] == n_x else [n_x, *spec]


# ---------------------------------------------------------------------- predict, evaluate
def run_predict(args) -> int:
    _check_folder(args.out, "--out")
    net = Network.load(args.model, backend=args.backend, device=args.device)
    data = load_data(args, n_features=net.layer_dims[0])
    name = args.split or ("test" if "test" in data.splits else "train")
    X, Y = _split(data, name)
    _check_fits(net, args.model, X, data.source)
    values = to_numpy(net.predict_proba(X))[0]
    if net.output.classifies:
        rows = ["prediction,probability"] + [f"{int(p > 0.5)},{p:.6f}" for p in values]
    else:
        rows = ["prediction"] + [f"{p:.8g}" for p in values]
    text = "\n".join(rows) + "\n"
    summary = sys.stdout if args.out else sys.stderr
    if args.out:
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    where = args.out or "stdout"
    print(f"predictions: {len(values)} ({data.source}, {name} examples) written to {where}", file=summary)
    if Y is not None and net.output.classifies:
        print(f"accuracy: {net.accuracy(X, Y):.4f}", file=summary)
    return 0


def run_evaluate(args) -> int:
    net = Network.load(args.model, backend=args.backend, device=args.device)
    data = load_data(args, n_features=net.layer_dims[0])
    names = [args.split] if args.split else list(data.splits)
    print(f"model: {args.model}, layers {net.layer_dims}, backend {net.backend.name} on {net.backend.device_label}")
    for name in names:
        X, Y = _split(data, name)
        _check_fits(net, args.model, X, data.source)
        if Y is None:
            raise UsageError(f"{data.source} has no labels; evaluate needs them (predict works without)")
    for name in names:
        _report(net, name if len(data.splits) > 1 or args.split else "", *data.splits[name], cost=True)
    return 0


def _split(data: Data, name: str):
    if name not in data.splits:
        raise UsageError(f"{data.source} has no {name} split; it has {', '.join(data.splits)}")
    return data.splits[name]


def _check_fits(net: Network, model: str, X, source: str) -> None:
    if X.shape[0] != net.layer_dims[0]:
        raise UsageError(f"model {model!r} takes {net.layer_dims[0]} features per example but {source} has "
                         f"{X.shape[0]}; use the data the model was trained on, or train a new model")


def _report(net: Network, name: str, X, Y, cost: bool) -> None:
    prefix = f"{name} " if name else ""
    if cost:
        print(f"{prefix}cost: {net.cost(X, Y):.6f}")
    if net.output.classifies:
        print(f"{prefix}accuracy: {net.accuracy(X, Y):.4f}")


# ---------------------------------------------------------------------- data
def load_data(args, n_features=None) -> Data:
    """The examples named by ``--dataset``/``--data``/``--data-dir``, in the library's column layout.

    ``n_features`` (from a saved model) is checked against files and, for
    ``.csv``, decides whether the last column holds labels.
    """
    kind = _dataset_kind(args)
    if kind in GENERATED:
        return Data(kind, f"the {kind} data", {"train": GENERATED[kind]()})
    if kind == "cat":
        if args.data_dir is None:
            raise UsageError("--dataset cat needs --data-dir DIR, the folder holding train_catvnoncat.h5 "
                             "and test_catvnoncat.h5")
        cat = load_cat(args.data_dir)
        return Data(kind, f"the cat data in {args.data_dir!r}",
                    {"train": (cat.train_x, cat.train_y), "test": (cat.test_x, cat.test_y)})
    if args.data is None:
        raise UsageError(f"--dataset {kind} needs --data FILE")
    loader = load_npz if kind == "npz" else load_csv
    return Data(kind, repr(args.data), {"train": loader(args.data, n_features)})


def _dataset_kind(args) -> str:
    if args.dataset is None:
        if args.data is not None:
            suffix = Path(args.data).suffix.lower().lstrip(".")
            if suffix not in FILE_FORMATS:
                raise UsageError(f"cannot tell the format of {args.data!r} from its name; "
                                 f"add --dataset npz or --dataset csv")
            return suffix
        return "cat" if args.data_dir is not None else "flower"
    if args.data is not None and args.dataset not in FILE_FORMATS:
        raise UsageError(f"--data FILE goes with --dataset npz or csv, not --dataset {args.dataset}")
    if args.data_dir is not None and args.dataset != "cat":
        raise UsageError(f"--data-dir goes with --dataset cat, not --dataset {args.dataset}")
    return args.dataset


# ---------------------------------------------------------------------- info
def run_info(args) -> int:
    print(f"dnn_xp {__version__}, Python {platform.python_version()}, numpy {np.__version__}")
    rows = describe_backends()
    width = max(len(row["backend"]) for row in rows) + 2
    print(f"{'backend':<{width}}{'installed':<11}{'usable':<8}devices")
    for row in rows:
        yes = {True: "yes", False: "no"}
        devices = ", ".join(d + " (float32 only)" * (d in row["float32_only"]) for d in row["devices"]) or "-"
        print(f"{row['backend']:<{width}}{yes[row['installed']]:<11}{yes[row['usable']]:<8}{devices}")
    for row in rows:
        if not row["usable"]:
            print(f"  {row['backend']}: {row['reason']}")
    print(f"plots: {_matplotlib_status()}")
    setting = os.environ.get(ENV_VAR, "").strip()
    origin = f"{ENV_VAR}={setting}" if setting else f"{ENV_VAR} is not set"
    try:
        backend = resolve_backend()
    except BackendError as exc:  # info reports the problem; it is the command to diagnose it
        print(f"default backend: not usable ({origin}): {exc}")
        return 0
    print(f"default backend: {backend.name} on {backend.device_label} ({origin})")
    return 0


def _matplotlib_status() -> str:
    try:
        import matplotlib
    except ImportError:
        return 'matplotlib is not installed; pip install "dnn_xp[plot]"'
    return f"matplotlib {matplotlib.__version__}"


# ---------------------------------------------------------------------- helpers
def _printer(quiet: bool):
    def say(line: str) -> None:
        if not quiet:
            print(line, flush=True)

    return say


def _check_folder(path, option: str) -> None:
    """Refuse an output path before training rather than after: it must be a file in an existing folder."""
    if path is None:
        return
    if Path(path).is_dir():
        raise UsageError(f"{option} {path!r} is a folder; give a file name inside it, such as model.npz")
    if not Path(path).parent.is_dir():
        raise UsageError(f"{option} {path!r}: folder {str(Path(path).parent)!r} does not exist; create it first")
