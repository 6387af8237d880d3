import numpy as np


def adam(df, x0, lr, steps, beta1=0.9, beta2=0.999, eps=1e-8):
    """Adam as PyTorch computes it, with bias correction; returns [x0, x1, ..., x_steps]."""
    x = np.asarray(x0, dtype=float)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    path = [x.copy()]
    for t in range(1, steps + 1):
        g = np.asarray(df(x), dtype=float)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        path.append(x.copy())
    return path
