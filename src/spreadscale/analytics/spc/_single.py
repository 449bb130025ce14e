"""One-series convenience wrapper around :func:`spc_batch`."""

from __future__ import annotations

from typing import Any

from numpy.typing import ArrayLike

from ._batch import SpcResult, spc_batch


def spc(y: ArrayLike, x: ArrayLike | None = None, n: ArrayLike | None = None, *,
        chart: str = "run", **kwargs: Any) -> SpcResult:
    """Compute one run or control chart; keyword arguments as in :func:`spc_batch`.

    Parameters
    ----------
    y : array_like
        Values (numerators when ``n`` is given).
    x : array_like, optional
        Ordering values (numbers or datetime64); default 1..len(y).
    n : array_like, optional
        Denominators or subgroup sizes.
    chart : str
        Chart type, see :data:`CHARTS`.
    **kwargs
        Any other :func:`spc_batch` argument (``rules``, ``freeze``, ``part`` ...).

    Returns
    -------
    SpcResult
        With a single group (id 0).

    Examples
    --------
    >>> r = spc([1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1], chart="i")
    >>> round(float(r.summary["cl"][0]), 4), round(float(r.summary["ucl"][0]), 4)
    (1.9444, 4.604)
    >>> r.points["point_type"][4]
    'special_cause_neutral_high'
    """
    return spc_batch(y, x=x, n=n, chart=chart, **kwargs)
