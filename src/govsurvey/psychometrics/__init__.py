"""Stage 5 — psychometrics: item analysis, reliability, EFA, omega, CFA/SEM, validity, common-method variance."""

from govsurvey.psychometrics.common_method import CLFTest, MarkerTest, clf_test, marker_test
from govsurvey.psychometrics.factor import (
    EFA, KMO, Bartlett, Harman, Omega, ParallelAnalysis, bartlett, efa, harman_test, kmo, omega, parallel_analysis,
)
from govsurvey.psychometrics.polychoric import (
    OrdinalReliability, OrdinalSampleStats, Polychoric, ordinal_reliability, ordinal_sample_stats, polychoric,
)
from govsurvey.psychometrics.polyserial import Polyserial, polyserial
from govsurvey.psychometrics.reliability import Reliability, item_analysis, reliability
from govsurvey.psychometrics.sem import CFA, SEM, cfa, fornell_larcker, growth, htmt, invariance, sem
from govsurvey.psychometrics.validity import ContentValidity, content_validity

__all__ = [
    "item_analysis", "reliability", "Reliability", "kmo", "KMO", "bartlett", "Bartlett",
    "parallel_analysis", "ParallelAnalysis", "efa", "EFA", "omega", "Omega", "harman_test", "Harman",
    "cfa", "CFA", "sem", "SEM", "growth", "htmt", "fornell_larcker", "invariance", "content_validity", "ContentValidity",
    "clf_test", "CLFTest", "marker_test", "MarkerTest",
    "polychoric", "Polychoric", "polyserial", "Polyserial", "ordinal_sample_stats", "OrdinalSampleStats", "ordinal_reliability", "OrdinalReliability",
]
