"""Errors and warnings raised by govsurvey.

Every error is a :class:`GovsurveyError` and also inherits the built-in exception a
Python user would expect (``KeyError`` for an unknown name, ``ValueError`` for a bad
value, ``FileNotFoundError`` for a missing file), so ``except ValueError`` keeps working.
A message says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

__all__ = [
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
    "NotPositiveDefiniteError",
    "ConvergenceError",
    "ModelSyntaxError",
    "ReportError",
    "AnalysisError",
    "GovsurveyWarning",
    "DataWarning",
    "HeywoodCaseWarning",
    "ConvergenceWarning",
]


class GovsurveyError(Exception):
    """Base class of every error govsurvey raises on purpose."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else self.__class__.__name__


class InstrumentError(GovsurveyError, ValueError):
    """An instrument file (YAML or XLSForm) is malformed or inconsistent."""


class UnknownItemError(GovsurveyError, KeyError):
    """A name (item, construct, column, scale) is not known where it is used."""


class DataFormatError(GovsurveyError, ValueError):
    """A data file cannot be read as the format it claims to be."""


class EncodingDetectionError(DataFormatError, UnicodeError):
    """A text file is not in any encoding govsurvey can recognise, or not in the one given."""


class DataValidationError(GovsurveyError, ValueError):
    """Data values break a rule of the instrument (a code, a label, a type)."""


class UnmappedAnswerError(DataValidationError):
    """A text answer matches no label of the item's scale."""


class OutOfRangeError(DataValidationError):
    """A numeric code lies outside its scale's range or is not one of its codes."""


class InputFileNotFoundError(GovsurveyError, FileNotFoundError):
    """An input file named by the user does not exist."""


class SpecificationError(GovsurveyError, ValueError):
    """An argument or a study specification is invalid."""


class NotPositiveDefiniteError(GovsurveyError, ValueError):
    """A covariance or correlation matrix is singular or not positive definite."""


class ConvergenceError(GovsurveyError, RuntimeError):
    """An iterative estimator did not converge and its result cannot be used."""


class ModelSyntaxError(GovsurveyError, ValueError):
    """A model in lavaan syntax cannot be parsed or refers to unknown variables."""


class ReportError(GovsurveyError, RuntimeError):
    """A report format cannot be produced on this machine (a library or font is missing)."""


class AnalysisError(GovsurveyError, RuntimeError):
    """An analysis of a study failed in a way govsurvey did not check for; the message names
    the analysis and the underlying error (the study's other analyses still run)."""


class GovsurveyWarning(UserWarning):
    """Base class of govsurvey's warnings."""


class DataWarning(GovsurveyWarning):
    """Something in the data deserves attention but does not stop the computation."""


class HeywoodCaseWarning(GovsurveyWarning):
    """A variance estimate is negative or a communality reaches 1 (a Heywood case)."""


class ConvergenceWarning(GovsurveyWarning):
    """An iterative procedure stopped before meeting its convergence criterion."""


def preview(values, at_most: int = 5) -> str:
    """The first ``at_most`` values joined for an error message, with "and N more" when cut.

    >>> preview(["q1", "q2", "q3"], at_most=2)
    'q1, q2 and 1 more'
    """
    values = list(values)
    shown = ", ".join(str(v) for v in values[:at_most])
    return shown + (f" and {len(values) - at_most} more" if len(values) > at_most else "")
