"""Loading reference values and aligning factor solutions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent


def load(name: str) -> dict:
    return json.loads((HERE / "values" / name).read_text(encoding="utf-8"))


def align_factors(loadings: pd.DataFrame, reference: list[dict]) -> tuple[np.ndarray, list[int], np.ndarray]:
    """Match our factors to the reference's by absolute correlation, then fix signs.

    Returns the aligned loadings (items in the reference order), the column permutation
    and the signs, so Phi can be aligned the same way.
    """
    items = list(reference[0])
    ref = np.array([[col[i] for col in reference] for i in items])
    ours = loadings.loc[items].to_numpy()
    perm, signs = [], []
    for j in range(ref.shape[1]):
        free = [c for c in range(ours.shape[1]) if c not in perm]
        best = max(free, key=lambda c: abs(np.corrcoef(ours[:, c], ref[:, j])[0, 1]))
        perm.append(best)
        signs.append(np.sign(ours[:, best] @ ref[:, j]) or 1.0)
    signs = np.array(signs)
    return ours[:, perm] * signs, perm, signs
