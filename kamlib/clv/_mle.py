"""Maximum-likelihood plumbing shared by the CLV models.

Every model is fitted on the log of its (positive) parameters, so the optimiser never leaves the
valid region and needs no bounds or penalty. Standard errors come from the Hessian of the
log-likelihood in log space (central differences of the gradient), carried to the natural scale
by the delta method; confidence intervals are built in log space, so they stay positive.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import ndtri


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without meeting its tolerance; the best start is still used."""


def _blas_single_thread():
    """Context in which BLAS runs on one thread.

    scipy's L-BFGS-B calls BLAS on vectors of a handful of parameters; a multi-threaded
    OpenBLAS then spends far more time waking its threads than computing (on a busy 2-core
    machine, ~5 ms per iteration instead of microseconds).
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1, user_api="blas")


def newton_polish(
    negll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    fun: float,
    max_steps: int = 8,
    h: float = 1e-4,
) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """Finish a quasi-Newton fit with Newton steps on the gradient's finite-difference Hessian.

    L-BFGS-B stops where the likelihood is flat to its tolerance, which on a million accounts can
    leave the 4th significant digit of a parameter unsettled. A few Newton steps from there
    converge quadratically to the true optimum. A step is only taken if it does not make the
    likelihood worse (beyond rounding), so the polish cannot lose ground. Returns the parameters,
    the minimum, the Hessian at the result and whether the last Newton step was below 1e-9 in
    every log parameter (9 significant digits).
    """
    grad = lambda v: negll(v)[1]  # noqa: E731
    H = hessian(grad, x, h)
    g = grad(x)
    for _ in range(max_steps):
        try:
            step = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            return x, fun, H, False
        decrement = float(-g @ step)  # predicted decrease x 2; negative if H is not PD
        if not np.isfinite(decrement) or decrement < 0:
            return x, fun, H, False
        if np.abs(step).max() < 1e-9:  # log parameters: 9 significant digits
            return x, fun, H, True
        t = 1.0
        for _ls in range(20):
            cand = x + t * step
            f_new, g_new = negll(cand)
            if np.isfinite(f_new) and f_new <= fun + 1e-12 * abs(fun):
                break
            t /= 2
        else:
            return x, fun, H, False
        x, fun, g = cand, float(f_new), g_new
        H = hessian(grad, x, h)
    return x, fun, H, bool(np.abs(np.linalg.solve(H, g)).max() < 1e-6)


def chord_newton(
    negll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    H0: np.ndarray,
    max_steps: int = 40,
) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """Newton steps with a fixed approximate Hessian ``H0`` (the chord method), from a start
    near the optimum, then the Hessian at the result by differences of the gradient.

    For fits on many rows, where each gradient costs a pass over them: ``H0`` comes from a cheap
    fit on a subsample, each step costs one gradient and gains as many digits as ``H0`` is
    accurate (a few percent: one to two digits a step). A step is kept only if it does not make
    ``negll`` worse (beyond rounding). Stops, like :func:`newton_polish`, when the step is below
    1e-9 in every log parameter. Returns the parameters, the minimum, the Hessian at the
    result and whether it converged (False: the caller falls back to a full optimiser).
    """
    with _blas_single_thread():
        fun, g = negll(x)
        ok = False
        for _ in range(max_steps):
            try:
                step = -np.linalg.solve(H0, g)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(step)):
                break
            if np.abs(step).max() < 1e-9:
                ok = True
                break
            t = 1.0
            for _ls in range(20):
                f_new, g_new = negll(x + t * step)
                if np.isfinite(f_new) and f_new <= fun + 1e-12 * abs(fun):
                    break
                t /= 2
            else:
                break
            x, fun, g = x + t * step, float(f_new), g_new
        H = hessian(lambda v: negll(v)[1], x)
        if ok:
            try:
                ok = bool(np.abs(np.linalg.solve(H, g)).max() < 1e-6)
            except np.linalg.LinAlgError:
                ok = False
    return x, float(fun), H, ok


def maximise(
    negll: Callable[[np.ndarray], tuple[float, np.ndarray] | float],
    starts: Sequence[np.ndarray],
    jac: bool,
    all_starts: bool = False,
    polish: bool = True,
    with_hessian: bool = False,
) -> tuple[np.ndarray, float, bool] | tuple[np.ndarray, float, bool, np.ndarray]:
    """Minimise ``negll`` over log parameters from several starts; keep the best.

    The first start is tried alone; the others only when it fails to converge, or when
    ``all_starts`` is set. With ``polish`` (and a gradient, ``jac=True``), the best run is
    finished by :func:`newton_polish`. BLAS runs single-threaded meanwhile (see
    :func:`_blas_single_thread`). Returns the best log parameters, the minimum and whether the
    fit converged, and with ``with_hessian`` the Hessian of ``negll`` at the result too (the
    polish's own, so it is computed once; central differences of the gradient otherwise).
    """
    best: optimize.OptimizeResult | None = None
    with _blas_single_thread():
        for i, x0 in enumerate(starts):
            if i > 0 and best is not None and best.success and not all_starts:
                break
            try:
                res = optimize.minimize(
                    negll,
                    np.asarray(x0, float),
                    jac=jac,
                    method="L-BFGS-B",
                    # The bounds only stop runaway steps (e^±30); true optima sit far inside.
                    bounds=[(-30.0, 30.0)] * len(x0),
                    options={"maxiter": 2000, "ftol": 1e-13, "gtol": 1e-8, "maxls": 50},
                )
            except (FloatingPointError, ValueError):
                continue
            if not np.isfinite(res.fun):
                continue
            if best is None or res.fun < best.fun - 1e-9:
                best = res
        if best is None:
            raise RuntimeError("the likelihood could not be evaluated at any starting value")
        x, fun, ok = best.x, float(best.fun), bool(best.success)
        H = None
        if polish and jac:
            x, fun, H, newton_ok = newton_polish(negll, x, fun)
            # A Newton-converged optimum counts as converged even if L-BFGS-B had given up on a
            # flat likelihood first.
            ok = ok or newton_ok
        if with_hessian and H is None:
            H = hessian(lambda v: negll(v)[1], x)
    if not ok:
        warnings.warn(f"optimiser: {best.message}", ConvergenceWarning, stacklevel=3)
    return (x, fun, ok, H) if with_hessian else (x, fun, ok)


def hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Hessian by central differences of an analytic or accurate gradient."""
    k = len(x)
    H = np.empty((k, k))
    for i in range(k):
        e = np.zeros(k)
        e[i] = h
        H[:, i] = (grad(x + e) - grad(x - e)) / (2 * h)
    return (H + H.T) / 2


def numeric_grad(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Central-difference gradient, for models without an analytic one."""
    g = np.empty(len(x))
    for i in range(len(x)):
        e = np.zeros(len(x))
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def covariance_from_negll_hessian(H: np.ndarray) -> np.ndarray:
    """Inverse of the Hessian of the *negative* log-likelihood; NaN if it is not positive definite."""
    try:
        cov = np.linalg.inv(H)
        if np.any(np.linalg.eigvalsh(cov) <= 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        warnings.warn(
            "the Hessian is not positive definite: standard errors are not available",
            ConvergenceWarning,
            stacklevel=3,
        )
        cov = np.full_like(H, np.nan)
    return cov


def summary_frame(
    names: Sequence[str], log_params: np.ndarray, cov_log: np.ndarray, level: float = 0.95
) -> pd.DataFrame:
    """Estimates, standard errors and intervals (built in log space) for each parameter."""
    est = np.exp(log_params)
    se_log = np.sqrt(np.diag(cov_log))
    z = ndtri(0.5 + level / 2)
    return pd.DataFrame(
        {
            "estimate": est,
            "se": est * se_log,  # delta method: d exp(u) = exp(u) du
            "ci_low": np.exp(log_params - z * se_log),
            "ci_high": np.exp(log_params + z * se_log),
        },
        index=pd.Index(list(names), name="parameter"),
    )


class FittedModel:
    """Common attributes and helpers of the fitted CLV models.

    Subclasses define ``param_names`` and set ``params_`` (dict), ``log_likelihood_``,
    ``cov_log_`` (covariance of the log parameters), ``n_`` (observations) and ``converged_``.
    """

    param_names: tuple[str, ...] = ()

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit() first.")

    def _store_fit(self, log_params: np.ndarray, negll: float, cov_log: np.ndarray, n: int,
                   converged: bool) -> None:
        """Keep the result of a maximum-likelihood fit on the log parameters."""
        self.cov_log_ = cov_log
        self.params_ = dict(zip(self.param_names, np.exp(log_params)))
        self.log_likelihood_ = -negll
        self.n_ = n
        self.converged_ = converged

    def _p(self, params=None) -> tuple:
        """The fitted parameters, or ``params`` (e.g. one bootstrap draw), in ``param_names``
        order."""
        if params is None:
            self._check_fitted()
            return tuple(self.params_[k] for k in self.param_names)
        return tuple(params)

    @property
    def log_params_(self) -> np.ndarray:
        self._check_fitted()
        return np.log([self.params_[k] for k in self.param_names])

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Parameter estimates with standard errors and ``level`` confidence intervals."""
        self._check_fitted()
        return summary_frame(self.param_names, self.log_params_, self.cov_log_, level)

    def sample_params(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` parameter draws from the asymptotic normal of the log parameters (natural scale).

        Used for parametric-bootstrap intervals. Without a covariance, the point estimate is
        repeated (intervals then collapse to the estimate).
        """
        self._check_fitted()
        rng = np.random.default_rng(seed)
        mu = self.log_params_
        if not np.all(np.isfinite(self.cov_log_)):
            return np.exp(np.tile(mu, (n, 1)))
        return np.exp(rng.multivariate_normal(mu, self.cov_log_, size=n, method="cholesky"))

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}()"
        p = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({p}; LL={self.log_likelihood_:.2f}, n={self.n_})"
