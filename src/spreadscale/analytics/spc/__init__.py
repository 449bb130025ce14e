"""Statistical process control (SPC) for many sites at once.

Pure numpy/scipy. :func:`spc_batch` computes run and control charts for many series
from columnar arrays; :func:`spc` is the one-series convenience; :func:`funnel` compares
sites on one funnel plot; :func:`portfolio` rolls results up across sites. Semantics,
formulas and rule profiles are documented in ``docs/spc.md``.
"""

from __future__ import annotations

from ._batch import CHARTS, POINT_TYPES, SpcInputError, SpcResult, spc_batch
from ._single import spc
from .funnel import FunnelResult, funnel
from .portfolio import portfolio
from .profiles import PROFILES, RULE_CODES, RULE_DESCRIPTIONS, RuleProfile

__all__ = [
    "CHARTS",
    "POINT_TYPES",
    "PROFILES",
    "RULE_CODES",
    "RULE_DESCRIPTIONS",
    "FunnelResult",
    "RuleProfile",
    "SpcInputError",
    "SpcResult",
    "funnel",
    "portfolio",
    "spc",
    "spc_batch",
]
