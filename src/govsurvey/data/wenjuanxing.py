"""Wenjuanxing (问卷星) export layouts.

What is known of the layout is in the project's shared WENJUANXING notes: leading
columns 序号, 提交答卷时间, 所用时间 (e.g. ``425秒``), 来源, 来源详情, 来自IP (and 总分 in
quizzes; some downloads carry a response number 答卷编号, which serves as the id when 序号 is
absent); questions headed ``N、题干``; matrix questions spread over several columns, the
first as ``N、题干—第一行`` and the rest as ``N、行``, just the row text, or
``N、(题干)—行`` on every column; ``-2``/``-3`` and ``(跳过)`` for skipped answers.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd

__all__ = ["META_COLUMNS", "is_wenjuanxing", "parse_headers", "HeaderInfo", "parse_duration", "SKIP_CODES", "SKIP_TEXTS"]

META_COLUMNS = {
    "序号": "_wjx_id",
    "提交答卷时间": "_submitted",
    "所用时间": "_seconds",
    "来源": "_channel",
    "来源详情": "_channel_detail",
    "来自IP": "_ip",
    "总分": "_quiz_total",
    "答卷编号": "_response_id",
}
SKIP_CODES = (-2.0, -3.0)
SKIP_TEXTS = ("(跳过)", "（跳过）", "(空)", "（空）")

_QNUM = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
_DASHES = ("—", "－", "--", "―")


@dataclasses.dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What a column header says: its question number (if any), and the texts it may match."""

    column: str
    number: int | None
    candidates: tuple[str, ...]
    group_size: int = 1


def is_wenjuanxing(columns: list[str]) -> bool:
    """A Wenjuanxing download has 序号 (or 答卷编号) and 所用时间 or 提交答卷时间.

    >>> is_wenjuanxing(["序号", "提交答卷时间", "1、您的性别："]), is_wenjuanxing(["id", "所用时间"])
    (True, False)
    """
    cols = {str(c).strip() for c in columns}
    return ("序号" in cols or "答卷编号" in cols) and ("所用时间" in cols or "提交答卷时间" in cols)


def _split_dash(text: str) -> list[str]:
    for dash in _DASHES:
        if dash in text:
            first, _, last = text.partition(dash)
            tail = text.rsplit(dash, 1)[-1]
            return [tail.strip(), last.strip(), first.strip()]
    return []


def _strip_parens(text: str) -> str:
    return re.sub(r"^[（(](.*)[）)]$", r"\1", text.strip())


def parse_headers(columns: list[str]) -> list[HeaderInfo]:
    """Parse question headers; a header without ``N、`` after a numbered one continues its group."""
    infos: list[HeaderInfo] = []
    current: int | None = None
    for col in columns:
        raw = str(col).strip()
        if raw in META_COLUMNS:
            infos.append(HeaderInfo(raw, None, ()))
            current = None
            continue
        m = _QNUM.match(raw)
        if m:
            number, rest = int(m.group(1)), m.group(2).strip()
            current = number
            parts = _split_dash(rest)
            cands = [p for p in parts[:2] if p] + [_strip_parens(rest), rest]
            infos.append(HeaderInfo(raw, number, tuple(dict.fromkeys(cands))))
        else:
            parts = _split_dash(raw)
            cands = [p for p in parts[:2] if p] + [raw]
            infos.append(HeaderInfo(raw, current, tuple(dict.fromkeys(cands))))
    sizes: dict[int, int] = {}
    for info in infos:
        if info.number is not None:
            sizes[info.number] = sizes.get(info.number, 0) + 1
    return [dataclasses.replace(i, group_size=sizes.get(i.number, 1)) if i.number is not None else i for i in infos]


_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|m|min))?\s*(?:(\d+(?:\.\d+)?)\s*(?:秒|s|sec))?$")


def parse_duration(value: object) -> float:
    """``'425秒'`` → 425.0; also ``'7分5秒'``, ``'1小时2分'`` and plain numbers; else NaN."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return float("nan")
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    text = str(value).strip()
    if not text:
        return float("nan")
    try:
        return float(text)
    except ValueError:
        pass
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return float("nan")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def convert_meta(frame: pd.DataFrame, skip: str | None = None) -> pd.DataFrame:
    """Meta columns under their govsurvey names, converted (seconds as float, time as datetime,
    答卷编号 as text so long numbers keep every digit); 序号 and the column ``skip`` (the one
    used as respondent id) are left out.

    >>> meta = convert_meta(pd.DataFrame({"序号": [1], "所用时间": ["425秒"], "答卷编号": [12345678901234567890]}))
    >>> meta["_seconds"].tolist(), meta["_response_id"].tolist()
    ([425.0], ['12345678901234567890'])
    """
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        name = META_COLUMNS.get(str(col).strip())
        if name is None or name == "_wjx_id" or col == skip:
            continue
        values = frame[col]
        if name == "_seconds":
            out[name] = values.map(parse_duration).astype(float)
        elif name == "_submitted":
            out[name] = pd.to_datetime(values.astype("string").str.strip(), errors="coerce")
        elif name == "_quiz_total":
            out[name] = pd.to_numeric(values, errors="coerce")
        elif name == "_response_id":
            out[name] = pd.array([None if pd.isna(v) else str(int(v)) if isinstance(v, (int, np.integer)) else str(v).strip()
                                  for v in values], dtype="string")
        else:
            out[name] = values.astype("string")
    return out
