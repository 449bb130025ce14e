"""Roll-up of SPC results over many groups (sites)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._batch import SpcResult


def portfolio(result: SpcResult) -> dict[str, Any]:
    """Summarise the latest part of every group: improved, deteriorated, stable, assurance.

    Parameters
    ----------
    result : SpcResult
        Output of :func:`spc_batch`.

    Returns
    -------
    dict
        ``n_groups``; counts ``improved`` (variation icon special_cause_improvement),
        ``deteriorated`` (special_cause_concern), ``stable`` (common_cause),
        ``neutral_special`` (special cause with direction neutral or without a direction),
        ``no_data``; ``runs_signal`` (groups whose latest part has a runs signal);
        ``pass``, ``fail``, ``hit_and_miss`` and ``no_target`` from the assurance icon;
        ``rebase_proposed``; and ``groups``, a dict of the group ids in each category.

    Examples
    --------
    >>> from spreadscale.analytics.spc import spc_batch
    >>> r = spc_batch([1, 2, 1, 2, 1, 9, 5, 5, 6, 5, 4, 5], group=[1] * 6 + [2] * 6,
    ...               chart="i", improvement="increase", target=3)
    >>> roll = portfolio(r)
    >>> roll["n_groups"], roll["improved"], roll["stable"]
    (2, 1, 1)
    >>> roll["groups"]["improved"]
    [1]
    """
    s = result.summary
    grp = s["group"]
    last = np.ones(grp.size, bool)
    if grp.size > 1:
        last[:-1] = grp[1:] != grp[:-1]
    var = s["variation_type"][last]
    ass = s["assurance_type"][last]
    groups = grp[last]
    cats = {
        "improved": var == "special_cause_improvement",
        "deteriorated": var == "special_cause_concern",
        "stable": var == "common_cause",
        "neutral_special": np.isin(var, ["special_cause_neutral_high",
                                         "special_cause_neutral_low"]),
        "no_data": var == "no_data",
        "runs_signal": s["runs_signal"][last].astype(bool),
        "pass": ass == "consistent_pass",
        "fail": ass == "consistent_fail",
        "hit_and_miss": ass == "inconsistent",
        "no_target": ass == "",
        "rebase_proposed": np.array([v is not None for v in s["proposed_rebase"][last]],
                                    dtype=bool),
    }
    out: dict[str, Any] = {"n_groups": int(groups.size)}
    out.update({k: int(v.sum()) for k, v in cats.items()})
    out["groups"] = {k: [SpcResult._py(g) for g in groups[v]] for k, v in cats.items()}
    return out
