"""govsurvey beside the tools a user would otherwise pick, each workload in one process run.

    python benchmarks/run_all.py [--quick] [--skip-big]

Workloads
- validation pipeline on bfi-sized data (2,436 × 25, five factors): five alphas, KMO, Bartlett,
  5-factor CFA — govsurvey (from the DataFrame, and from one gs.Moments pass) vs
  pingouin.cronbach_alpha + factor_analyzer's calculate_kmo / calculate_bartlett_sphericity +
  semopy (fit, calc_stats, inspect(std_est=True): fit indices and standardized loadings, as
  gs.cfa returns); also govsurvey's full pipeline (adding EFA, omega and a 20-iteration
  parallel analysis) and, when Rscript is on the PATH, R psych + lavaan. The item subsets are
  selected inside the timed steps on both sides (``data[items]``, as a user writes it), and the
  three variants run in interleaved rounds (50 by default), so drift of the machine's speed
  during the run affects them alike;
- alpha bootstrap, 1,000 resamples: govsurvey vs pingouin.cronbach_alpha in a resampling loop;
- mediation bootstrap, n = 1,000, 5,000 resamples: govsurvey vs pingouin.mediation_analysis;
- OLS on 1,000,000 rows: govsurvey.regress vs statsmodels OLS;
- moments of 10,000,000 × 40 from memory (vs numpy's XᵀX) and streamed from Parquet, with the
  peak memory of the streaming process;
- near-duplicate screening, 10,000 respondents × 60 five-point items with an IP column and 100
  planted near-copies: gs.screen with and without the near_duplicate rule (the difference is
  the rule's cost) vs scipy's pdist(metric="hamming") over all pairs, which a user would
  otherwise reach for (and which cannot skip missing answers);
- FIML CFA, 2,000 × 30 (three correlated factors × 10 items, about 5 % missing at random:
  the first item always observed, each other item missing with a chance that rises with it):
  gs.cfa(missing="fiml"), with estimator ML and MLR, vs lavaan's cfa(missing="ml") when
  Rscript is on the PATH, timed inside R (only the cfa() calls); the χ² of both tools are
  printed side by side, so the comparison is of the same fit (``--only fiml_cfa`` runs it alone);
- bootstrap grid (issue 20: no cliffs on weak scales): gs.reliability(n_boot=1000) — alpha and
  omega CIs — on six five-point items at alpha ≈ 0, .3, .6, .9 and n = 100, 1,000, 10,000, beside
  pingouin.cronbach_alpha in a 1,000-resample loop (and psych::alpha(n.iter = 1000), timed in R,
  at n = 1,000 when Rscript is on the PATH); gs.mediation(n_boot=5000) at a·b = 0, .04, .16 and
  the same n, beside pingouin.mediation_analysis at n = 1,000; printed as a table with the worst
  cell over the best per n (``--only grid`` runs it alone);
- start-up: a fresh interpreter importing govsurvey vs one importing pandas (the goal: at most
  0.2 s more), and `govsurvey --help` (goal < 0.5 s);
- evaluation indices, 12 communities × 30 five-point items × 600 respondents: entropy weights +
  TOPSIS with 2,000-resample CIs (respondents resampled within communities) vs pandas'
  groupby.sample + pymcdm in a loop;
- ordinal, psych's bfi data (tests/reference/data/bfi.csv: the 2,436 complete rows of the 25
  six-point items A1..O5): gs.polychoric vs lavaan's lavCor(ordered=), and the five-factor
  gs.cfa(ordered=True) (WLSMV) vs lavaan's cfa(ordered=, estimator="WLSMV"), in interleaved
  rounds, lavaan timed inside R when Rscript is on the PATH; both tools' scaled χ² are printed
  side by side (``--only ordinal`` runs it alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")


def timed(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def timed_together(fns, repeat: int) -> list[float]:
    """Medians of ``repeat`` rounds in which every function runs once, in turn: a machine that
    speeds up or slows down during the run affects all of them alike."""
    runs: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, runs):
            t = time.perf_counter()
            fn()
            out.append(time.perf_counter() - t)
    return [statistics.median(r) for r in runs]


def bfi_like(n: int = 2436, seed: int = 1) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    phi = np.full((5, 5), 0.2)
    np.fill_diagonal(phi, 1)
    f = rng.multivariate_normal(np.zeros(5), phi, size=n)
    cols, lines = {}, []
    for j, name in enumerate("ACENO"):
        items = []
        for k in range(1, 6):
            lam = rng.uniform(0.5, 0.8)
            y = lam * f[:, j] + np.sqrt(1 - lam**2) * rng.normal(size=n)
            cols[f"{name}{k}"] = np.clip(np.round(3.5 + 1.2 * y), 1, 6)
            items.append(f"{name}{k}")
        lines.append(f"{name} =~ " + " + ".join(items))
    return pd.DataFrame(cols), "\n".join(lines)


def pipeline(repeat: int) -> list[tuple]:
    import factor_analyzer as fa_mod
    import pingouin as pg
    import semopy

    import govsurvey as gs

    data, model = bfi_like()
    scales = [[f"{s}{k}" for k in range(1, 6)] for s in "ACENO"]

    def ours_same():
        for items in scales:
            gs.reliability(data[items])
        gs.kmo(data)
        gs.bartlett(data)
        gs.cfa(data, model)

    def ours_moments():
        # the same steps from one pass over the data: what a re-run after dropping an item costs
        m = gs.Moments.from_frame(data)
        for items in scales:
            gs.reliability(m[items])
        gs.kmo(m)
        gs.bartlett(m)
        gs.cfa(m, model)

    def ours_full():
        ours_same()
        gs.efa(data, 5)
        gs.omega(data, 5)
        gs.parallel_analysis(data, n_iter=20, seed=1)

    def theirs():
        for items in scales:
            pg.cronbach_alpha(data[items])
        fa_mod.factor_analyzer.calculate_kmo(data)
        fa_mod.factor_analyzer.calculate_bartlett_sphericity(data)
        m = semopy.Model(model)
        m.fit(data)
        semopy.calc_stats(m)             # fit indices
        m.inspect(std_est=True)          # loadings with SEs and standardized values, as gs.cfa returns

    ours_same()
    ours_moments()
    theirs()
    fast = 10 * repeat     # millisecond workloads: more runs for a stable median
    a, d, b = timed_together([ours_same, ours_moments, theirs], fast)
    c = timed(ours_full, repeat)
    rows = [("validation pipeline, same steps (5 alphas, KMO, Bartlett, CFA)", a, "pingouin + factor_analyzer + semopy", b),
            ("  the same steps from one gs.Moments pass", d, "pingouin + factor_analyzer + semopy", b),
            ("validation pipeline, full (+ EFA, omega, parallel analysis)", c, "", float("nan"))]
    r_time = r_pipeline(data, model)
    if r_time is not None:
        rows.append(("validation pipeline, full", c, "R psych + lavaan (same steps + EFA, omega, fa.parallel)", r_time))
    return rows


def run_r(data: pd.DataFrame, script, timeout: int) -> list[float] | None:
    """Write ``data`` to a temporary CSV, run ``script(path)`` (R code reading it) with Rscript
    and return the numbers of its last output line; None without Rscript or when R fails."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "data.csv"
        data.to_csv(path, index=False)    # NaN is written as an empty field, which read.csv reads as NA
        out = subprocess.run(["Rscript", "-e", script(path.as_posix())], capture_output=True, text=True, timeout=timeout,
                             check=False)
        try:
            return [float(v) for v in out.stdout.strip().splitlines()[-1].split()]
        except (ValueError, IndexError):
            return None


