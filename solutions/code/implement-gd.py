import numpy as np


def gradient_descent(df, x0, eta, steps):
    """Gradient descent: x_{t+1} = x_t - eta * df(x_t); returns [x0, x1, ..., x_steps]."""
    x = np.asarray(x0, dtype=float)
    path = [x.copy()]
    for _ in range(steps):
        x = x - eta * np.asarray(df(x), dtype=float)
        path.append(x.copy())
    return path
