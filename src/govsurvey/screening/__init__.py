"""Stage 3 — screening: out-of-range codes, missingness, speeders, straight-lining,
attention checks, exact and near duplicates and Mahalanobis outliers, all reported at once."""

from govsurvey.screening.screen import RULES, Screening, screen

__all__ = ["screen", "Screening", "RULES"]
