"""Mediation bootstrap: govsurvey vs pingouin, side by side in one process.

Workload: simple mediation x → m → y with n = 1,000 cases and 5,000 bootstrap resamples,
the setting of issue 4's acceptance check. Prints medians of repeated runs and the ratio.

    python benchmarks/bench_mediation.py [--repeat 5] [--n 1000] [--boot 5000]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import pandas as pd


def data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    m = 0.4 * x + rng.normal(size=n)
    y = 0.3 * m + 0.2 * x + rng.normal(size=n)
    return pd.DataFrame({"x": x, "m": m, "y": y})


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--boot", type=int, default=5000)
    args = ap.parse_args()
    import govsurvey as gs
    import pingouin as pg

    df = data(args.n)
    gs.mediation(df, x="x", m="m", y="y", n_boot=100, seed=0)  # warm-up (imports, caches)
    ours = timed(lambda: gs.mediation(df, x="x", m="m", y="y", n_boot=args.boot, seed=1), args.repeat)
    theirs = timed(lambda: pg.mediation_analysis(data=df, x="x", m="m", y="y", n_boot=args.boot, seed=1), max(1, args.repeat // 2))
    g = gs.mediation(df, x="x", m="m", y="y", n_boot=args.boot, seed=1).table.loc["indirect"]
    p = pg.mediation_analysis(data=df, x="x", m="m", y="y", n_boot=args.boot, seed=1).set_index("path").loc["Indirect"]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    print(f"mediation bootstrap, n = {args.n}, {args.boot} resamples (median of runs)")
    print(f"  {'tool':<34}{'median s':>10}")
    print(f"  {'govsurvey.mediation':<34}{statistics.median(ours):>10.3f}")
    print(f"  {'pingouin.mediation_analysis':<34}{statistics.median(theirs):>10.3f}")
    print(f"  ratio (pingouin / govsurvey): {statistics.median(theirs) / statistics.median(ours):.1f}×")
    print(f"  indirect effect: govsurvey {g['estimate']:.5f} [{g['ci_low']:.5f}, {g['ci_high']:.5f}]; "
          f"pingouin {p['coef']:.5f} [{p.iloc[3]:.5f}, {p.iloc[4]:.5f}]")


if __name__ == "__main__":
    main()
