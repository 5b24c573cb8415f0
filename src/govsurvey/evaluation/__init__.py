"""Evaluation index systems (评价指标体系): expert screening and weights (Delphi, AHP),
objective weights from the survey (entropy, CRITIC), and ranking or grading of units
(TOPSIS, grey relational analysis, fuzzy comprehensive evaluation); the capacity index per
community that joins them to the capacity gaps and the interviews (:func:`capacity_index`).

This stage comes after scoring and sits beside :mod:`govsurvey.integration`.
"""

from govsurvey.evaluation.ahp import AHP, ahp
from govsurvey.evaluation.delphi import Delphi, delphi
from govsurvey.evaluation.fuzzy import FuzzyEvaluation, fuzzy_evaluation
from govsurvey.evaluation.index import CapacityIndex, capacity_index
from govsurvey.evaluation.ranking import TOPSIS, GreyRelational, grey_relational, topsis
from govsurvey.evaluation.weights import ObjectiveWeights, combine_weights, critic_weights, entropy_weights, objective_weights

__all__ = ["CapacityIndex", "capacity_index", "AHP", "ahp", "Delphi", "delphi", "FuzzyEvaluation", "fuzzy_evaluation", "TOPSIS", "topsis", "GreyRelational",
           "grey_relational", "ObjectiveWeights", "objective_weights", "entropy_weights", "critic_weights", "combine_weights"]
