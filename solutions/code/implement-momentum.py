import numpy as np


def momentum_descent(df, x0, eta, beta, steps):
    """Heavy-ball momentum as in the lecture: g_t = beta g_{t-1} + df(x_t), x_{t+1} = x_t - eta g_t."""
    x = np.asarray(x0, dtype=float)
    g = None
    path = [x.copy()]
    for _ in range(steps):
        gradient = np.asarray(df(x), dtype=float)
        g = gradient if g is None else beta * g + gradient
        x = x - eta * g
        path.append(x.copy())
    return path
