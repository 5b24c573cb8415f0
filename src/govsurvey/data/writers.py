"""Write responses in the layouts users get from their tools: Wenjuanxing exports and SPSS files.

Used by the example-study simulator so the bundled example exercises the real readers, and
useful on their own (e.g. to hand SPSS users a labelled ``.sav``). All writes are atomic.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from govsurvey.data.files import write_atomic
from govsurvey.errors import SpecificationError, UnknownItemError
from govsurvey.instrument.model import Instrument

__all__ = ["QuestionBlock", "write_wenjuanxing", "write_sav"]

META_OUT = [("序号", None), ("提交答卷时间", "_submitted"), ("所用时间", "_seconds"), ("来源", "_channel"),
            ("来源详情", "_channel_detail"), ("来自IP", "_ip")]


@dataclasses.dataclass(frozen=True, slots=True)
class QuestionBlock:
    """One numbered Wenjuanxing question: a single question, or a matrix over several items.

    ``style`` sets how a matrix's columns are headed: ``"first"`` — ``N、题干—行`` then
    ``N、行``; ``"every"`` — ``N、(题干)—行`` on every column; ``"bare"`` — ``N、题干—行``
    then just the row text.
    """

    number: int
    ids: tuple[str, ...]
    stem: str | None = None
    style: str = "first"


def _headers(blocks: Sequence[QuestionBlock], instrument: Instrument, lang: str) -> list[tuple[str, str]]:
    out = []
    for b in blocks:
        if len(b.ids) == 1 and b.stem is None:
            q = instrument.question(b.ids[0])
            out.append((f"{b.number}、{q.text[lang]}：", q.id))
            continue
        if b.style not in ("first", "every", "bare"):
            raise SpecificationError(f"QuestionBlock style {b.style!r} is not known; use 'first', 'every' or 'bare'.")
        for k, qid in enumerate(b.ids):
            row = instrument.question(qid).text[lang]
            if b.style == "every":
                out.append((f"{b.number}、({b.stem})—{row}", qid))
            elif k == 0:
                out.append((f"{b.number}、{b.stem}—{row}", qid))
            elif b.style == "first":
                out.append((f"{b.number}、{row}", qid))
            else:
                out.append((row, qid))
    return out


def write_wenjuanxing(
    data: pd.DataFrame,
    instrument: Instrument,
    path: str | Path,
    blocks: Sequence[QuestionBlock],
    *,
    layout: str = "text",
    lang: str = "zh",
    encoding: str = "utf-8-sig",
    missing_text: str = "(空)",
    missing_code: int = -3,
) -> Path:
    """Write ``data`` as a Wenjuanxing download (``.xlsx`` or ``.csv``).

    ``layout="text"`` writes option text (按选项文本), ``"number"`` option numbers (按选项序号).
    ``data`` holds codes with item-id columns, index = 序号, and optionally ``_submitted``,
    ``_seconds``, ``_channel``, ``_channel_detail``, ``_ip``.
    """
    if layout not in ("text", "number"):
        raise SpecificationError(f"layout={layout!r} must be 'text' or 'number'.")
    heads = _headers(blocks, instrument, lang)
    absent = [qid for _, qid in heads if qid not in data.columns]
    if absent:
        raise UnknownItemError(f"write_wenjuanxing: columns not in the data: {absent[:5]}.")
    cols: dict[str, list] = {"序号": list(data.index)}
    for head, src in META_OUT[1:]:
        if src in data.columns:
            values = data[src]
            if src == "_seconds":
                cols[head] = [f"{int(round(v))}秒" for v in values]
            elif src == "_submitted":
                cols[head] = [pd.Timestamp(v).strftime("%Y/%-m/%-d %H:%M:%S") for v in values]
            else:
                cols[head] = [("N/A" if pd.isna(v) else str(v)) for v in values]
    for head, qid in heads:
        scale = instrument.scale_of(qid)
        values = data[qid]
        if scale.type == "text":
            cols[head] = [("" if pd.isna(v) else str(v)) for v in values]
        elif layout == "number":
            cols[head] = [missing_code if pd.isna(v) else int(v) for v in values]
        else:
            labels = scale.labels[lang]
            cols[head] = [missing_text if pd.isna(v) else labels[int(v)] for v in values]
    frame = pd.DataFrame(cols)
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        return write_atomic(target, lambda p: frame.to_excel(p, index=False, sheet_name="Sheet1", engine="openpyxl"))
    return write_atomic(target, lambda p: p.write_bytes(frame.to_csv(index=False, lineterminator="\r\n").encode(encoding)))


def write_sav(data: pd.DataFrame, instrument: Instrument, path: str | Path, *, lang: str = "zh",
              missing_code: float = 99, id_name: str = "id", extra: dict[str, str] | None = None) -> Path:
    """Write an SPSS ``.sav`` with variable labels, value labels and a user-missing code.

    Item columns keep their ids as variable names; missing answers are stored as
    ``missing_code`` and declared user-missing. ``extra`` renames further columns
    (e.g. ``{"_seconds": "duration"}``; SPSS names cannot start with ``_``).
    """
    import pyreadstat

    qids = [q.id for q in instrument.questions if q.id in data.columns]
    out = pd.DataFrame({id_name: np.asarray(data.index)})
    labels = {id_name: "respondent id"}
    value_labels: dict[str, dict] = {}
    missing_ranges: dict[str, list] = {}
    for qid in qids:
        q = instrument.question(qid)
        scale = instrument.scale_of(qid)
        labels[qid] = q.text[lang]
        if scale.type == "text":
            out[qid] = data[qid].astype("string").fillna("").astype(str).to_numpy()
            continue
        values = data[qid].astype(float)
        out[qid] = values.fillna(missing_code).to_numpy()
        missing_ranges[qid] = [missing_code]
        if scale.labels.get(lang):
            value_labels[qid] = {float(k): v for k, v in scale.labels[lang].items()}
    for src, name in (extra or {}).items():
        col = data[src]
        if pd.api.types.is_datetime64_any_dtype(col):
            out[name] = col.dt.strftime("%Y-%m-%d %H:%M:%S").to_numpy()
        else:
            out[name] = col.to_numpy()
        labels[name] = src
    return write_atomic(path, lambda p: pyreadstat.write_sav(
        out, str(p), column_labels=labels, variable_value_labels=value_labels, missing_ranges=missing_ranges))
