"""Stage 4 — scoring: reverse keys, construct scores (mean or sum), prorating, higher-order scores."""

from govsurvey.scoring.score import check_codes, item_frame, reverse_code, score, score_importance

__all__ = ["reverse_code", "score", "score_importance", "check_codes", "item_frame"]
