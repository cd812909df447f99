"""The reference loops' server: the model, its update counter and the server optimizer."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


class Server:
    """The model ``x`` (float64 NumPy), the update counter ``k``, the model one update
    earlier (``x_prev``; ``x^0`` before the first update) and the server optimizer (optax
    descent updates; plain SGD, updates ``-direction``, when ``None``)."""

    def __init__(self, x0: np.ndarray, optimizer=None):
        self.x = np.array(x0, dtype=np.float64)
        self.x_prev = self.x.copy()
        self.k = 0
        self.optimizer = optimizer
        self.opt_state = None if optimizer is None else optimizer.init(jnp.asarray(x0))

    def step(self, stepsize: float, direction: np.ndarray) -> None:
        """``x <- x + stepsize * optimizer(direction)`` (``x - stepsize * direction`` for SGD)."""
        if self.optimizer is None:
            updates = -np.asarray(direction, dtype=np.float64)
        else:
            u, self.opt_state = self.optimizer.update(jnp.asarray(direction), self.opt_state, jnp.asarray(self.x))
            updates = np.asarray(u, dtype=np.float64)
        self.x_prev = self.x
        self.x = self.x + stepsize * updates  # the engine's update, written again: no shared simulation code
        self.k += 1
