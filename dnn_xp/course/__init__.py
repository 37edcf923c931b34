"""The course's assignments, one drop-in module each, on any backend's arrays.

A learner's notebook runs by changing its import line only:

- ``dnn_xp.course.logistic_regression``: course 1, week 2 (logistic regression, cat data)
- ``dnn_xp.course.planar``: course 1, week 3 (one tanh hidden layer, planar data)
- ``dnn_xp.course.deep``: course 1, week 4 (deep networks, step by step and the application)
- ``dnn_xp.course.initialization``, ``regularization``, ``gradient_checking``: course 2, week 1
- ``dnn_xp.course.optimization``: course 2, week 2 (mini-batches, momentum, Adam, decay)

``from dnn_xp.course import *`` gives week 4, as it always has.
"""

from .deep import *  # noqa: F401,F403
from .deep import __all__  # noqa: F401
