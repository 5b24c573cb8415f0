"""Moments: statistics from sufficient statistics, from chunks, from files and from Dask equal
those from the DataFrame (relative tolerance 1e-10)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import govsurvey as gs
from govsurvey.moments import Moments

REL = 1e-10


@pytest.fixture(scope="module")
def hs():
    from pathlib import Path

    data = pd.read_csv(Path(__file__).parent / "reference" / "data" / "HolzingerSwineford1939.csv")
    return data[[f"x{i}" for i in range(1, 10)] + ["ageyr"]].astype(float)


MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _same(a, b, rel=REL):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rel, atol=0)


def _check_all(m: Moments, hs: pd.DataFrame) -> None:
    items = [f"x{i}" for i in range(1, 10)]
    x = hs[items]
    for a, b in [(gs.reliability(m[items[:3]]), gs.reliability(x[items[:3]]))]:
        _same([a.alpha, a.alpha_std, a.lambda6, a.split_half, a.average_r, *a.alpha_ci], [b.alpha, b.alpha_std, b.lambda6, b.split_half, b.average_r, *b.alpha_ci])
        _same(a.omega_total, b.omega_total)
        _same(a.items.to_numpy(), b.items.to_numpy())
    _same(gs.kmo(m[items]).per_item, gs.kmo(x).per_item)
    _same([gs.bartlett(m[items]).chi2], [gs.bartlett(x).chi2])
    _same(gs.efa(m[items], 3, method="pa", rotation="promax").loadings, gs.efa(x, 3, method="pa", rotation="promax").loadings)
    _same(gs.efa(m[items], 3).loadings, gs.efa(x, 3).loadings)
    _same([gs.omega(m[items], 3).omega_h], [gs.omega(x, 3).omega_h])
    fa, fb = gs.cfa(m, MODEL), gs.cfa(hs, MODEL)
    for key in ("chisq", "cfi", "tli", "rmsea", "srmr", "gfi", "aic", "loglik"):
        _same(fa.fit[key], fb.fit[key])
    _same(fa.loadings[["estimate", "se", "std_all"]], fb.loadings[["estimate", "se", "std_all"]])
    _same(gs.htmt(m, MODEL), gs.htmt(hs, MODEL))
    ra, rb = gs.regress("x9 ~ x1 + x4 + ageyr", m), gs.regress("x9 ~ x1 + x4 + ageyr", hs)
    _same(ra.table.to_numpy(), rb.table.to_numpy())
    _same([ra.r2, ra.adj_r2, ra.f, ra.f_pvalue], [rb.r2, rb.adj_r2, rb.f, rb.f_pvalue])


def test_statistics_from_moments_equal_the_dataframe(hs):
    m = Moments.from_frame(hs)
    assert m.n == 301 and m.n_dropped == 0
    _same(m.cov.to_numpy(), hs.cov().to_numpy(), 1e-12)
    _check_all(m, hs)


def test_chunked_and_merged_moments(hs):
    whole = Moments.from_frame(hs)
    chunked = Moments.from_chunks((hs.iloc[i:i + 37] for i in range(0, len(hs), 37)), list(hs.columns))
    merged = Moments.from_frame(hs.iloc[:100]).merge(Moments.from_frame(hs.iloc[100:]))
    for m in (chunked, merged):
        assert m.n == whole.n
        _same(m.mean, whole.mean, 1e-13)
        _same(m.m2, whole.m2, 1e-11)
    _check_all(chunked, hs)


def test_moments_from_parquet_and_csv_files(hs, tmp_path):
    hs.to_parquet(tmp_path / "hs.parquet", row_group_size=50)
    hs.to_csv(tmp_path / "hs.csv", index=False)
    for name in ("hs.parquet", "hs.csv"):
        m = gs.data.moments_from_file(tmp_path / name, list(hs.columns), chunk_rows=64)
        _same(m.m2, Moments.from_frame(hs).m2, 1e-11)
    with pytest.raises(gs.UnknownItemError):
        gs.data.moments_from_file(tmp_path / "hs.parquet", ["nope"])


def test_missing_rows_are_counted(hs):
    data = hs.copy()
    data.iloc[[3, 7], 2] = np.nan
    m = Moments.from_frame(data)
    assert m.n == 299 and m.n_dropped == 2
    _same(m.cov.to_numpy(), data.dropna().cov().to_numpy(), 1e-12)
    with pytest.raises(gs.DataValidationError, match="infinite"):
        Moments.from_frame(data.assign(x1=np.inf))


def test_what_moments_cannot_do_is_a_clear_error(hs):
    m = Moments.from_frame(hs)
    with pytest.raises(gs.DataValidationError, match="raw responses"):
        gs.reliability(m[["x1", "x2", "x3"]], n_boot=100)
    with pytest.raises(gs.SpecificationError, match="MLR needs the raw data"):
        gs.cfa(m, MODEL, estimator="MLR")
    with pytest.raises(gs.SpecificationError, match="plain sums of column names"):
        gs.regress("x9 ~ x1 * ageyr", m)
    with pytest.raises(gs.UnknownItemError):
        m[["nope"]]


def test_moments_from_dask_on_a_local_cluster(hs):
    dd = pytest.importorskip("dask.dataframe")
    distributed = pytest.importorskip("dask.distributed")
    big = pd.concat([hs] * 4, ignore_index=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        m = Moments.from_dask(dd.from_pandas(big, npartitions=7))
    whole = Moments.from_frame(big)
    assert m.n == whole.n
    _same(m.m2, whole.m2, 1e-11)
    _same(gs.cfa(m, MODEL).fit["chisq"], gs.cfa(big, MODEL).fit["chisq"])


def test_duplicated_or_missing_columns_are_errors_not_silently_dropped():
    frame = pd.DataFrame(np.random.default_rng(0).random((6, 3)), columns=["x1", "x2", "x1"])
    with pytest.raises(gs.DataValidationError, match="x1 appear more than once"):
        gs.Moments.from_frame(frame)
    with pytest.raises(gs.UnknownItemError, match="not in the data: zz"):
        gs.Moments.from_frame(frame, ["x2", "zz"])
    with pytest.raises(gs.DataValidationError, match="no numeric columns"):
        gs.Moments.from_frame(pd.DataFrame({"a": ["x", "y"]}))
