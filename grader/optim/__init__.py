"""The optimizer core: objectives, update rules (right and wrong), traces, mini-batches.

Every reference answer of the grader is computed here, in float64 numpy,
following the lecture and PyTorch's documented ``torch.optim`` formulas.

* :mod:`grader.optim.objective`: :class:`Objective`, f with ∇f and ∇²f (sympy on demand);
* :mod:`grader.optim.rules`: GD/SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW as chains of
  links, gradient clipping, and the misconceptions :func:`ascent`, :func:`forgot_eta`, EMA momentum,
  Adam without bias correction, …;
* :mod:`grader.optim.schedules`: step-size schedules for any rule (inverse time, step, exponential,
  cosine, linear warm-up);
* :mod:`grader.optim.trace`: :func:`run` and the off-by-one slips;
* :mod:`grader.optim.batches`: full and mini-batch gradients, batches, epochs.

Importing this package does not import sympy or matplotlib.
"""

from grader.optim.batches import (
    batch_gradient,
    full_gradient,
    sgd_epoch,
    shuffled_batches,
    slipped_indices,
    updates_per_epoch,
    zero_based_slip,
)
from grader.optim.objective import Objective
from grader.optim.rules import (
    RULES,
    SGD,
    Adagrad,
    Adam,
    AdamW,
    Ascent,
    Momentum,
    RMSprop,
    Rule,
    ascent,
    clipped,
    forgot_eta,
    make_rule,
    scheduled,
)
from grader.optim.schedules import Cosine, Exponential, InverseTime, Schedule, StepDecay, Warmup
from grader.optim.trace import Trace, one_step_too_few, one_step_too_many, run, without_start

__all__ = [
    "RULES",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Ascent",
    "Cosine",
    "Exponential",
    "InverseTime",
    "Momentum",
    "Objective",
    "RMSprop",
    "Rule",
    "Schedule",
    "StepDecay",
    "Trace",
    "Warmup",
    "ascent",
    "batch_gradient",
    "clipped",
    "forgot_eta",
    "full_gradient",
    "make_rule",
    "one_step_too_few",
    "one_step_too_many",
    "run",
    "scheduled",
    "sgd_epoch",
    "shuffled_batches",
    "slipped_indices",
    "updates_per_epoch",
    "without_start",
    "zero_based_slip",
]
