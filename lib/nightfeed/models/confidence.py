"""Confidence transforms: how a raw interaction weight (plays, seconds watched, event weights)
becomes the value a model learns from.

Weights on real platforms are heavy-tailed (one play to hundreds of thousands); used raw, a few
heavy users and items dominate every fit. Hu, Koren and Volinsky scale them first:
`log` gives 1 + α·log(1 + w/ε); `binary` keeps only that an interaction happened; `raw` keeps w.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

CONFIDENCES = ("raw", "binary", "log")
PARAMS = {"confidence": "raw", "confidence_alpha": 1.0, "confidence_eps": 1.0}


def check(kind: str, alpha: float, eps: float) -> None:
    """Raises ValueError naming the problem with a transform's settings."""
    if kind not in CONFIDENCES:
        raise ValueError(f"unknown confidence {kind!r}; choose from {', '.join(CONFIDENCES)}")
    if kind == "log" and not (0 < alpha < np.inf and 0 < eps < np.inf):  # `not <` refuses nan too
        raise ValueError(f"confidence log needs finite alpha > 0 and eps > 0 (got alpha={alpha}, eps={eps})")


def apply(user_items: sp.csr_matrix, kind: str, alpha: float = 1.0, eps: float = 1.0) -> sp.csr_matrix:
    """The transformed matrix (a new CSR; `raw` returns the input). Non-positive weights are no
    interaction: they are dropped by every transform but `raw`."""
    if kind == "raw":
        return user_items
    out = user_items.copy()
    out.data = np.where(out.data > 0, out.data, 0).astype(np.float32)
    if kind == "binary":
        out.data[out.data > 0] = 1.0
    else:
        out.data = (1.0 + alpha * np.log1p(out.data / eps)) * (out.data > 0)
        out.data = out.data.astype(np.float32)
    out.eliminate_zeros()
    return out


def is_binary(user_items: sp.csr_matrix) -> bool:
    """True when every stored weight is the same: then every transform ranks alike."""
    data = user_items.data
    return not len(data) or bool(np.all(data == data[0]))


def candidates(user_items: sp.csr_matrix) -> list[dict]:
    """Transforms worth trying on this data, most often best first: on weighted data `log` with
    ε = 1 and with ε = the median weight (the scale of a typical interaction), then `binary`."""
    if is_binary(user_items):
        return [{"confidence": "binary"}]
    median = float(np.median(user_items.data[user_items.data > 0]))
    tries = [{"confidence": "log", "confidence_alpha": 1.0, "confidence_eps": 1.0}]
    if median > 2.0:
        tries.append({"confidence": "log", "confidence_alpha": 1.0, "confidence_eps": round(median, 3)})
    return tries + [{"confidence": "binary"}]
