"""Factor rotations, replicating the R implementations users compare against.

- ``varimax``: ``stats::varimax`` (Kaiser normalisation, same iteration and stopping rule).
- ``oblimin``: ``GPArotation::oblimin`` (gradient projection ``GPFoblq``, gamma = 0,
  no normalisation, eps = 1e-5), as ``psych::fa(rotate="oblimin")`` calls it.
- ``promax``: ``psych::Promax`` after Kaiser row normalisation (``psych::kaiser``), power 4;
  numerically the same loadings as ``stats::promax``.
"""

from __future__ import annotations

import numpy as np

from govsurvey.errors import ConvergenceError

__all__ = ["varimax", "oblimin", "promax"]


def varimax(x: np.ndarray, *, normalize: bool = True, eps: float = 1e-5) -> tuple[np.ndarray, np.ndarray]:
    """Return (rotated loadings, rotation matrix) as ``stats::varimax``."""
    nc = x.shape[1]
    if nc < 2:
        return x.copy(), np.eye(nc)
    sc = np.sqrt((x**2).sum(axis=1)) if normalize else None
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


def promax(f: np.ndarray, *, m: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (loadings, Phi, rotmat) as ``psych::fa(rotate="promax")`` (kaiser + Promax)."""
    h2 = (f**2).sum(axis=1)
    weighted = f / np.sqrt(h2)[:, None]
    x, rot = varimax(weighted)
    q = x * np.abs(x) ** (m - 1)
    u = np.linalg.lstsq(x, q, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    z = x @ u
    u = rot @ u
    ui = np.linalg.inv(u)
    phi = ui @ ui.T
    return z * np.sqrt(h2)[:, None], phi, u
