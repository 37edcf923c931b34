"""``fit``'s training options beyond full-batch gradient descent, checked once at the API boundary.

:class:`FitOptions` gathers the optimizer, mini-batching, learning-rate schedule,
L2, dropout and early-stopping arguments of :meth:`dnn_xp.Network.fit`, says
whether the plain full-batch loop suffices, and names the run for checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from numbers import Integral

from .optimizers import Optimizer, get_optimizer
from .regularization import check_keep_prob, check_l2
from .schedules import Schedule, get_schedule
from .training import Recipe
from .validation import check_count


@dataclass(frozen=True)
class FitOptions:
    optimizer: Optimizer
    batch_size: int | None
    epochs: int | None
    schedule: Schedule
    l2: float
    keep_probs: tuple
    shuffle_seed: int
    dropout_seed: int
    dropout_on_device: bool
    patience: int | None
    batch_chunks: tuple | None = None  # batch_order="chunks": the column counts of the chunks; None: the course's

    @classmethod
    def check(cls, hidden_layers: int, *, optimizer="gd", batch_size=None, epochs=None, schedule=None, l2=0.0,
              keep_prob=1.0, shuffle_seed=10, dropout_rng=1, patience=None, validation=None) -> "FitOptions":
        """Validated options, with errors that name the argument and the fix."""
        if batch_size is not None:
            batch_size = check_count(batch_size, "batch_size")
            if epochs is None:
                raise ValueError("batch_size needs epochs=N, the number of passes over the data")
            epochs = check_count(epochs, "epochs")
        elif epochs is not None:
            raise ValueError("epochs counts passes over mini-batches: give batch_size too "
                             "(full-batch training counts num_iterations)")
        if patience is not None:
            patience = check_count(patience, "patience")
            if validation is None:
                raise ValueError("patience needs validation=(X_val, Y_val), the data it watches")
        on_device = isinstance(dropout_rng, str) and dropout_rng == "device"
        for value, name in ((shuffle_seed, "shuffle_seed"), (1 if on_device else dropout_rng, "dropout_rng")):
            if isinstance(value, bool) or not isinstance(value, Integral) or value < 0:
                extra = ", or 'device' for the device's own generator" if name == "dropout_rng" else ""
                raise ValueError(f"{name} must be a non-negative integer seed of the host generator{extra}; "
                                 f"got {value!r}")
        return cls(get_optimizer(optimizer), batch_size, epochs, get_schedule(schedule), check_l2(l2),
                   check_keep_prob(keep_prob, hidden_layers), int(shuffle_seed), 1 if on_device else int(dropout_rng),
                   on_device, patience)

    @property
    def plain(self) -> bool:
        """Whether this is full-batch gradient descent at a constant rate with no regularization."""
        return (self.optimizer.name == "sgd" and self.batch_size is None and self.schedule.name == "constant"
                and not self.l2 and all(p == 1 for p in self.keep_probs))

    def in_chunks(self, sizes) -> "FitOptions":
        """These options with mini-batches in the chunked order over chunks of ``sizes`` columns."""
        return replace(self, batch_chunks=tuple(int(n) for n in sizes))

    def recipe(self, hidden, output) -> Recipe:
        return Recipe(hidden, output, self.optimizer, self.l2, self.keep_probs, self.batch_size, self.batch_chunks)

    def identity(self) -> dict:
        """What a checkpoint of this run records, so that resuming checks it is the same run."""
        return {"optimizer": repr(self.optimizer), "batch_size": self.batch_size, "schedule": repr(self.schedule),
                "l2": self.l2, "keep_prob": list(self.keep_probs), "shuffle_seed": self.shuffle_seed,
                "dropout_rng": "device" if self.dropout_on_device else self.dropout_seed, "patience": self.patience,
                **({} if self.batch_chunks is None else {"batch_chunks": list(self.batch_chunks)})}
