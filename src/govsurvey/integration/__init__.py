"""Stage 8 — integration: capacity gaps (importance–performance), joint displays that set
interview themes beside them, and quantitized codes linked to scores."""

from govsurvey.integration.gaps import capacity_gaps, joint_display, link_codes, CONVERGENCE_RULE

__all__ = ["capacity_gaps", "joint_display", "link_codes", "CONVERGENCE_RULE"]
