"""Stage 5 — psychometrics: item analysis, reliability, EFA, omega, CFA/SEM, validity."""

from govsurvey.psychometrics.factor import (
    EFA, KMO, Bartlett, Harman, Omega, ParallelAnalysis, bartlett, efa, harman_test, kmo, omega, parallel_analysis,
)
from govsurvey.psychometrics.reliability import Reliability, item_analysis, reliability

__all__ = [
    "item_analysis", "reliability", "Reliability", "kmo", "KMO", "bartlett", "Bartlett",
    "parallel_analysis", "ParallelAnalysis", "efa", "EFA", "omega", "Omega", "harman_test", "Harman",
]
