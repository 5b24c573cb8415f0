"""Studies: one YAML spec → read → screen → score → analyses → reports.

A study spec (``analyses/*.yaml``; paths relative to the spec file)::

    name: example
    title: {zh: ..., en: ...}
    instrument: ../instruments/community_phe_survey.yaml
    data: {path: ../data/responses.xlsx}
    screening: {straightline: true, duplicates: true}
    scoring: {method: mean, min_valid: 0.8}
    interviews: {path: ../data/interviews.qdpx, codebook: ../data/codebook.csv}
    analyses:
      reliability: true
      cfa: {model: instrument, estimator: MLR}
      validity: true
      regressions: [{formula: "participation ~ capacity + trust"}]
    language: zh
    formats: [html, pdf, docx, json]
    seed: 20261124

The analyses a spec can name, their options and their report sections live in one registry
(:mod:`govsurvey.study.registry`, filled by :mod:`govsurvey.study.analyses`); the README's
"Study specs" reference lists them all.
"""

from __future__ import annotations

from govsurvey.study import analyses as _analyses  # noqa: F401 - registers the built-in analyses
from govsurvey.study.registry import REGISTRY, Analysis, Inputs, register, unregister
from govsurvey.study.run import Failure, Outcome, StudyResults, run_study, steps
from govsurvey.study.spec import FORMATS, Study

__all__ = ["Study", "StudyResults", "FORMATS", "REGISTRY", "Analysis", "Inputs", "register", "unregister",
           "Failure", "Outcome", "run_study", "steps"]
