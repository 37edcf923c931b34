"""Learning-rate schedules: the course's smoke values and torch.optim.lr_scheduler.LambdaLR."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dnn_xp import schedules

torch = pytest.importorskip("torch")


def test_course_smoke_values():
    assert schedules.inverse_time(1)(0.5, 2) == 0.16666666666666666
    assert schedules.staircase(1, interval=100)(0.5, 100) == 0.25
    assert math.isclose(schedules.staircase(0.25, interval=100)(0.3, 1000), 0.08571428571428572, rel_tol=1e-15)
    assert schedules.staircase(1, interval=100)(0.5, 99) == 0.5  # the floor is required
    assert schedules.constant()(0.5, 1234) == 0.5
    assert schedules.exponential(0.5)(1.0, 3) == 0.125


RULES = {
    "constant": (schedules.constant(), lambda e: 1.0),
    "inverse_time": (schedules.inverse_time(0.3), lambda e: 1 / (1 + 0.3 * e)),
    "staircase": (schedules.staircase(0.5, interval=3), lambda e: 1 / (1 + 0.5 * (e // 3))),
    "exponential": (schedules.exponential(0.9), lambda e: 0.9 ** e),
}


@pytest.mark.parametrize("name", RULES)
def test_rates_equal_lambda_lr_epoch_by_epoch(name):
    schedule, factor = RULES[name]
    lr0 = 0.2
    param = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(opt, factor)
    for epoch in range(10):
        assert math.isclose(schedule(lr0, epoch), opt.param_groups[0]["lr"], rel_tol=1e-15)
        opt.step()
        scheduler.step()


@pytest.mark.parametrize("name", RULES)
def test_schedules_take_array_epochs(name):
    schedule = RULES[name][0]
    epochs = np.arange(7)
    np.testing.assert_allclose(schedule(0.2, epochs), [schedule(0.2, int(e)) for e in epochs], rtol=1e-15)


def test_names_and_checks():
    assert repr(schedules.staircase(0.5)) == "staircase(decay_rate=0.5, interval=1000)"
    assert schedules.get_schedule(None).name == "constant"
    assert schedules.get_schedule("exponential", 0.8).parameters == {"rate": 0.8}
    assert schedules.get_schedule("inverse_time", 2).parameters == {"decay_rate": 2.0}
    with pytest.raises(ValueError, match="unknown schedule='cosine'; choose one of constant"):
        schedules.get_schedule("cosine")
    with pytest.raises(ValueError, match="decay_rate must be a positive"):
        schedules.inverse_time(-1)
    with pytest.raises(ValueError, match=r"rate must be a number in \(0, 1\]"):
        schedules.exponential(1.5)
