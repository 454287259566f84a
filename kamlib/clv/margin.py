"""The margin-multiple CLV: the transparent fallback when a purchase model cannot be fitted.

With a constant margin ``m`` per period, retention rate ``r`` and discount rate ``d`` (per
period), and the margin received at the end of each period the account is retained,

    CLV = m * r / (1 + d - r)            (infinite horizon)
    CLV = m * sum_{k=1..H} r^k / (1+d)^k  (horizon of H periods)

(Gupta & Lehmann 2003, "Customers as Assets"). The multiple ``r / (1 + d - r)`` is what a
manager can check on the back of an envelope: at r = 0.8, d = 0.1 it is 2.67 years of margin.
"""

from __future__ import annotations

import numpy as np

from kamlib.errors import ParameterError


def margin_multiple(retention, discount_rate, horizon: float | None = None):
    """The multiple of one period's margin that the account is worth.

    Parameters
    ----------
    retention : float or array
        Probability an account is retained from one period to the next, in [0, 1).
    discount_rate : float
        Discount rate per period.
    horizon : float, optional
        Number of periods; None = infinite.
    """
    r = np.asarray(retention, float)
    if np.any((r < 0) | (r >= 1)):
        raise ParameterError("retention must be in [0, 1) for the margin multiple.")
    q = r / (1.0 + discount_rate)
    if horizon is None:
        return r / (1.0 + discount_rate - r)
    # Geometric sum of q^k for k = 1..H (H may be fractional: a partial last year counts pro rata).
    return q * (1.0 - q ** float(horizon)) / (1.0 - q)


def margin_multiple_clv(margin, retention, discount_rate, horizon: float | None = None):
    """CLV = margin per period x :func:`margin_multiple`."""
    return np.asarray(margin, float) * margin_multiple(retention, discount_rate, horizon)
