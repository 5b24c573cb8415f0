"""govsurvey — survey and mixed-methods research on grass-roots public-health emergency governance.

The package follows the data: instrument → data → screening → scoring → psychometrics →
models → qualitative → integration → report → cli.

>>> import govsurvey as gs
>>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
>>> inst.name
'community_phe_survey'
"""

from govsurvey import datasets
from govsurvey.data import read_codes, read_responses, write_identity_key, write_qdpx
from govsurvey.errors import (
    DataFormatError,
    DataValidationError,
    ConvergenceError,
    ConvergenceWarning,
    DataWarning,
    EncodingDetectionError,
    HeywoodCaseWarning,
    ModelSyntaxError,
    NotPositiveDefiniteError,
    GovsurveyError,
    GovsurveyWarning,
    InputFileNotFoundError,
    InstrumentError,
    OutOfRangeError,
    ReportError,
    AnalysisError,
    SpecificationError,
    UnknownItemError,
    UnmappedAnswerError,
)
from govsurvey.instrument import Construct, Instrument, Item, Scale, load_instrument
from govsurvey.models import (
    Correlations, GroupComparison, Logistic, Mediation, Moderation, Multilevel, Regression, compare_groups,
    correlations, describe, frequencies, hierarchical_regression, logistic, mediation, moderation, multilevel, ordinal, regress,
)
from govsurvey.psychometrics import (
    CFA, CLFTest, EFA, KMO, SEM, Bartlett, ContentValidity, Harman, MarkerTest, Omega, ParallelAnalysis, Reliability, bartlett,
    cfa, clf_test, content_validity, efa, fornell_larcker, growth, harman_test, htmt, invariance, item_analysis, kmo,
    marker_test, omega, parallel_analysis, reliability, sem,
)
from govsurvey.psychometrics import (
    OrdinalReliability, OrdinalSampleStats, Polychoric, ordinal_reliability, ordinal_sample_stats, polychoric,
)
from govsurvey.moments import Moments
from govsurvey.results import Result
from govsurvey.integration import capacity_gaps, joint_display, link_codes
from govsurvey.qualitative import Agreement, CodedInterviews, code_matrix, cooccurrence, intercoder_agreement, quotes
from govsurvey.scoring import reverse_code, score, score_importance
from govsurvey.screening import LittleTest, MissingReport, Screening, missing_report, screen
from govsurvey.study import Study, StudyResults

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Study",
    "StudyResults",
    "datasets",
    "load_instrument",
    "Instrument",
    "Item",
    "Construct",
    "Scale",
    "read_responses",
    "screen",
    "Screening",
    "missing_report",
    "MissingReport",
    "LittleTest",
    "reverse_code",
    "score",
    "item_analysis",
    "reliability",
    "Reliability",
    "kmo",
    "KMO",
    "bartlett",
    "Bartlett",
    "parallel_analysis",
    "ParallelAnalysis",
    "efa",
    "EFA",
    "omega",
    "Omega",
    "harman_test",
    "Harman",
    "clf_test",
    "CLFTest",
    "marker_test",
    "MarkerTest",
    "cfa",
    "CFA",
    "sem",
    "growth",
    "SEM",
    "htmt",
    "fornell_larcker",
    "invariance",
    "content_validity",
    "ContentValidity",
    "polychoric",
    "Polychoric",
    "ordinal_sample_stats",
    "OrdinalSampleStats",
    "ordinal_reliability",
    "OrdinalReliability",
    "describe",
    "frequencies",
    "correlations",
    "Correlations",
    "compare_groups",
    "GroupComparison",
    "regress",
    "Regression",
    "hierarchical_regression",
    "logistic",
    "ordinal",
    "Logistic",
    "multilevel",
    "Multilevel",
    "mediation",
    "Mediation",
    "moderation",
    "Moderation",
    "read_codes",
    "write_qdpx",
    "write_identity_key",
    "CodedInterviews",
    "code_matrix",
    "cooccurrence",
    "intercoder_agreement",
    "Agreement",
    "quotes",
    "capacity_gaps",
    "joint_display",
    "link_codes",
    "score_importance",
    "Moments",
    "Result",
    "GovsurveyError",
    "InstrumentError",
    "UnknownItemError",
    "DataFormatError",
    "EncodingDetectionError",
    "DataValidationError",
    "UnmappedAnswerError",
    "OutOfRangeError",
    "InputFileNotFoundError",
    "SpecificationError",
    "GovsurveyWarning",
    "DataWarning",
    "NotPositiveDefiniteError",
    "ConvergenceError",
    "ModelSyntaxError",
    "ReportError",
    "AnalysisError",
    "HeywoodCaseWarning",
    "ConvergenceWarning",
]
