"""Stage 2 — data: reading responses (CSV/TSV, Excel, SPSS, Stata, Parquet, Wenjuanxing), coded interviews and
expert files (Delphi rounds, AHP judgement matrices)."""

from govsurvey.data.experts import AHPJudgements, DelphiPanel, read_ahp, read_delphi
from govsurvey.data.files import atomic_path, sha256_file, write_atomic, write_text_atomic
from govsurvey.data.qda import read_codes, write_identity_key, write_qdpx
from govsurvey.data.readers import read_responses, read_table
from govsurvey.data.stream import moments_from_file

__all__ = ["read_delphi", "read_ahp", "DelphiPanel", "AHPJudgements", "moments_from_file", "read_codes", "write_qdpx", "write_identity_key", "read_responses", "read_table", "sha256_file", "atomic_path", "write_atomic", "write_text_atomic"]
