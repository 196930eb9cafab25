"""A user's own algorithm for boundcheck: plain SGD as a NumPy step function.

``step(x, g, *, t, rng, eta)`` gets the iterate ``x`` and a stochastic gradient ``g`` (shapes
``(R, d)`` when called on the whole batch of replicas, ``(d,)`` per replica otherwise) and returns
the next iterate. ``boundcheck.api.numpy_algorithm`` makes it a batched algorithm of the engine's
protocol; it is vectorised here (NumPy broadcasting works for both shapes).
"""

from boundcheck.api import numpy_algorithm


def sgd_step(x, g, *, t, rng, eta=0.1):
    return x - eta * g


sgd = numpy_algorithm(sgd_step, name="sgd")
