"""Stage 7 — qualitative: coded interviews, code matrices, co-occurrence, agreement, quotes."""

from govsurvey.qualitative.coded import (
    Agreement, CodedInterviews, code_matrix, cooccurrence, intercoder_agreement, pseudonym_map, quotes, scrub,
)
from govsurvey.qualitative.privacy import pseudonymise

__all__ = ["CodedInterviews", "code_matrix", "cooccurrence", "intercoder_agreement", "Agreement", "quotes", "pseudonym_map", "scrub", "pseudonymise"]