def r_pipeline(data: pd.DataFrame, model: str) -> float | None:
    def script(path: str) -> str:
        return f"""suppressPackageStartupMessages({{library(psych); library(lavaan)}})
x <- read.csv("{path}"); m <- {json.dumps(model)}
f <- function() {{ for (s in c("A","C","E","N","O")) psych::alpha(x[, paste0(s, 1:5)]); psych::KMO(x); psych::cortest.bartlett(cor(x), n=nrow(x))
  suppressWarnings(psych::fa(x, 5)); suppressWarnings(psych::omega(x, 5, plot=FALSE)); suppressMessages(psych::fa.parallel(x, fa="fa", n.iter=20, plot=FALSE)); lavaan::cfa(m, data=x) }}
f(); t <- replicate(3, system.time(f())[["elapsed"]]); cat(median(t))"""

    vals = run_r(data, script, 600)
    return vals[0] if vals else None


def alpha_bootstrap(repeat: int) -> list[tuple]:
    import pingouin as pg

    from govsurvey.psychometrics.reliability import bootstrap_alpha

    data, _ = bfi_like()
    x = data[[f"A{k}" for k in range(1, 6)]]
    arr = x.to_numpy()

    def theirs():
        rng = np.random.default_rng(1)
        n = len(x)
        return [pg.cronbach_alpha(x.iloc[rng.integers(0, n, n)])[0] for _ in range(1000)]

    ours = timed(lambda: bootstrap_alpha(arr, n_boot=1000, seed=1), repeat)
    import govsurvey as gs

    full = timed(lambda: gs.reliability(x, n_boot=1000, seed=1), repeat)
    t = timed(theirs, 1)
    return [("alpha bootstrap, 1,000 resamples", ours, "pingouin.cronbach_alpha in a loop", t),
            ("reliability(n_boot=1000): alpha and omega CIs", full, "", float("nan"))]


