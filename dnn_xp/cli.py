"""The ``dnn-xp`` command (also ``python -m dnn_xp``): train, predict, evaluate, export, info.

Results go to stdout as ``name: value`` lines (``train accuracy: 0.9050``).
Exit codes: 0 on success; 2 for bad input, with one line
``dnn-xp: error: ...`` on stderr that says what to fix; 130 when interrupted;
141 when the reader of stdout closed it early; 1 (also one line) for a bug.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import __version__
from .activations import ACTIVATIONS
from .backend import (BACKENDS, DTYPES, ENV_VAR, BackendError, describe_backends, host_rng, resolve_backend,
                      to_numpy)
from .datasets import circles, digits, load_cat, load_csv, load_football, load_npz, moons, planar_flower, spirals
from .initializers import SCHEMES
from .losses import OUTPUTS
from .network import Network, TrainingWarning
from .optimizers import OPTIMIZERS
from .saving import read_model, write_text
from .schedules import SCHEDULES

PROG = "dnn-xp"
BAD_INPUT = 2
INTERNAL_ERROR = 1
INTERRUPTED = 130
BROKEN_PIPE = 141  # 128 + SIGPIPE, as the shell reports a program stopped by it
GENERATED = {
    "flower": planar_flower,
    "moons": lambda: moons(n_samples=400, noise=0.2, random_state=1),
    "circles": lambda: circles(n_samples=400, noise=0.1, factor=0.5, random_state=1),
    "spirals": lambda: spirals(n_per_class=100, classes=3, seed=0),
}
FILE_FORMATS = ("npz", "csv")
DATASETS = (*GENERATED, "digits", "football", "cat", *FILE_FORMATS)
CURVE_POINTS = 200  # costs recorded for --plot's learning curve, whatever --record-every is
DIGITS_TEST_FRACTION, SPLIT_SEED = 0.2, 0


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


# ---------------------------------------------------------------------- entry point
def main(argv=None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); returns the exit code.

    This is the one place that turns failures into exit codes: every expected
    failure (:data:`EXPECTED`) becomes exit 2 with one line on stderr, anything
    else exit 1 with one line asking for a report; never a traceback.
    """
    try:
        if sys.stdout is None:  # started with stdout closed (dnn-xp ... >&-)
            raise UsageError("standard output is closed; dnn-xp writes its results there: redirect it "
                             "(> FILE or > /dev/null) instead of closing it")
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
    except EXPECTED as exc:
        _error_line(_describe_failure(exc))
        return BAD_INPUT
    except Exception as exc:  # a bug: still one line, no traceback
        _error_line(f"internal error, please report it: {type(exc).__name__}: {exc}")
        return INTERNAL_ERROR


# Failures a user can cause and fix: bad values, files, memory, numbers out of range.
EXPECTED = (ValueError, TypeError, LookupError, OSError, EOFError, ArithmeticError, MemoryError, ImportError)


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        detail = f" ({exc})" if str(exc) else ""
        return f"out of memory{detail}; use smaller layers or less data"
    return str(exc) or type(exc).__name__


def _error_line(message: str) -> None:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, raised instead of printed with usage."""

    def __init__(self, *args, **kwargs):
        # Raw, so that the examples in the epilog keep their lines; the description is wrapped here.
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if kwargs.get("description"):
            kwargs["description"] = textwrap.fill(kwargs["description"], 79)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{message} (see {self.prog} --help)")


TRAIN_EXAMPLES = """\
examples:
  dnn-xp train                                   the course's planar model on the flower data
  dnn-xp train --dataset moons --save moons.npz --plot moons.png
  dnn-xp train --data mine.csv --test-split 0.2 --standardize --save mine.npz
  dnn-xp train --data-dir ../shared/datasets/catvnoncat --backend auto
  dnn-xp train --iterations 50000 --checkpoint ck.npz   (rerun the same line to resume)

Options left out come from the course:
{cat}
{planar}
"""
PREDICT_EXAMPLES = """\
examples:
  dnn-xp predict --model moons.npz                        on the data the model was trained on
  dnn-xp predict --model mine.npz --data new.csv --out predictions.csv
  dnn-xp predict --model cat.npz --split train
"""
EVALUATE_EXAMPLES = """\
examples:
  dnn-xp evaluate --model moons.npz                       on the data the model was trained on
  dnn-xp evaluate --model mine.npz --data labeled.npz --backend torch
"""
INFO_EXAMPLES = """\
examples:
  dnn-xp info
  DNN_XP_BACKEND=cupy dnn-xp info                         does the default backend work here?
  dnn-xp info --model moons.npz                           a saved model's summary and metadata
"""
EXPORT_EXAMPLES = """\
examples:
  dnn-xp export --model moons.npz --onnx moons.onnx
