"""Learning-rate schedules: ``schedule(lr0, epoch) -> learning rate for that epoch``.

``epoch`` counts from 0; the rate of epoch ``i + 1`` is set after epoch ``i`` (the
course's recipe). Written with arithmetic only, so ``epoch`` may be a Python int or
a 0-d array (inside a compiled loop):

- :func:`constant`: ``lr0``;
- :func:`inverse_time`: ``lr0 / (1 + decay_rate * epoch)`` (the course's ``update_lr``);
- :func:`staircase`: ``lr0 / (1 + decay_rate * floor(epoch / interval))`` (``schedule_lr_decay``);
- :func:`exponential`: ``lr0 * rate ** epoch``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .validation import check_count, check_positive_number


class Schedule(NamedTuple):
    """A named rule ``rate(lr0, epoch)`` and the parameters it was built with."""

    name: str
    rate: Callable
    parameters: dict

    def __call__(self, lr0, epoch):
        return self.rate(lr0, epoch)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        return f"{self.name}({args})"


def constant() -> Schedule:
    """The same rate every epoch."""
    return Schedule("constant", lambda lr0, epoch: lr0, {})


def inverse_time(decay_rate=1.0) -> Schedule:
    """``lr0 / (1 + decay_rate * epoch)``."""
    decay_rate = check_positive_number(decay_rate, "decay_rate")
    return Schedule("inverse_time", lambda lr0, epoch: lr0 / (1 + decay_rate * epoch),
                    {"decay_rate": decay_rate})


def staircase(decay_rate=1.0, interval=1000) -> Schedule:
    """``lr0 / (1 + decay_rate * floor(epoch / interval))``: the rate drops every ``interval`` epochs."""
    decay_rate = check_positive_number(decay_rate, "decay_rate")
    interval = check_count(interval, "interval")
    return Schedule("staircase", lambda lr0, epoch: lr0 / (1 + decay_rate * (epoch // interval)),
                    {"decay_rate": decay_rate, "interval": interval})


def exponential(rate=0.95) -> Schedule:
    """``lr0 * rate ** epoch``, with ``0 < rate <= 1``."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate <= 1:
        raise ValueError(f"rate must be a number in (0, 1]; got {rate!r}")
    rate = float(rate)
    return Schedule("exponential", lambda lr0, epoch: lr0 * rate ** epoch, {"rate": rate})


SCHEDULES = {"constant": constant, "inverse_time": inverse_time, "staircase": staircase,
             "exponential": exponential}


def get_schedule(spec, decay_rate=None) -> Schedule:
    """A :class:`Schedule` from itself, ``None`` (constant) or a name; ``decay_rate`` feeds a named one.

    For ``"exponential"`` the ``decay_rate`` is its ``rate``.
    """
    if isinstance(spec, Schedule):
        return spec
    if spec is None:
        spec = "constant"
    if not isinstance(spec, str) or spec not in SCHEDULES:
        raise ValueError(f"unknown schedule={spec!r}; choose one of {', '.join(SCHEDULES)} "
                         f"or pass dnn_xp.schedules.staircase(decay_rate, interval) and the like")
    if spec == "constant" or decay_rate is None:
        return SCHEDULES[spec]()
    return SCHEDULES[spec](decay_rate)
