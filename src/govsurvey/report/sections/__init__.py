"""Each analysis' report section: ``section(ctx, result, options) -> list of blocks``
(headings, paragraphs, tables, figures; see :mod:`govsurvey.report.document`).

A section reads only its own result, its options and the :class:`~govsurvey.report.document.SectionContext`
(language, labels, numbering); the study registry (:mod:`govsurvey.study.registry`) pairs it
with the analysis that computes the result."""