"""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Train, save, reload and evaluate deep fully connected networks.",
                     epilog=f"Run '{PROG} COMMAND --help' for a command's options and examples.")
    parser.add_argument("--version", action="version", version=f"dnn_xp {__version__}")
    commands = parser.add_subparsers(title="commands", required=True, parser_class=_Parser, metavar="COMMAND")

    train = commands.add_parser(
        "train", help="train a network, report its accuracy, optionally save it",
        description="Train a network by gradient descent and report its accuracy (with no options: the "
                    "course's planar model on the flower data). Each option below says its default.",
        epilog=TRAIN_EXAMPLES.format(cat=_wrapped("for cat: " + _describe(DEEP_CAT)),
                                     planar=_wrapped("for the other data: " + _describe(PLANAR))))
    data = _data_options(train)
    data.add_argument("--test-data", metavar="FILE",
                      help="a second .npz/.csv file of labeled examples to report a test accuracy on "
                           "(default: none)")
    data.add_argument("--test-split", type=_fraction, metavar="F",
                      help="hold out a random fraction F (0 < F < 1) of the examples as test data "
                           "(default: none)")
    data.add_argument("--split-seed", type=int, metavar="N",
                      help="seed of the --test-split draw (default: 0)")
    data.add_argument("--standardize", action="store_true",
                      help="scale each feature to mean 0 and standard deviation 1, computed on the training "
                           "examples only; the model keeps the scaling and predict/evaluate apply it "
                           "(default: off)")
    model = train.add_argument_group("model")
    model.add_argument("--layers", type=_layer_list, metavar="N0,N1,...,NL",
                       help="layer sizes; the last is the number of outputs, one per label column (with "
                            "--output softmax: the number of classes). A list starting with the data's feature "
                            "count is the full list (12288,20,7,5,1); any other list is the hidden and output "
                            "sizes only (20,7,5,1), the feature count is put in front. A first entry within 10%% "
                            "of the feature count but not equal to it is an error (a mistyped input size) "
                            "(default: n_x,4,1; for cat 12288,20,7,5,1)")
    model.add_argument("--hidden", choices=tuple(ACTIVATIONS),
                       help=f"hidden activation (default: {PLANAR.hidden}; for cat {DEEP_CAT.hidden})")
    model.add_argument("--output", choices=tuple(OUTPUTS), default="sigmoid",
                       help="output layer and cost: sigmoid with cross-entropy for 0/1 labels, softmax with "
                            "categorical cross-entropy for class ids 0, 1, 2, ..., identity with squared error for "
                            "regression (default: sigmoid)")
    model.add_argument("--init", type=_init_scheme, metavar="SCHEME",
                       help=f"weight initialization: {', '.join(SCHEMES)}, or a number that scales randn "
                            f"(default: {PLANAR.init}; for cat {DEEP_CAT.init})")
    model.add_argument("--seed", type=int, metavar="N",
                       help=f"seed of the weight initialization (default: {PLANAR.seed}; for cat {DEEP_CAT.seed})")
    fit = train.add_argument_group("training")
    fit.add_argument("--learning-rate", type=_positive_float, metavar="RATE",
                     help=f"gradient descent step size (default: {PLANAR.learning_rate}; "
                          f"for cat {DEEP_CAT.learning_rate})")
    fit.add_argument("--iterations", type=_positive_int, metavar="N",
                     help=f"number of full-batch gradient descent steps (default: {PLANAR.iterations}; "
                          f"for cat {DEEP_CAT.iterations})")
    fit.add_argument("--record-every", type=_positive_int, metavar="N",
                     help=f"record (and print) the cost every N iterations (default: {PLANAR.record_every}; "
                          f"for cat {DEEP_CAT.record_every})")
    fit.add_argument("--checkpoint", metavar="FILE.npz",
                     help="save progress to FILE while training, and resume from it if it exists "
                          "(default: no checkpoint)")
    fit.add_argument("--checkpoint-every", type=_positive_int, metavar="N",
                     help="with --checkpoint: save every N iterations (default: --record-every)")
    _training_options(train)
    backend = _backend_options(train)
    backend.add_argument("--dtype", choices=DTYPES, default="float64",
                         help="working precision, kept by the saved model (default: float64)")
    backend.add_argument("--chunks", type=_positive_int, metavar="N",
                         help="--backend dask: split the examples into N chunks, the pieces the workers hold "
                              "(default: one per worker thread)")
    outputs = train.add_argument_group("output")
    outputs.add_argument("--save", metavar="FILE.npz", help="save the trained model (default: not saved)")
    outputs.add_argument("--plot", metavar="FILE.png",
                         help="save the learning curve, with the decision boundary for 2-D data or "
                              "predicted against true values for --output identity (default: no plot)")
    outputs.add_argument("--quiet", action="store_true", help="print only the results (default: off)")
    train.set_defaults(command=run_train)

    predict = commands.add_parser(
        "predict", help="write a saved model's predictions as CSV",
        description="Write one CSV row per example: prediction,probability (for several outputs, "
                    "prediction_1,probability_1,...; for --output identity models, the predicted values).",
        epilog=PREDICT_EXAMPLES)
    _model_option(predict)
    _data_options(predict, split=True)
    predict.add_argument("--out", metavar="FILE.csv",
                         help="write the predictions here (default: stdout, with the summary on stderr)")
    _backend_options(predict)
    predict.set_defaults(command=run_predict)

    evaluate = commands.add_parser(
        "evaluate", help="report a saved model's cost and accuracy",
        description="Report a saved model's cost and accuracy on labeled data: by default the data it was "
                    "trained on (both parts, when it had a test part).",
        epilog=EVALUATE_EXAMPLES)
    _model_option(evaluate)
    _data_options(evaluate, split=True)
    _backend_options(evaluate)
    evaluate.set_defaults(command=run_evaluate)

    export = commands.add_parser("export", help="write a saved model's inference graph as ONNX",
                                 description="Write the inference graph of a saved model as ONNX (opset 17): "
                                             "input X of shape (N, n_x), examples as rows; output the "
                                             "probabilities (N, n_out), or the predictions of a regression "
                                             'model. Needs pip install "dnn_xp[onnx]".',
                                 epilog=EXPORT_EXAMPLES)
    _model_option(export)
    export.add_argument("--onnx", required=True, metavar="FILE.onnx", help="the ONNX file to write (required)")
    export.set_defaults(command=run_export)

    info = commands.add_parser(
        "info", help="list the backends, whether each is usable, and their devices; with --model, describe "
                     "a saved model",
        description=f"List each backend (installed? usable? devices), whether plots work, and what the "
                    f"default backend (${ENV_VAR}, else numpy) resolves to here. Always exits 0.",
        epilog=INFO_EXAMPLES)
    info.add_argument("--model", metavar="FILE.npz",
                      help="print this saved model's summary (layers, parameters, dtype) and metadata instead "
                           "(default: none)")
    info.add_argument("--device", metavar="ADDRESS",
                      help="describe the dask cluster at this scheduler address, e.g. tcp://host:8786: its workers, "
                           "threads and memory (default: the embedded LocalCluster dask would start, not started)")
    info.set_defaults(command=run_info)
    return parser


def _describe(recipe: Recipe) -> str:
    sizes = ", ".join(map(str, recipe.hidden_sizes))
    return (f"layers [n_x, {sizes}, 1], hidden {recipe.hidden}, init {recipe.init}, seed {recipe.seed}, "
            f"learning rate {recipe.learning_rate}, {recipe.iterations} iterations, cost every "
            f"{recipe.record_every}")


def _wrapped(text: str) -> str:
    return textwrap.fill(text, 79, initial_indent="  ", subsequent_indent="    ")


def _model_option(parser):
    parser.add_argument("--model", required=True, metavar="FILE.npz",
                        help="a model saved by dnn-xp train --save or Network.save (required)")


def _training_options(parser):
    """Optimizers, mini-batches, schedules, regularization and early stopping (``Network.fit``'s options)."""
    group = parser.add_argument_group("training options")
    group.add_argument("--optimizer", choices=tuple(k for k in OPTIMIZERS if k != "sgd"), default="gd",
                       help="default: gd (gradient descent)")
    group.add_argument("--batch-size", type=_positive_int, metavar="N",
                       help="mini-batches of N examples, shuffled every epoch (needs --epochs; default: full batch)")
    group.add_argument("--epochs", type=_positive_int, metavar="N",
                       help="passes over the data with --batch-size; --record-every and --checkpoint-every then count "
                            "epochs (needs --batch-size; default: none, --iterations counts the steps)")
    group.add_argument("--l2", type=_non_negative_float, default=0.0, metavar="L",
                       help="L2 regularization strength (the course's lambd; default: 0)")
    group.add_argument("--keep-prob", type=_probability, default=1.0, metavar="P",
                       help="inverted dropout on the hidden layers: keep each unit with probability P (default: 1)")
    group.add_argument("--lr-schedule", choices=tuple(SCHEDULES), default="constant",
                       help="learning-rate decay per epoch (default: constant)")
    group.add_argument("--decay-rate", type=_positive_float, metavar="R",
                       help="the schedule's decay rate (exponential: its factor per epoch, at most 1; default: 1, "
                            "for exponential 0.95)")
    group.add_argument("--validation-split", type=_fraction, metavar="F",
                       help="hold out a seeded fraction F of the training examples to watch while training "
                            "(default: none)")
    group.add_argument("--patience", type=_positive_int, metavar="N",
                       help="stop after N records without a lower validation cost and keep the best weights "
                            "(needs --validation-split; default: no early stopping)")


def _fit_options(args) -> dict:
    """``Network.fit`` keyword arguments from the training options (validation data excepted)."""
    if args.patience is not None and args.validation_split is None:
        raise UsageError("--patience needs --validation-split F, the held-out data it watches")
    if (args.batch_size is None) != (args.epochs is None):
        raise UsageError("--batch-size and --epochs go together: mini-batches of N examples for E passes")
    if args.decay_rate is not None and args.lr_schedule == "constant":
        raise UsageError("--decay-rate goes with --lr-schedule inverse_time, staircase or exponential")
    return dict(optimizer=args.optimizer, batch_size=args.batch_size, epochs=args.epochs, l2=args.l2,
                keep_prob=args.keep_prob, schedule=args.lr_schedule if args.decay_rate is None else
                SCHEDULES[args.lr_schedule](args.decay_rate), patience=args.patience,
                **({} if args.chunks is None else {"chunks": args.chunks}))


def _held_out(X, Y, fraction: float):
    """``(X_train, Y_train), (X_val, Y_val)``: a seeded random ``fraction`` of the columns held out."""
    train, val = _held_out_columns(X.shape[1], fraction, SPLIT_SEED, "--validation-split", "validate")
    return (X[:, train], Y[:, train]), (X[:, val], Y[:, val])


def _held_out_columns(m: int, fraction: float, seed: int, option: str, purpose: str):
    """``(kept, held)``: sorted column indices, ``round(fraction * m)`` of the ``m`` drawn at random to hold out."""
    held = round(fraction * m)
    if not 0 < held < m:
        raise UsageError(f"{option} {fraction} of {m} examples leaves {m - held} to train on and {held} to "
                         f"{purpose}; choose a fraction that keeps at least one example on each side")
    order = host_rng(seed).permutation(m)
    return np.sort(order[held:]), np.sort(order[:held])


def _data_options(parser, split=False):
    group = parser.add_argument_group("data")
    default = ("the data the model was trained on, as its file records" if split else
               "from --data's suffix, cat with --data-dir, else flower")
    group.add_argument("--dataset", choices=DATASETS, help=f"which data (default: {default})")
    group.add_argument("--data-dir", metavar="DIR",
                       help="folder holding train_catvnoncat.h5 and test_catvnoncat.h5 (default: none)")
    group.add_argument("--data", metavar="FILE",
                       help=".npz with arrays X (m, n_x) and Y (m,) or (m, k), or .csv with one example per "
                            "row and the label in the last column (default: none)")
    if split:
        group.add_argument("--split", choices=("train", "test"),
                           help="which part of data that has a test part (default: both for evaluate, "
                                "test for predict)")
    return group


def _backend_options(parser):
    group = parser.add_argument_group("backend")
    group.add_argument("--backend", choices=BACKENDS,
                       help=f"array library (default: ${ENV_VAR}, else numpy; auto picks a usable GPU)")
    group.add_argument("--device", help="e.g. cpu, 0, cuda:1, device1 (array_api_strict), tcp://host:8786 (a dask "
                                        "scheduler) or threads (dask's local scheduler) (default: the backend's "
                                        "first device; dask: an embedded LocalCluster)")
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


def _float_in(accepts, what: str):
    """An argparse type: a float for which ``accepts(value)`` holds, else an error saying ``what`` is wanted."""

    def parse(text: str):
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


_non_negative_float = _float_in(lambda v: 0 <= v < float("inf"), "a number >= 0")
_probability = _float_in(lambda v: 0 < v <= 1, "a probability in (0, 1]")
_fraction = _float_in(lambda v: 0 < v < 1, "a fraction strictly between 0 and 1, such as 0.2")


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
    _check_train_options(args)
    for path, option in ((args.save, "--save"), (args.plot, "--plot"), (args.checkpoint, "--checkpoint")):
        _check_folder(path, option)
    if args.checkpoint and args.save and Path(args.checkpoint).resolve() == Path(args.save).resolve():
        raise UsageError(f"--checkpoint and --save name the same file {args.save!r}: a checkpoint holds the "
                         f"progress of a run, a saved model its result; give them different names")
    if args.plot:
        from .plotting import require_matplotlib

        require_matplotlib()
    data = load_data(args)
    X, Y = data.splits["train"]
    if Y is None:
        raise UsageError(f"{data.source} has no labels (an array Y); training needs them")
    _check_label_values(data, args.output)
    options = _fit_options(args)
    if args.validation_split is not None:
        (X, Y), validation = _held_out(X, Y, args.validation_split)
        options["validation"] = validation
    recipe = DEEP_CAT if data.kind == "cat" else PLANAR
    outputs = _classes(Y) if args.output == "softmax" else Y.shape[0]
    dims = layer_dims(args.layers, X.shape[0], outputs, recipe, softmax=args.output == "softmax")
    hidden = args.hidden or recipe.hidden
    init = recipe.init if args.init is None else args.init
    seed = recipe.seed if args.seed is None else args.seed
    net = Network(dims, hidden, args.output, init, seed, backend=args.backend, device=args.device, dtype=args.dtype)
    if args.chunks is not None and net.backend.name != "dask":
        raise UsageError(f"--chunks splits the examples among dask's workers; the backend is {net.backend.name!r}: "
                         f"drop --chunks, or add --backend dask")
    net.trained_on = data.record
    if args.standardize:
        net.standardize(X)
    learning_rate = recipe.learning_rate if args.learning_rate is None else args.learning_rate
    iterations = recipe.iterations if args.iterations is None else args.iterations
    record_every = recipe.record_every if args.record_every is None else args.record_every

    say(f"backend: {net.backend.name}, device: {net.backend.device_label}, dtype: {args.dtype}")
    counts = [f"{split[0].shape[1]} {dict(train='training').get(name, name)} examples"
              for name, split in data.splits.items()]
    say(f"data: {data.source}, {', '.join(counts)}, {X.shape[0]} features"
        + (", standardized on the training examples" if args.standardize else ""))
    say(f"model: layers {dims}, hidden {hidden}, output {args.output}, init {init}, seed {seed}")
    length = f"{args.epochs} epochs of batches of {args.batch_size}" if args.batch_size else f"{iterations} iterations"
    extras = [f"optimizer {args.optimizer}"] * (args.optimizer != "gd") + [f"l2 {args.l2}"] * bool(args.l2) + \
        [f"keep_prob {args.keep_prob}"] * (args.keep_prob < 1) + [f"schedule {options['schedule']!r}"] * \
        (args.lr_schedule != "constant") + [f"{args.chunks} chunks"] * (args.chunks is not None)
    say(f"training: learning rate {learning_rate}, {', '.join([length, *extras])}")
    say(net.summary())
    checkpoint = {}
    if args.checkpoint:
        every = record_every if args.checkpoint_every is None else args.checkpoint_every
        checkpoint = dict(checkpoint_path=args.checkpoint, checkpoint_every=every, resume=True)
        if Path(args.checkpoint).exists():
            say(f"resuming from {args.checkpoint}")
    interactive = sys.stderr.isatty()
    began = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", TrainingWarning)
            history = net.fit(X, Y, learning_rate, iterations, record_every,
                              print_cost=not args.quiet and not interactive, progress=not args.quiet and interactive,
                              curve_points=CURVE_POINTS if args.plot else None, **checkpoint, **options)
    except KeyboardInterrupt:
        if not args.checkpoint:
            raise
        print(f"{PROG}: interrupted; {_saved_progress(args.checkpoint)}", file=sys.stderr)
        return INTERRUPTED
    for warning in caught:
        print(f"{PROG}: warning: {warning.message}", file=sys.stderr)
    length = args.epochs if args.batch_size else iterations
    if args.checkpoint and history.start == length:
        say(f"{args.checkpoint} holds this run, finished ({length} {'epochs' if args.batch_size else 'iterations'}): "
            f"nothing is left to train")
    elif interactive:  # the bar is gone: leave a line that says how the run went
        say(_summary(history, length - history.start, time.perf_counter() - began))
    splits = {"train": (X, Y), **({"validation": options["validation"]} if "validation" in options else {}),
              **{k: v for k, v in data.splits.items() if k != "train"}}
    if history.best_iteration is not None and args.patience is not None:
        say(f"early stopping: kept the weights of {'epoch' if args.batch_size else 'iteration'} "
            f"{history.best_iteration}, the lowest validation cost")
    for name, (X_split, Y_split) in splits.items():
        _report(net, name, X_split, Y_split, cost=not net.output.classifies)
    if args.save:
        net.save(args.save)
        print(f"saved model: {args.save}")
    if args.plot:
        from .plotting import plot_training

        plot_training(net, history, X, Y, args.plot)
        print(f"saved plot: {args.plot}")
    return 0


def _saved_progress(checkpoint: str) -> str:
    """What an interrupted run left in its checkpoint, and how to go on."""
    try:
        done = Network.load(checkpoint).iterations_trained
    except (ValueError, OSError):
        return f"no progress was saved yet ({checkpoint!r} holds no checkpoint)"
    return (f"progress up to iteration {done} is saved in {checkpoint!r}; run the same command again "
            f"to resume from there")


def _check_train_options(args) -> None:
    """Options that only work together: refuse a combination that would be silently ignored."""
    if args.checkpoint_every is not None and args.checkpoint is None:
        raise UsageError("--checkpoint-every needs --checkpoint FILE.npz, the file to save progress to")
    if args.test_data is not None and args.test_split is not None:
        raise UsageError("--test-data and --test-split both name test data; give one")
    if args.split_seed is not None and args.test_split is None:
        raise UsageError("--split-seed needs --test-split F, the fraction to hold out")


def _summary(history, iterations: int, seconds: float) -> str:
    rate = iterations / seconds if seconds > 0 else float("inf")
    return (f"trained {iterations} iterations in {seconds:.2f} s ({rate:,.0f} iterations/s); cost "
            f"{history.costs[0]:.6f} at iteration {history.iterations[0]}, {history.costs[-1]:.6f} at "
            f"iteration {history.iterations[-1]}")


def _classes(Y) -> int:
    """The number of classes of softmax labels: ids ``(1, m)`` count up to the largest, one-hot has a row each."""
    if Y.shape[0] > 1:
        return Y.shape[0]
    if not (np.all(Y >= 0) and np.all(Y == np.floor(Y))):
        raise UsageError("--output softmax needs labels that are class ids 0, 1, 2, ...")
    return max(int(Y.max()) + 1, 2)


def layer_dims(spec, n_x: int, n_y: int, recipe: Recipe, softmax: bool = False) -> list[int]:
    """``--layers`` as the full layer sizes ``[n_x, ..., n_y]``.

    The last entry is the number of outputs, which must be ``n_y``: the data's label count
    per example, or the number of classes of a softmax. A list of two or more entries
    starting with the data's feature count ``n_x`` is the full list. Any other list holds
    the hidden and output sizes only, and ``n_x`` is put in front, except that a first entry
    within 10% of ``n_x`` but not equal to it (``0 < |first - n_x| <= n_x / 10``) looks like
    a mistyped input size and is an error naming both numbers.
    """
    if spec is None:
        return [n_x, *recipe.hidden_sizes, n_y]
    text = ",".join(map(str, spec))
    if spec[-1] != n_y:
        per = ("one per class" if softmax else "the data has one label per example" if n_y == 1
               else f"the data has {n_y} labels per example")
        raise UsageError(f"--layers {text}: the last layer must have {n_y} "
                         f"unit{'s' if n_y > 1 else ''} ({per}); got {spec[-1]}")
    if len(spec) >= 2 and spec[0] == n_x:
        return list(spec)
    if 0 < abs(spec[0] - n_x) <= n_x / 10:
        raise UsageError(f"--layers {text}: the first entry {spec[0]} is close to but not the data's {n_x} "
                         f"features; start the list with {n_x} for the full list, or write "
                         f"{n_x},{text} for a first hidden layer of {spec[0]} units")
    return [n_x, *spec]


def _check_label_values(data, output: str) -> None:
    """0/1 labels for a sigmoid output, with an error that names the file and the column taken as labels."""
    if output != "sigmoid":
        return
    for name, (X, Y) in data.splits.items():
        wrong = np.unique(Y[(Y != 0) & (Y != 1)])
        if wrong.size == 0:
            continue
        sample = ", ".join(f"{v:g}" for v in wrong[:3]) + (", ..." if wrong.size > 3 else "")
        where = data.files.get(name, data.source)
        if where.lower().endswith(".csv'"):
            column = X.shape[0] + 1
            taken = (f"{where} has no 0/1 label column: train took its last column (column {column} of "
                     f"{column}) as the label, and it holds {sample}")
        else:
            taken = f"{where}: the labels Y hold values other than 0 and 1 ({sample})"
        raise UsageError(f"{taken}; --output sigmoid needs labels 0 or 1 (a .csv keeps them in its last "
                         f"column), or use --output identity for a numeric target")


# ---------------------------------------------------------------------- predict, evaluate
def run_predict(args) -> int:
    _check_folder(args.out, "--out")
    net = Network.load(args.model, backend=args.backend, device=args.device)
    data = data_for_model(args, net)
    name = args.split or ("test" if "test" in data.splits else "train")
    X, Y = _split(data, name)
    _check_fits(net, args.model, X, Y, data.source)
    P = to_numpy(net.predict_proba(X))
    text = prediction_csv(P, net.output.classifies, to_numpy(net.predict(X)) if net.output.name == "softmax" else None)
    summary = sys.stdout if args.out else sys.stderr
    if args.out:
        write_text(args.out, text)
    else:
        _write_stdout(text)
    where = args.out or "stdout"
    print(f"predictions: {X.shape[1]} ({data.source}, {name} examples) written to {where}", file=summary)
    if Y is not None and net.output.classifies:
        print(f"accuracy: {net.accuracy(X, Y):.4f}", file=summary)
    return 0


def prediction_csv(P: np.ndarray, classifies: bool, classes: np.ndarray | None = None) -> str:
    """CSV text of the outputs ``P: (n_L, m)``, one row per example and every output in it.

    Classifiers write ``prediction,probability`` per output (``prediction_1,probability_1,...``
    when there are several); a softmax (``classes``: its predicted ids ``(1, m)``) writes the
    class and its probability; regression models write the predicted values.
    """
    if classes is not None:
        rows = (f"{int(c)},{p:.6f}" for c, p in zip(classes[0], P.max(axis=0)))
        return "\n".join(["prediction,probability", *rows]) + "\n"
    k = P.shape[0]
    suffixes = [""] if k == 1 else [f"_{j}" for j in range(1, k + 1)]
    if classifies:
        header = ",".join(f"prediction{s},probability{s}" for s in suffixes)
        rows = (",".join(f"{int(p > 0.5)},{p:.6f}" for p in column) for column in P.T)
    else:
        header = ",".join(f"prediction{s}" for s in suffixes)
        rows = (",".join(f"{p:.8g}" for p in column) for column in P.T)
    return "\n".join([header, *rows]) + "\n"


def run_evaluate(args) -> int:
    net = Network.load(args.model, backend=args.backend, device=args.device)
    data = data_for_model(args, net)
    names = [args.split] if args.split else list(data.splits)
    for name in names:
        X, Y = _split(data, name)
        _check_fits(net, args.model, X, Y, data.source)
        if Y is None:
            raise UsageError(f"{data.source} has no labels; evaluate needs them (predict works without)")
    print(f"model: {args.model}, layers {net.layer_dims}, backend {net.backend.name} on {net.backend.device_label}")
    print(f"data: {data.source}")
    for name in names:
        _report(net, name if len(data.splits) > 1 or args.split else "", *data.splits[name], cost=True)
    return 0


def _split(data: Data, name: str):
    if name not in data.splits:
        raise UsageError(f"{data.source} has no {name} split; it has {', '.join(data.splits)}")
    return data.splits[name]


def _check_fits(net: Network, model: str, X, Y, source: str) -> None:
    if X.shape[0] != net.layer_dims[0]:
        raise UsageError(f"model {model!r} takes {net.layer_dims[0]} features per example but {source} has "
                         f"{X.shape[0]}; use the data the model was trained on, or train a new model")
    softmax = net.output.name == "softmax"
    if Y is not None and softmax and Y.shape[0] not in (1, net.layer_dims[-1]):
        raise UsageError(f"model {model!r} has {net.layer_dims[-1]} classes but {source} has {Y.shape[0]} "
                         f"labels per example; use class ids (one label column) or one-hot labels "
                         f"(one column per class)")
    if Y is not None and not softmax and Y.shape[0] != net.layer_dims[-1]:
        raise UsageError(f"model {model!r} has {net.layer_dims[-1]} outputs but {source} has {Y.shape[0]} "
                         f"label{'s' if Y.shape[0] > 1 else ''} per example; use data with one label column "
                         f"per output")


def _report(net: Network, name: str, X, Y, cost: bool) -> None:
    prefix = f"{name} " if name else ""
    if cost:
        print(f"{prefix}cost: {net.cost(X, Y):.6f}")
    if net.output.classifies:
        print(f"{prefix}accuracy: {net.accuracy(X, Y):.4f}")


# ---------------------------------------------------------------------- export
def run_export(args) -> int:
    _check_folder(args.onnx, "--onnx")
    Network.load(args.model).to_onnx(args.onnx)
    print(f"saved ONNX model: {args.onnx}")
    return 0


def _write_stdout(text: str) -> None:
    """Write all of ``text`` to stdout, so a reader that left raises BrokenPipeError (exit 141).

    Unbuffered stdout (``PYTHONUNBUFFERED=1``) writes straight to the file, and a pipe whose
    reader closed mid-way accepts part of it; ``TextIOWrapper.write`` drops the rest and reports
    success, so the remainder is written here until the pipe refuses it.
    """
    stream = getattr(sys.stdout, "buffer", None)
    if stream is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    remaining = memoryview(text.encode(sys.stdout.encoding or "utf-8"))
    while remaining:
        remaining = remaining[stream.write(remaining) or 0:]
    stream.flush()


# ---------------------------------------------------------------------- data
class Data(NamedTuple):
    """Loaded examples in the library's column layout.

    ``splits`` maps ``"train"``/``"test"`` to ``(X: (n_x, m), Y: (n_y, m) or None)``;
    ``record`` is the JSON description a trained model keeps (``Network.trained_on``);
    ``files`` names the file each split came from, quoted, where there is one.
    """

    kind: str
    source: str
    splits: dict
    record: dict
    files: dict


def load_data(args, n_features=None) -> Data:
    """The examples named by ``--dataset``/``--data``/``--data-dir`` (and, for train, the test options)."""
    data = _load_source(_dataset_kind(args), args.data, args.data_dir, n_features)
    return _with_test_part(data, getattr(args, "test_data", None), getattr(args, "test_split", None),
                           getattr(args, "split_seed", None))


def data_for_model(args, net: Network) -> Data:
    """The data named on the command line, else the data the model records (``trained_on``)."""
    n_features = net.layer_dims[0]
    if (args.dataset, args.data, args.data_dir) != (None, None, None):
        return load_data(args, n_features)
    record = net.trained_on
    if not isinstance(record, dict) or "dataset" not in record:
        raise UsageError(f"{args.model!r} does not record the data it was trained on (only models saved by "
                         f"dnn-xp train do); name the data with --dataset, --data or --data-dir")
    try:
        data = _load_source(record["dataset"], record.get("path"), record.get("data_dir"), n_features)
        if "path" in record:
            _check_unchanged(data, record, record["path"])
        test = record.get("test_data")
        data = _with_test_part(data, test and test.get("path"), record.get("test_split"), record.get("split_seed"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"the data recorded in {args.model!r} cannot be used ({exc}); name the data with "
                         f"--dataset, --data or --data-dir") from None
    return data._replace(source=f"{data.source} (recorded in the model)")


def _check_unchanged(data: Data, record: dict, path: str) -> None:
    X, _ = data.splits["train"]
    then, now = (record.get("examples"), record.get("features")), (X.shape[1], X.shape[0])
    if then != now:
        raise ValueError(f"{path!r} has changed since training: then {then[0]} examples of {then[1]} features, "
                         f"now {now[0]} of {now[1]}")


def _load_source(kind: str, data_file, data_dir, n_features) -> Data:
    """One data set, with a test part only when it comes with one (cat)."""
    if kind in GENERATED:
        return Data(kind, f"the {kind} data", {"train": GENERATED[kind]()}, {"dataset": kind}, {})
    if kind == "digits":
        X, Y = digits()
        train, test = _held_out_columns(X.shape[1], DIGITS_TEST_FRACTION, SPLIT_SEED, "the digits test part", "test")
        return Data(kind, "the digits data (scikit-learn)", {"train": (X[:, train], Y[:, train]),
                                                            "test": (X[:, test], Y[:, test])}, {"dataset": kind}, {})
    if kind == "football":
        if data_file is None:
            raise UsageError("--dataset football needs --data FILE, the course's data.mat")
        football = load_football(data_file)
        return Data(kind, f"the football data in {str(data_file)!r}",
                    {"train": (football.train_x, football.train_y), "test": (football.val_x, football.val_y)},
                    {"dataset": kind, "path": str(Path(data_file).resolve())}, {})
    if kind == "cat":
        if data_dir is None:
            raise UsageError("--dataset cat needs --data-dir DIR, the folder holding train_catvnoncat.h5 "
                             "and test_catvnoncat.h5")
        cat = load_cat(data_dir)
        record = {"dataset": "cat", "data_dir": str(Path(data_dir).resolve())}
        return Data(kind, f"the cat data in {data_dir!r}",
                    {"train": (cat.train_x, cat.train_y), "test": (cat.test_x, cat.test_y)}, record, {})
    if data_file is None:
        raise UsageError(f"--dataset {kind} needs --data FILE")
    if kind not in FILE_FORMATS:
        raise UsageError(f"unknown dataset {kind!r}; choose one of {', '.join(DATASETS)}")
    X, Y = (load_npz if kind == "npz" else load_csv)(data_file, n_features)
    record = {"dataset": kind, "path": str(Path(data_file).resolve()), "examples": X.shape[1],
              "features": X.shape[0]}
    return Data(kind, repr(str(data_file)), {"train": (X, Y)}, record, {"train": repr(str(data_file))})


def _with_test_part(data: Data, test_file, fraction, seed) -> Data:
    """``data`` with a test part: the examples of ``test_file``, or a seeded random ``fraction`` held out."""
    if test_file is None and fraction is None:
        return data
    if "test" in data.splits:
        raise UsageError(f"{data.source} has its own test part; --test-data and --test-split are for data "
                         f"without one")
    X, Y = data.splits["train"]
    if test_file is not None:
        kind = _file_kind(test_file, "--test-data")
        test = _load_source(kind, test_file, None, X.shape[0])
        X_test, Y_test = test.splits["train"]
        if Y_test is None:
            raise UsageError(f"test data {test.source} has no labels; a test part needs them")
        splits = {"train": (X, Y), "test": (X_test, Y_test)}
        record = {**data.record, "test_data": test.record}
        return data._replace(splits=splits, record=record, files={**data.files, "test": test.source})
    seed = 0 if seed is None else seed
    train, test = _held_out_columns(X.shape[1], fraction, seed, "--test-split", "test")
    labels = (lambda idx: None) if Y is None else (lambda idx: Y[:, idx])
    splits = {"train": (X[:, train], labels(train)), "test": (X[:, test], labels(test))}
    record = {**data.record, "test_split": fraction, "split_seed": seed}
    files = {name: data.files["train"] for name in splits} if data.files else {}
    return data._replace(splits=splits, record=record, files=files)


def _dataset_kind(args) -> str:
    if args.data is not None and args.data_dir is not None:
        raise UsageError("--data FILE and --data-dir DIR name two different data sets; give one "
                         "(--data-dir is the folder of the cat images)")
    if args.dataset is None:
        if args.data is not None:
            return _file_kind(args.data, "--data")
        return "cat" if args.data_dir is not None else "flower"
    if args.data is not None and args.dataset not in (*FILE_FORMATS, "football"):
        raise UsageError(f"--data FILE goes with --dataset npz, csv or football, not --dataset {args.dataset}")
    if args.data_dir is not None and args.dataset != "cat":
        raise UsageError(f"--data-dir goes with --dataset cat, not --dataset {args.dataset}")
    return args.dataset


def _file_kind(path: str, option: str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FILE_FORMATS:
        hint = "add --dataset npz or --dataset csv" if option == "--data" else "name it .npz or .csv"
        raise UsageError(f"cannot tell the format of {path!r} from its name; {hint}")
    return suffix


# ---------------------------------------------------------------------- info
def run_info(args) -> int:
    if args.model is not None:
        return _model_info(args.model)
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
    if any(row["backend"] == "dask" and row["usable"] for row in rows) or args.device is not None:
        try:
            print(f"dask cluster: {resolve_backend('dask', args.device).device.describe()}")
        except BackendError as exc:
            print(f"dask cluster: not usable: {exc}")
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


def _model_info(path: str) -> int:
    """Print a saved model's summary, then its metadata as ``name: value`` lines."""
    _, meta = read_model(path)
    net = Network.load(path)
    version = meta.get("format_version", 0)
    print(net.summary())
    print(f"file: {path}")
    print(f"format: {meta['format']} version {version}" + (" (written before format versions)" if version == 0 else ""))
    print(f"written by: dnn_xp {meta.get('version', 'unknown')}")
    print(f"iterations trained: {net.iterations_trained}")
    if meta.get("checkpoint") is not None:
        print(f"checkpoint: yes, costs recorded at {len(meta['checkpoint'].get('iterations', []))} iterations")
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
