"""Stage 3 — screening: out-of-range codes, missingness, speeders, straight-lining,
attention checks, exact and near duplicates and Mahalanobis outliers, all reported at once;
the missing-data report (patterns, EM estimates, Little's MCAR test)."""

from govsurvey.screening.missing import LittleTest, MissingReport, missing_report
from govsurvey.screening.screen import RULES, Screening, screen

__all__ = ["screen", "Screening", "RULES", "missing_report", "MissingReport", "LittleTest"]
