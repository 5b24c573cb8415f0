"""Factor rotations, replicating the R implementations users compare against.

- ``varimax``: ``stats::varimax`` (Kaiser normalisation, same iteration and stopping rule).
- ``oblimin``: ``GPArotation::oblimin`` (gradient projection ``GPFoblq``, gamma = 0,
  no normalisation, eps = 1e-5), as ``psych::fa(rotate="oblimin")`` calls it.
- ``promax``: ``psych::fa(rotate="promax")`` = ``psych::kaiser(f, rotate="Promax")``: every step
  (varimax, target, least squares) on Kaiser row-normalised loadings, power 4, then denormalised.
- ``promax_stats``: ``stats::promax`` (what ``psych::principal(rotate="promax")`` calls): Kaiser-
  normalised varimax, then target and least squares on the denormalised varimax loadings.
- ``promax_spss``: SPSS FACTOR's promax (kappa 4) as its Algorithms manual gives it and Grieder &
  Steiner (2022) reproduce it (``EFAtools::PROMAX(type="SPSS")``): Kaiser-normalised varimax, the
  target from the row-normalised varimax loadings, least squares on the denormalised ones.

The three differ by up to ~0.05 in a loading (three components of HolzingerSwineford1939).
"""

from __future__ import annotations

import numpy as np

from govsurvey.errors import ConvergenceError

__all__ = ["varimax", "oblimin", "promax", "promax_stats", "promax_spss"]


def varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Return (rotated loadings, rotation matrix) as ``stats::varimax``. A row of zero loadings
    (an item no factor explains) has no direction to normalise and is left out of the criterion
    (stats::varimax would divide by zero and fail)."""
    nc = x.shape[1]
    if nc < 2:
        return x.copy(), np.eye(nc)
    sc = np.sqrt((x**2).sum(axis=1)) if normalize else None
    if normalize:
        sc = np.where(sc > 0, sc, 1.0)
    xn = x / sc[:, None] if normalize else x
    p = xn.shape[0]
    tt = np.eye(nc)
    d = 0.0
    for _ in range(1000):
        z = xn @ tt
        b = xn.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(b)
        tt = u @ vt
        dpast, d = d, s.sum()
        if d < dpast * (1 + eps):
            break
    z = xn @ tt
    if normalize:
        z = z * sc[:, None]
    return z, tt


def _vgq_oblimin(l: np.ndarray, gam: float = 0.0) -> tuple[np.ndarray, float]:
    k = l.shape[1]
    x = (l**2) @ (1 - np.eye(k))
    if gam != 0:
        p = l.shape[0]
        x = (np.eye(p) - gam / p) @ x
    return l * x, float((l**2 * x).sum() / 4)


def oblimin(a: np.ndarray, *, gam: float = 0.0, eps: float = 1e-5, maxit: int = 1000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (loadings, Phi, Th) as ``GPArotation::oblimin`` (GPFoblq)."""
    k = a.shape[1]
    tmat = np.eye(k)
    al = 1.0
    l = a @ np.linalg.inv(tmat).T
    gq, f = _vgq_oblimin(l, gam)
    g = -(l.T @ gq @ np.linalg.inv(tmat)).T
    converged = False
    for _ in range(maxit + 1):
        gp = g - tmat @ np.diag((tmat * g).sum(axis=0))
        s = np.sqrt(np.trace(gp.T @ gp))
        if s < eps:
            converged = True
            break
        al *= 2
        for _ in range(11):
            x = tmat - al * gp
            v = 1 / np.sqrt((x**2).sum(axis=0))
            tmatt = x @ np.diag(v)
            l = a @ np.linalg.inv(tmatt).T
            gqt, ft = _vgq_oblimin(l, gam)
            if f - ft > 0.5 * s**2 * al:
                break
            al /= 2
        tmat = tmatt
        f = ft
        g = -(l.T @ gqt @ np.linalg.inv(tmatt)).T
    if not converged:
        raise ConvergenceError("The oblimin rotation did not converge in 1000 iterations. Fix: try rotation='promax'.")
    return l, tmat.T @ tmat, tmat


def _promax_fit(x: np.ndarray, target: np.ndarray, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares fit of the varimax loadings ``x`` to ``target`` (``lm.fit(x, Q)``), columns
    rescaled so the factors have unit variance; (pattern, Phi, rotation matrix from the unrotated)."""
    u = np.linalg.lstsq(x, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    z = x @ u
    u = rot @ u
    ui = np.linalg.inv(u)
    phi = ui @ ui.T
    sd = np.sqrt(np.diag(phi))
    return z, phi / np.outer(sd, sd), u


def promax(f: np.ndarray, *, m: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (loadings, Phi, rotmat) as ``psych::fa(rotate="promax")``, i.e.
    ``psych::kaiser(f, rotate="Promax")``: rows scaled to unit length, varimax, target
    x·|x|^(m−1), least squares, rows scaled back."""
    h = np.sqrt((f**2).sum(axis=1))
    x, rot = varimax(f / h[:, None])
    z, phi, u = _promax_fit(x, x * np.abs(x) ** (m - 1), rot)
    return z * h[:, None], phi, u


def promax_stats(f: np.ndarray, *, m: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (loadings, Phi, rotmat) as ``stats::promax`` (``psych::principal(rotate="promax")``,
    whose Phi is ``cov2cor(solve(rotmat) %*% t(solve(rotmat)))``): Kaiser-normalised varimax, then
    target x·|x|^(m−1) and least squares on the varimax loadings as they are."""
    x, rot = varimax(f)
    return _promax_fit(x, x * np.abs(x) ** (m - 1), rot)


def promax_spss(f: np.ndarray, *, m: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (loadings, Phi, rotmat) as SPSS FACTOR's promax with Kaiser normalisation, kappa ``m``:
    Kaiser-normalised varimax (run to 1e-10), target p_ij = |a*_ij|^(m+1)/a*_ij from the varimax
    loadings a_ij row-normalised (a*_ij = a_ij/h_i), least squares on the varimax loadings a.

    Transcribed from the SPSS Algorithms manual as Grieder & Steiner (2022) reproduce SPSS's output
    (``EFAtools::PROMAX(type="SPSS")``); not checked here against SPSS itself."""
    x, rot = varimax(f, eps=1e-10)
    xn = x / np.sqrt((x**2).sum(axis=1))[:, None]
    return _promax_fit(x, xn * np.abs(xn) ** (m - 1), rot)
