"""Evaluation index systems (评价指标体系): expert screening and weights (Delphi, AHP),
objective weights from the survey (entropy, CRITIC), and ranking or grading of units
(TOPSIS, grey relational analysis, fuzzy comprehensive evaluation).

This stage comes after scoring and sits beside :mod:`govsurvey.integration`.
"""
