"""govsurvey — survey and mixed-methods research on grass-roots public-health emergency governance.

The package follows the data: instrument → data → screening → scoring → psychometrics →
models → qualitative → integration (and evaluation indices) → report → cli.

>>> import govsurvey as gs
>>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
>>> inst.name
'community_phe_survey'
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name → the module that provides it. Nothing is imported until a name is first used
# (PEP 562), so `import govsurvey` and the command line start at once, and scipy.stats,
# statsmodels, pingouin, matplotlib and WeasyPrint load only when a function needing them runs.
_EXPORTS: dict[str, str] = {
    "read_responses": "govsurvey.data", "read_delphi": "govsurvey.data", "DelphiPanel": "govsurvey.data",
    "read_ahp": "govsurvey.data", "AHPJudgements": "govsurvey.data", "read_codes": "govsurvey.data",
    "write_qdpx": "govsurvey.data", "write_identity_key": "govsurvey.data",
    "GovsurveyError": "govsurvey.errors", "InstrumentError": "govsurvey.errors",
    "UnknownItemError": "govsurvey.errors", "DataFormatError": "govsurvey.errors",
    "EncodingDetectionError": "govsurvey.errors", "DataValidationError": "govsurvey.errors",
    "UnmappedAnswerError": "govsurvey.errors", "OutOfRangeError": "govsurvey.errors",
    "InputFileNotFoundError": "govsurvey.errors", "SpecificationError": "govsurvey.errors",
    "GovsurveyWarning": "govsurvey.errors", "DataWarning": "govsurvey.errors",
    "NotPositiveDefiniteError": "govsurvey.errors", "ConvergenceError": "govsurvey.errors",
    "ModelSyntaxError": "govsurvey.errors", "ReportError": "govsurvey.errors", "AnalysisError": "govsurvey.errors",
    "HeywoodCaseWarning": "govsurvey.errors", "ConvergenceWarning": "govsurvey.errors",
    "delphi": "govsurvey.evaluation", "Delphi": "govsurvey.evaluation", "ahp": "govsurvey.evaluation",
    "AHP": "govsurvey.evaluation", "entropy_weights": "govsurvey.evaluation",
    "critic_weights": "govsurvey.evaluation", "objective_weights": "govsurvey.evaluation",
    "ObjectiveWeights": "govsurvey.evaluation", "combine_weights": "govsurvey.evaluation",
    "topsis": "govsurvey.evaluation", "TOPSIS": "govsurvey.evaluation", "grey_relational": "govsurvey.evaluation",
    "GreyRelational": "govsurvey.evaluation", "fuzzy_evaluation": "govsurvey.evaluation",
    "FuzzyEvaluation": "govsurvey.evaluation", "capacity_index": "govsurvey.evaluation",
    "CapacityIndex": "govsurvey.evaluation",
    "load_instrument": "govsurvey.instrument", "Instrument": "govsurvey.instrument", "Item": "govsurvey.instrument",
    "Construct": "govsurvey.instrument", "Scale": "govsurvey.instrument",
    "capacity_gaps": "govsurvey.integration", "joint_display": "govsurvey.integration",
    "link_codes": "govsurvey.integration",
    "describe": "govsurvey.models", "frequencies": "govsurvey.models", "correlations": "govsurvey.models",
    "Correlations": "govsurvey.models", "compare_groups": "govsurvey.models", "GroupComparison": "govsurvey.models",
    "regress": "govsurvey.models", "Regression": "govsurvey.models", "hierarchical_regression": "govsurvey.models",
    "logistic": "govsurvey.models", "ordinal": "govsurvey.models", "Logistic": "govsurvey.models",
    "multilevel": "govsurvey.models", "Multilevel": "govsurvey.models", "mediation": "govsurvey.models",
    "Mediation": "govsurvey.models", "moderation": "govsurvey.models", "Moderation": "govsurvey.models",
    "Moments": "govsurvey.moments",
    "item_analysis": "govsurvey.psychometrics", "reliability": "govsurvey.psychometrics",
    "Reliability": "govsurvey.psychometrics", "kmo": "govsurvey.psychometrics", "KMO": "govsurvey.psychometrics",
    "bartlett": "govsurvey.psychometrics", "Bartlett": "govsurvey.psychometrics",
    "parallel_analysis": "govsurvey.psychometrics", "ParallelAnalysis": "govsurvey.psychometrics",
    "efa": "govsurvey.psychometrics", "EFA": "govsurvey.psychometrics", "omega": "govsurvey.psychometrics",
    "Omega": "govsurvey.psychometrics", "harman_test": "govsurvey.psychometrics", "Harman": "govsurvey.psychometrics",
    "clf_test": "govsurvey.psychometrics", "CLFTest": "govsurvey.psychometrics",
    "marker_test": "govsurvey.psychometrics", "MarkerTest": "govsurvey.psychometrics",
    "cfa": "govsurvey.psychometrics", "CFA": "govsurvey.psychometrics", "sem": "govsurvey.psychometrics",
    "growth": "govsurvey.psychometrics", "SEM": "govsurvey.psychometrics", "htmt": "govsurvey.psychometrics",
    "fornell_larcker": "govsurvey.psychometrics", "invariance": "govsurvey.psychometrics",
    "content_validity": "govsurvey.psychometrics", "ContentValidity": "govsurvey.psychometrics",
    "polychoric": "govsurvey.psychometrics", "Polychoric": "govsurvey.psychometrics",
    "polyserial": "govsurvey.psychometrics", "Polyserial": "govsurvey.psychometrics",
    "ordinal_sample_stats": "govsurvey.psychometrics", "OrdinalSampleStats": "govsurvey.psychometrics",
    "ordinal_reliability": "govsurvey.psychometrics", "OrdinalReliability": "govsurvey.psychometrics",
    "CodedInterviews": "govsurvey.qualitative", "code_matrix": "govsurvey.qualitative",
    "cooccurrence": "govsurvey.qualitative", "intercoder_agreement": "govsurvey.qualitative",
    "Agreement": "govsurvey.qualitative", "quotes": "govsurvey.qualitative",
    "Result": "govsurvey.results",
    "reverse_code": "govsurvey.scoring", "score": "govsurvey.scoring", "score_importance": "govsurvey.scoring",
    "screen": "govsurvey.screening", "Screening": "govsurvey.screening", "missing_report": "govsurvey.screening",
    "MissingReport": "govsurvey.screening", "LittleTest": "govsurvey.screening",
    "Study": "govsurvey.study", "StudyResults": "govsurvey.study",
}
_SUBMODULES = ("datasets", "data", "errors", "evaluation", "instrument", "integration", "missing", "models", "moments",
               "psychometrics", "qualitative", "report", "resampling", "results", "scoring", "screening", "study")

__all__ = ["__version__", "datasets", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Import a public name (or a subpackage) on first use and keep it."""
    module = _EXPORTS.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"govsurvey.{name}")
    else:
        raise AttributeError(f"module 'govsurvey' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