def mediation(repeat: int) -> list[tuple]:
    import pingouin as pg

    import govsurvey as gs

    rng = np.random.default_rng(1)
    x = rng.normal(size=1000)
    m = 0.4 * x + rng.normal(size=1000)
    y = 0.3 * m + 0.2 * x + rng.normal(size=1000)
    df = pd.DataFrame({"x": x, "m": m, "y": y})
    gs.mediation(df, x="x", m="m", y="y", n_boot=100, seed=0)
    ours = timed(lambda: gs.mediation(df, x="x", m="m", y="y", n_boot=5000, seed=1), repeat)
    theirs = timed(lambda: pg.mediation_analysis(data=df, x="x", m="m", y="y", n_boot=5000, seed=1), max(1, repeat // 2))
    return [("mediation bootstrap, n = 1,000, 5,000 resamples", ours, "pingouin.mediation_analysis", theirs)]


def ols(repeat: int) -> list[tuple]:
    import statsmodels.api as sm

    import govsurvey as gs

    rng = np.random.default_rng(1)
    x = rng.normal(size=(1_000_000, 5))
    y = x @ np.array([0.3, -0.2, 0.1, 0.0, 0.5]) + rng.normal(size=1_000_000)
    df = pd.DataFrame(x, columns=[f"x{k}" for k in range(5)]).assign(y=y)
    formula = "y ~ x0 + x1 + x2 + x3 + x4"
    m = gs.Moments.from_frame(df)
    ours = timed(lambda: gs.regress(formula, df), repeat)
    via_moments = timed(lambda: gs.regress(formula, gs.Moments.from_frame(df)), repeat)
    theirs = timed(lambda: sm.OLS(df["y"], sm.add_constant(df[[f"x{k}" for k in range(5)]])).fit(), repeat)
    del m
    return [("OLS, 1,000,000 rows (formula interface)", ours, "statsmodels OLS (arrays)", theirs),
            ("OLS, 1,000,000 rows via one-pass Moments", via_moments, "statsmodels OLS (arrays)", theirs)]


def moments_big(repeat: int) -> list[tuple]:
    import govsurvey as gs

    rng = np.random.default_rng(1)
    x = rng.standard_normal((10_000_000, 40))
    xtx = timed(lambda: x.T @ x, repeat)
    ours = timed(lambda: gs.Moments.from_array(x, [f"v{k}" for k in range(40)]), repeat)
    rows = [("moments, 10,000,000 × 40 from memory", ours, "numpy XᵀX", xtx)]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "big.parquet"
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = [f"v{k}" for k in range(40)]
        with pq.ParquetWriter(path, pa.schema([(n, pa.float64()) for n in names])) as w:
            for start in range(0, len(x), 500_000):
                w.write_table(pa.Table.from_arrays([x[start:start + 500_000, k] for k in range(40)], names=names))
        x = None  # free the 3.2 GB before the streaming run
        # peak memory from VmHWM (ru_maxrss would carry the forked parent's 3 GB array across exec)
        code = ("import time, govsurvey as gs; t = time.perf_counter(); "
                f"m = gs.data.moments_from_file({str(path)!r}, {names!r}); "
                "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]; "
                "print(time.perf_counter() - t, int(hwm) / 1024)")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
        rows.append((f"moments streamed from Parquet (peak memory {float(out[1]):.0f} MB)", float(out[0]), "", float("nan")))
    return rows


def near_duplicates(repeat: int) -> list[tuple]:
    from scipy.spatial.distance import pdist

    import govsurvey as gs

    n, p, constructs = 10_000, 60, 10
    rng = np.random.default_rng(15)
    general = rng.normal(size=n)
    factors = 0.6 * general[:, None] + 0.8 * rng.normal(size=(n, constructs))
    lam = rng.uniform(0.6, 0.85, p)
    y = 0.5 + lam * factors[:, np.arange(p) // (p // constructs)] + np.sqrt(1 - lam**2) * rng.normal(size=(n, p))
    x = 1.0 + np.digitize(y, [-1.6, -0.7, 0.3, 1.3])
    x[rng.random(x.shape) < 0.02] = np.nan
    copies = rng.choice(n - 100, size=100, replace=False)
    x[n - 100:] = x[copies]
    x[n - 100 + np.arange(100), rng.integers(0, p, 100)] = np.nan          # one blank per copy
    items = [f"C{c}_{k}" for c in range(constructs) for k in range(1, p // constructs + 1)]
    data = pd.DataFrame(x, columns=items, index=pd.RangeIndex(1, n + 1, name="respondent"))
    data["_ip"] = [f"ip{k}" for k in range(n - 100)] + [f"ip{k}" for k in copies]
    body = ["name: bench", 'version: "1"', "languages: [en]", "title: {en: Bench}", "scales:", "  agree5:",
            "    type: likert", "    min: 1", "    max: 5", "    labels:", "      en: {1: a, 2: b, 3: c, 4: d, 5: e}",
            "constructs:"]
    for c in range(constructs):
        body += [f"  c{c}:", f"    label: {{en: C{c}}}", "    scale: agree5", "    items:"]
        body += [f"      - {{id: C{c}_{k}, text: {{en: Item}}}}" for k in range(1, p // constructs + 1)]
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "bench.yaml"
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
        inst = gs.load_instrument(path)
    found = gs.screen(data, inst, straightline=False).flags["near_duplicate"]
    assert found.iloc[n - 100:].mean() >= 0.9 and found.iloc[:n - 100].sum() == 0, "near-duplicate benchmark: wrong answer"
    on, off = timed_together([lambda: gs.screen(data, inst, straightline=False),
                              lambda: gs.screen(data, inst, straightline=False, near_duplicates=False)], repeat)
    theirs = timed(lambda: pdist(np.nan_to_num(x), metric="hamming"), 1)
    return [("near-duplicate rule alone, 10,000 × 60 (screen with − without)", on - off, "scipy pdist(hamming), all pairs", theirs),
            ("  gs.screen with the near_duplicate rule, 10,000 × 60", on, "", float("nan"))]


def fiml_data(n: int = 2000, seed: int = 3) -> tuple[pd.DataFrame, str]:
    rng = np.random.default_rng(seed)
    phi = np.full((3, 3), 0.3)
    np.fill_diagonal(phi, 1)
    f = rng.multivariate_normal(np.zeros(3), phi, size=n)
    lam = rng.uniform(0.6, 0.8, 30)
    y = lam * f[:, np.arange(30) // 10] + np.sqrt(1 - lam**2) * rng.normal(size=(n, 30))
    # MAR: x1 always observed; each other item missing with chance 1 / (1 + exp(3.3 − x1)),
    # which leaves about 5 % of all values missing
    p = 1 / (1 + np.exp(-(-3.3 + y[:, [0]])))
    y[:, 1:][rng.random((n, 29)) < p] = np.nan
    items = [f"x{k}" for k in range(1, 31)]
    model = "\n".join(f"f{j + 1} =~ " + " + ".join(items[10 * j:10 * j + 10]) for j in range(3))
    return pd.DataFrame(y, columns=items), model


def fiml_cfa(repeat: int) -> list[tuple]:
    import govsurvey as gs

    data, model = fiml_data()
    ml = gs.cfa(data, model, missing="fiml")
    mlr = gs.cfa(data, model, missing="fiml", estimator="MLR")
    a, b = timed_together([lambda: gs.cfa(data, model, missing="fiml"),
                           lambda: gs.cfa(data, model, missing="fiml", estimator="MLR")], repeat)
    share = float(data.isna().to_numpy().mean())
    rows = [(f"FIML CFA, 2,000 × 30, {share:.1%} missing (ML)", a, "", float("nan")),
            ("FIML CFA, the same, estimator MLR", b, "", float("nan"))]
    ours_chisq = (ml.fit["chisq"], mlr.fit["chisq_scaled"])
    print(f"fiml_cfa: govsurvey χ² {ours_chisq[0]:.6f}, MLR scaled χ² {ours_chisq[1]:.6f}")
    r = r_fiml_cfa(data, model, repeat)
    if r is not None:
        r_ml, r_mlr, r_chisq, r_scaled = r
        print(f"fiml_cfa: lavaan    χ² {r_chisq:.6f}, MLR scaled χ² {r_scaled:.6f}  (relative differences "
              f"{abs(ours_chisq[0] / r_chisq - 1):.1e}, {abs(ours_chisq[1] / r_scaled - 1):.1e})")
        rows = [(rows[0][0], a, 'lavaan cfa(missing="ml"), timed in R', r_ml),
                (rows[1][0], b, 'lavaan cfa(missing="ml", estimator="MLR"), timed in R', r_mlr)]
    return rows


def r_fiml_cfa(data: pd.DataFrame, model: str, repeat: int) -> tuple[float, float, float, float] | None:
    """lavaan's FIML fits, timed inside R (the cfa() calls only): medians of ``repeat`` rounds
    for ML and MLR, and the two χ² values."""
    def script(path: str) -> str:
        return f"""suppressPackageStartupMessages(library(lavaan))
x <- read.csv("{path}"); m <- {json.dumps(model)}
a <- cfa(m, data=x, missing="ml"); b <- cfa(m, data=x, missing="ml", estimator="MLR")
t <- replicate({repeat}, c(system.time(cfa(m, data=x, missing="ml"))[["elapsed"]],
                      system.time(cfa(m, data=x, missing="ml", estimator="MLR"))[["elapsed"]]))
cat(sprintf("%.17g", c(median(t[1, ]), median(t[2, ]), fitMeasures(a, "chisq"), fitMeasures(b, "chisq.scaled"))))"""

    vals = run_r(data, script, 1200)
    return (vals[0], vals[1], vals[2], vals[3]) if vals and len(vals) >= 4 else None


BFI_CSV = Path(__file__).resolve().parents[1] / "tests" / "reference" / "data" / "bfi.csv"


def bfi_ordinal() -> tuple[pd.DataFrame, str]:
    """psych's bfi: the 25 personality items (six categories each), complete rows only (2,436)."""
    names = ["agree", "consc", "extra", "neuro", "open"]
    items = [f"{s}{k}" for s in "ACENO" for k in range(1, 6)]
    data = pd.read_csv(BFI_CSV)[items].dropna().astype(int).reset_index(drop=True)
    model = "\n".join(f"{name} =~ " + " + ".join(f"{s}{k}" for k in range(1, 6)) for name, s in zip(names, "ACENO"))
    return data, model


def ordinal(repeat: int) -> list[tuple]:
    import govsurvey as gs

    data, model = bfi_ordinal()
    gs.polychoric(data)
    wlsmv = gs.cfa(data, model, ordered=True)
    a, b = timed_together([lambda: gs.polychoric(data),
                           lambda: gs.cfa(data, model, ordered=True)], repeat)
    n, p = data.shape
    rows = [(f"polychoric correlations, bfi {n:,} × {p}", a, "", float("nan")),
            (f"ordinal CFA (WLSMV), bfi {n:,} × {p}, 5 factors", b, "", float("nan"))]
    ours = wlsmv.fit["chisq_scaled"]
    print(f"ordinal: govsurvey WLSMV scaled χ² {ours:.6f}")
    r = r_ordinal(data, model, repeat)
    if r is not None:
        r_cor, r_cfa, r_scaled = r
        print(f"ordinal: lavaan    WLSMV scaled χ² {r_scaled:.6f}  (relative difference {abs(ours / r_scaled - 1):.1e})")
        rows = [(rows[0][0], a, "lavaan lavCor(ordered=), timed in R", r_cor),
                (rows[1][0], b, 'lavaan cfa(ordered=, estimator="WLSMV"), timed in R', r_cfa)]
    return rows


def r_ordinal(data: pd.DataFrame, model: str, repeat: int) -> tuple[float, float, float] | None:
    """lavaan's polychoric matrix and WLSMV fit, timed inside R (the lavCor() and cfa() calls
    only): medians of ``repeat`` rounds, and the scaled χ²."""
    def script(path: str) -> str:
        return f"""suppressPackageStartupMessages(library(lavaan))
x <- read.csv("{path}"); m <- {json.dumps(model)}; o <- names(x)
r <- lavCor(x, ordered=o); b <- cfa(m, data=x, ordered=o, estimator="WLSMV")
t <- replicate({repeat}, c(system.time(lavCor(x, ordered=o))[["elapsed"]],
                      system.time(cfa(m, data=x, ordered=o, estimator="WLSMV"))[["elapsed"]]))
cat(sprintf("%.17g", c(median(t[1, ]), median(t[2, ]), fitMeasures(b, "chisq.scaled"))))"""

    vals = run_r(data, script, 1200)
    return (vals[0], vals[1], vals[2]) if vals and len(vals) >= 3 else None


def _scale(rng: np.random.Generator, n: int, alpha: float, k: int = 6) -> pd.DataFrame:
    """k five-point items of one factor whose population alpha is about ``alpha``."""
    lam = np.sqrt(alpha / (k - (k - 1) * alpha)) if alpha > 0 else 0.0
    x = lam * rng.standard_normal(n)[:, None] + rng.standard_normal((n, k))
    return pd.DataFrame(np.clip(np.round(x * 1.1 + 3), 1, 5), columns=[f"q{i}" for i in range(1, k + 1)])


def _r_alpha_boot(data: pd.DataFrame, repeat: int) -> float | None:
    """psych::alpha(x, n.iter = 1000) timed inside R (median of ``repeat``), or None without R."""
    def script(path: str) -> str:
        return (f"suppressMessages(library(psych)); x <- read.csv('{path}'); ts <- c(); "
                f"for (i in 1:{repeat}) {{ t0 <- proc.time()[[3]]; invisible(suppressWarnings(alpha(x, n.iter = 1000))); "
                "ts <- c(ts, proc.time()[[3]] - t0) }; cat(median(ts), '\\n')")

    vals = run_r(data, script, 900)
    return vals[0] if vals else None


def grid(repeat: int) -> list[tuple]:
    """Reliability and mediation bootstraps over scale quality and n; prints its own table."""
    import pingouin as pg

    import govsurvey as gs

    rng = np.random.default_rng(5)
    rows, table = [], []
    for n in (100, 1_000, 10_000):
        cells = []
        for alpha in (0.0, 0.3, 0.6, 0.9):
            data = _scale(rng, n, alpha)
            gs.reliability(data, n_boot=50, seed=1)
            ours = timed(lambda: gs.reliability(data, n_boot=1000, seed=1), repeat)

            def loop(data=data, n=n):
                r = np.random.default_rng(1)
                return [pg.cronbach_alpha(data.iloc[r.integers(0, n, n)])[0] for _ in range(1000)]

            theirs = timed(loop, 1)
            r_time = _r_alpha_boot(data, max(1, repeat // 2)) if n == 1_000 else None
            cells.append(ours)
            table.append((f"reliability(n_boot=1000), n = {n:,}, alpha ≈ {alpha:.1f}", ours, theirs, r_time))
        rows.append((f"reliability(n_boot=1000), n = {n:,}: worst cell (alpha 0–.9)", max(cells),
                     f"worst ÷ best cell: {max(cells) / min(cells):.1f}×", float("nan")))
    for n in (100, 1_000, 10_000):
        cells = []
        for ab in (0.0, 0.2, 0.4):
            x = rng.normal(size=n)
            m = ab * x + rng.normal(size=n)
            df = pd.DataFrame({"x": x, "m": m, "y": ab * m + 0.2 * x + rng.normal(size=n)})
            gs.mediation(df, x="x", m="m", y="y", n_boot=100, seed=0)
            ours = timed(lambda: gs.mediation(df, x="x", m="m", y="y", n_boot=5000, seed=1), repeat)
            theirs = (timed(lambda: pg.mediation_analysis(data=df, x="x", m="m", y="y", n_boot=5000, seed=1), 1)
                      if n == 1_000 else float("nan"))
            cells.append(ours)
            table.append((f"mediation(n_boot=5000), n = {n:,}, a·b = {ab * ab:.2f}", ours, theirs, None))
        rows.append((f"mediation(n_boot=5000), n = {n:,}: worst cell (a·b 0–.16)", max(cells),
                     f"worst ÷ best cell: {max(cells) / min(cells):.1f}×", float("nan")))
    print(f"{'bootstrap grid cell':<52}{'govsurvey s':>12}{'pingouin loop s':>17}{'ratio':>8}{'R psych s':>11}")
    for name, ours, theirs, r_time in table:
        ratio = f"{theirs / ours:.1f}×" if np.isfinite(theirs) else ""
        print(f"{name:<52}{ours:>12.3f}{(f'{theirs:.3f}' if np.isfinite(theirs) else ''):>17}{ratio:>8}"
              f"{(f'{r_time:.3f}' if r_time else ''):>11}")
    return rows


def startup(repeat: int) -> list[tuple]:
    """Fresh-interpreter timings: import pandas, import govsurvey, and the CLI's --help."""
    exe = sys.executable
    cli = str(Path(exe).with_name("govsurvey"))

    def run(args: list[str]) -> float:
        times = []
        for _ in range(max(repeat, 5)):
            t0 = time.perf_counter()
            subprocess.run(args, capture_output=True, check=True)
            times.append(time.perf_counter() - t0)
        return statistics.median(times)

    t_pandas = run([exe, "-c", "import pandas"])
    t_gs = run([exe, "-c", "import govsurvey"])
    rows = [("import govsurvey (fresh interpreter)", t_gs, "import pandas (fresh interpreter)", t_pandas)]
    if Path(cli).exists():
        rows.append(("govsurvey --help", run([cli, "--help"]), "", float("nan")))
    return rows


def community_likert(n_units: int = 12, n_items: int = 30, per_unit: int = 50, seed: int = 1) -> pd.DataFrame:
    """Five-point answers of per_unit respondents in each of n_units communities (a community level per item)."""
    rng = np.random.default_rng(seed)
    site = np.repeat([f"社区{u:02d}" for u in range(n_units)], per_unit)
    level = rng.normal(scale=0.5, size=(n_units, n_items))[np.repeat(np.arange(n_units), per_unit)]
    codes = np.clip(np.rint(3 + level + rng.normal(size=(n_units * per_unit, n_items))), 1, 5)
    return pd.DataFrame(codes, columns=[f"q{j:02d}" for j in range(n_items)]).assign(site=site)


def evaluation(repeat: int) -> list[tuple]:
    from pymcdm.methods import TOPSIS
    from pymcdm.normalizations import vector_normalization
    from pymcdm.weights import entropy_weights as pymcdm_entropy

    import govsurvey as gs

    data = community_likert()              # 12 communities × 30 items × 600 respondents
    items = [c for c in data.columns if c != "site"]
    types = np.ones(len(items))
    gs.topsis(data, by="site", n_boot=50, seed=0)   # warm-up

    def ours_fixed():
        return gs.topsis(data, gs.entropy_weights(data, by="site"), by="site", n_boot=2000, seed=1)

    def theirs(recompute: bool):
        # what a user would otherwise write: resample respondents within each community with pandas, take the
        # community means, then pymcdm's entropy weights and TOPSIS — 2,000 times
        rng = np.random.default_rng(1)
        w = pymcdm_entropy(data.groupby("site")[items].mean().to_numpy())
        body = TOPSIS(vector_normalization)
        out = []
        for _ in range(2000):
            sample = data.groupby("site", group_keys=False).sample(frac=1.0, replace=True, random_state=rng)
            m = sample.groupby("site")[items].mean().to_numpy()
            out.append(body(m, pymcdm_entropy(m) if recompute else w, types))
        return np.quantile(np.array(out), [0.025, 0.975], axis=0)

    fixed = timed(ours_fixed, repeat)
    recomputed = timed(lambda: gs.topsis(data, "entropy", by="site", n_boot=2000, seed=1), repeat)
    return [("entropy + TOPSIS, 2,000-resample CIs, 12 units × 30 × 600 resp.", fixed,
             "pandas groupby.sample + pymcdm TOPSIS in a loop", timed(lambda: theirs(False), 1)),
            ("  same, entropy weights recomputed in every resample", recomputed,
             "pandas groupby.sample + pymcdm entropy + TOPSIS, loop", timed(lambda: theirs(True), 1))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--skip-big", action="store_true", help="skip the 10-million-row workloads")
    ap.add_argument("--only", choices=["pipeline", "near_duplicates", "fiml_cfa", "ordinal", "grid", "evaluation", "startup"], help="run one workload alone")
    args = ap.parse_args()
    repeat = 3 if args.quick else 5
    if args.only == "pipeline":
        rows = pipeline(repeat)
    elif args.only == "near_duplicates":
        rows = near_duplicates(repeat)
    elif args.only == "fiml_cfa":
        rows = fiml_cfa(repeat)
    elif args.only == "ordinal":
        rows = ordinal(repeat)
    elif args.only == "grid":
        rows = grid(repeat)
    elif args.only == "evaluation":
        rows = evaluation(repeat)
    elif args.only == "startup":
        rows = startup(repeat)
    else:
        rows = (pipeline(repeat) + alpha_bootstrap(repeat) + mediation(repeat) + ols(repeat) + near_duplicates(repeat)
                + fiml_cfa(repeat) + ordinal(repeat) + grid(repeat) + evaluation(repeat) + startup(repeat))
    if not args.skip_big and not args.only:
        rows += moments_big(max(2, repeat // 2))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, CPython {platform.python_version()}, numpy {np.__version__}")
    print(f"{'workload':<66}{'govsurvey s':>12}  {'other tool':<56}{'other s':>9}{'ratio':>8}")
    for name, ours, other, theirs in rows:
        ratio = f"{theirs / ours:.1f}×" if np.isfinite(theirs) else ""
        print(f"{name:<66}{ours:>12.3f}  {other:<56}{(f'{theirs:.3f}' if np.isfinite(theirs) else ''):>9}{ratio:>8}")


if __name__ == "__main__":
    main()
