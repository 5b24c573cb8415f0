"""Stage 6 — models: descriptives, group comparisons, correlations, regression family,
multilevel models, mediation and moderation."""

from govsurvey.models.describe import Correlations, GroupComparison, compare_groups, correlations, describe, frequencies
from govsurvey.models.mediation import Mediation, Moderation, mediation, moderation
from govsurvey.models.multilevel import Multilevel, multilevel
from govsurvey.models.regression import Logistic, Regression, hierarchical_regression, logistic, ordinal, regress

__all__ = [
    "describe", "frequencies", "correlations", "Correlations", "compare_groups", "GroupComparison", "regress", "Regression",
    "hierarchical_regression", "logistic", "ordinal", "Logistic", "multilevel", "Multilevel", "mediation", "Mediation",
    "moderation", "Moderation",
]
