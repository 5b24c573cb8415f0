"""A deterministic simulator of the example study's expert files: a two-round Delphi
consultation and AHP judgement matrices over the evaluation index system the bundled
instrument defines (capacity → three life-cycle stages → nine dimensions).

- ``experts_delphi.csv``: 15 experts × 2 rounds, importance 1–5 of the 3 stages and 9
  dimensions (headed by their Chinese labels, as experts see them), with each expert's
  familiarity (熟悉程度) and judgement bases (实践经验 … 直观感觉: 大/中/小) in round 1. In
  round 1 the experts disagree on 培训与宣传教育 (training and awareness: CV above 0.25, so
  the usual rule would not keep it); after feedback they converge in round 2, where every
  indicator is kept and Kendall's W rises.
- ``experts_ahp.csv``: 5 experts' judgement matrices (long layout: expert, node, row,
  column, value, with fractions written "1/3") for the goal and the three stages, drawn
  around known weights and rounded to Saaty's scale; expert E4's matrix of the pre-event
  stage reverses one judgement, so its CR exceeds 0.10 and the warning is exercised.

Regenerate with ``python -m govsurvey.datasets.experts`` (or through
:func:`govsurvey.datasets.write_example_study`). Same seed → identical files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from govsurvey.data.files import write_atomic

__all__ = ["simulate_experts", "write_expert_files", "TRUE_WEIGHTS", "DELPHI_IMPORTANCE", "EXPERT_SEED", "N_EXPERTS",
           "N_AHP_EXPERTS", "FILES"]

EXPERT_SEED = 20261126
N_EXPERTS = 15
N_AHP_EXPERTS = 5
FILES = {"delphi": "experts_delphi.csv", "ahp": "experts_ahp.csv"}
#: The local weights the AHP experts' judgements are drawn around (node → criterion → weight).
TRUE_WEIGHTS = {
    "capacity": {"pre_event": 0.45, "during_event": 0.35, "post_event": 0.20},
    "pre_event": {"plans": 0.30, "reserves": 0.35, "warning": 0.22, "training": 0.13},
    "during_event": {"response": 0.45, "information": 0.25, "grid": 0.30},
    "post_event": {"recovery": 0.60, "psych_support": 0.40},
}
#: Mean importance (1–5) of each indicator in the experts' minds.
DELPHI_IMPORTANCE = {
    "pre_event": 4.6, "during_event": 4.7, "post_event": 4.2,
    "plans": 4.5, "reserves": 4.7, "warning": 4.4, "training": 3.9,
    "response": 4.7, "information": 4.3, "grid": 4.4, "recovery": 4.1, "psych_support": 4.0,
}
FAMILIARITY = ("很熟悉", "熟悉", "一般")
BASES = ("实践经验", "理论分析", "参考国内外文献", "直观感觉")
SAATY = np.array([1 / k for k in range(9, 1, -1)] + list(range(1, 10)), dtype=float)


def _labels() -> dict[str, str]:
    from govsurvey.datasets import instrument_path
    from govsurvey.instrument import load_instrument

    inst = load_instrument(instrument_path("community_phe_survey"))
    return {name: c.label["zh"] for name, c in inst.constructs.items()}


def _delphi(rng: np.random.Generator, labels: dict[str, str]) -> pd.DataFrame:
    """One row per expert and round: familiarity and bases in round 1, ratings 1–5."""
    names = list(DELPHI_IMPORTANCE)
    leniency = rng.normal(0, 0.25, N_EXPERTS)            # some experts rate everything higher
    latent = np.array([DELPHI_IMPORTANCE[n] for n in names])
    spread = np.where(np.array(names) == "training", 1.35, 0.55)      # round 1: disagreement on training
    rows = []
    first = latent + leniency[:, None]
    for rnd in (1, 2):
        noise = rng.normal(0, 1, (N_EXPERTS, len(names))) * (spread if rnd == 1 else 0.4)
        if rnd == 1:
            x = latent + leniency[:, None] + noise
        else:        # after feedback each expert moves toward the panel's round-1 mean
            x = 0.5 * first + 0.5 * first.mean(axis=0) + noise
        ratings = np.clip(np.rint(x), 1, 5).astype(int)
        if rnd == 1:
            first = ratings.astype(float)
        for e in range(N_EXPERTS):
            row = {"专家编号": f"E{e + 1:02d}", "轮次": rnd}
            if rnd == 1:
                row["熟悉程度"] = FAMILIARITY[min(2, int(rng.choice(3, p=[0.4, 0.45, 0.15])))]
                row.update({b: ("大", "中", "小")[int(rng.choice(3, p=p))] for b, p in zip(
                    BASES, ([0.6, 0.3, 0.1], [0.5, 0.4, 0.1], [0.4, 0.4, 0.2], [0.2, 0.4, 0.4]))})
            else:
                row.update({"熟悉程度": "", **{b: "" for b in BASES}})
            row.update({labels[n]: int(v) for n, v in zip(names, ratings[e])})
            rows.append(row)
    return pd.DataFrame(rows)


def _fraction(x: float) -> str:
    """A Saaty-scale value as experts write it: 3, 1/3."""
    return str(int(round(x))) if x >= 1 else f"1/{int(round(1 / x))}"


def _ahp(rng: np.random.Generator, labels: dict[str, str]) -> pd.DataFrame:
    """Long layout: expert, node, row, column, value (upper triangle), judgements drawn around
    the true weights and rounded to Saaty's scale; E4 reverses one pre-event judgement."""
    rows = []
    for e in range(N_AHP_EXPERTS):
        expert = f"E{e + 1:02d}"
        for node, weights in TRUE_WEIGHTS.items():
            crit, w = list(weights), np.array(list(weights.values()))
            tilt = np.exp(rng.normal(0, 0.25, len(w)))          # the expert's own view of the weights
            v = w * tilt
            for i in range(len(crit)):
                for j in range(i + 1, len(crit)):
                    ratio = v[i] / v[j] * np.exp(rng.normal(0, 0.15))
                    a = float(SAATY[np.argmin(np.abs(np.log(SAATY) - np.log(ratio)))])
                    if expert == "E04" and node == "pre_event" and (crit[i], crit[j]) == ("plans", "training"):
                        a = 1 / 3                                   # reversed: plans judged less important than training
                    rows.append({"专家编号": expert, "判断矩阵": labels[node], "行指标": labels[crit[i]],
                                 "列指标": labels[crit[j]], "判断值": _fraction(a)})
    return pd.DataFrame(rows)


def simulate_experts(seed: int = EXPERT_SEED) -> dict[str, pd.DataFrame]:
    """The two expert tables (``delphi``, ``ahp``) as written to the files. Same seed → same tables."""
    rng = np.random.default_rng(seed)
    labels = _labels()
    return {"delphi": _delphi(rng, labels), "ahp": _ahp(rng, labels)}


def write_expert_files(folder: str | Path, seed: int = EXPERT_SEED) -> dict[str, Path]:
    """Write ``experts_delphi.csv`` and ``experts_ahp.csv`` (UTF-8 with BOM, which Excel opens
    correctly) into ``folder``; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tables = simulate_experts(seed)
    out = {}
    for key, name in FILES.items():
        out[key] = write_atomic(folder / name, lambda p, t=tables[key]: t.to_csv(p, index=False, encoding="utf-8-sig",
                                                                                 lineterminator="\n"))
    return out


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    from govsurvey.datasets import example_dir

    for path in write_expert_files(example_dir()).values():
        print(path)
