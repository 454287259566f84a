"""CLV: what each account is worth, how sure we are, and how much it may cost to serve it.

One entry point, :func:`run` (the CLV step; :mod:`~kamlib.clv.entry`), returning a
:class:`~kamlib.clv.entry.CLVResult`. The modules it runs: :mod:`~kamlib.clv.prep` (purchase
occasions to the RFM summary), :mod:`~kamlib.clv.purchase` (the purchase model's CLV:
:mod:`~kamlib.clv.bgnbd` or :mod:`~kamlib.clv.paretonbd` with :mod:`~kamlib.clv.gammagamma`,
valued by :mod:`~kamlib.clv.value`; else :mod:`~kamlib.clv.margin`), :mod:`~kamlib.clv.holdout`
(the forecast tested on a holdout period) and :mod:`~kamlib.clv.contracts` (annual contracts:
:mod:`~kamlib.clv.sbg`). :mod:`~kamlib.clv.simulate` draws data from the models, for tests.

``import kamlib.clv`` stays cheap: :func:`run` is imported on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run", "CLVResult"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kamlib.clv import entry

        return getattr(entry, name)
    raise AttributeError(f"module 'kamlib.clv' has no attribute {name!r}")
