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
import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["META_COLUMNS", "TIME_NAMES", "NUMBER_UNITS", "is_wenjuanxing", "parse_headers", "HeaderInfo", "parse_duration",
           "parse_number", "meta_roles", "convert_meta", "SKIP_CODES", "SKIP_TEXTS"]

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
"""Texts that mean "no answer" in every question type, whichever platform wrote the file."""
TIME_NAMES = ("所用时间", "答题时长", "测评时长", "作答时长", "填写时长", "答卷时长", "duration", "totalseconds", "_seconds")
"""Headers (or SPSS variable labels) of a completion-time column, read into ``_seconds``."""
NUMBER_UNITS = ("周岁", "岁", "年", "人", "次", "元", "分钟", "小时", "天", "个")
"""Units stripped from answers to number questions (``45岁`` → 45)."""
_LABEL_ROLES = {**{k: v for k, v in META_COLUMNS.items() if v not in ("_wjx_id", "_response_id")},
                "_seconds": "_seconds", "_submitted": "_submitted", "_ip": "_ip"}
_NUMBER_UNIT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*(?:" + "|".join(NUMBER_UNITS) + r")?$")

_QNUM = re.compile(r"^\s*(\d+)\s*[、.．]\s*(.*)$", re.S)
_DASHES = ("—", "－", "--", "―")


@dataclasses.dataclass(frozen=True, slots=True)
class HeaderInfo:
    """What a column header says: its question number (if any), and the texts it may match."""

    column: str
    number: int | None
    candidates: tuple[str, ...]
    group_size: int = 1


def is_wenjuanxing(columns: Sequence[str], labels: Mapping[str, object] | None = None) -> bool:
    """A Wenjuanxing download has 序号 (or 答卷编号) and 所用时间 or 提交答卷时间, as headers or
    (in its SPSS download) as variable labels.

    >>> is_wenjuanxing(["序号", "提交答卷时间", "1、您的性别："]), is_wenjuanxing(["id", "所用时间"])
    (True, False)
    >>> is_wenjuanxing(["index", "totalseconds"], {"index": "序号", "totalseconds": "所用时间"})
    True
    """
    cols = {str(c).strip() for c in columns} | {str(v).strip() for v in (labels or {}).values() if v}
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


def parse_number(value: object) -> float | None:
    """An answer to a number question as a number: full-width digits and spaces folded, one
    unit of :data:`NUMBER_UNITS` dropped; None when it is not such a number.

    >>> parse_number("45岁"), parse_number("44 岁"), parse_number("７３年"), parse_number("80r")
    (45.0, 44.0, 73.0, None)
    """
    if isinstance(value, (bool, np.bool_)) or value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        f = float(value)
        return f if np.isfinite(f) else None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    m = _NUMBER_UNIT.match(text)
    return float(m.group(1)) if m else None


def meta_roles(columns: Sequence[str], labels: Mapping[str, object] | None = None, *, wenjuanxing: bool = False,
               exclude: Sequence[str] = ()) -> dict[str, tuple[str, bool]]:
    """Columns that carry respondent meta data: column → (govsurvey name, consumed).

    A Wenjuanxing header (``所用时间``…) is consumed (replaced by ``_seconds``…); a column
    found by its SPSS variable label (``所用时间``, ``_seconds``…) or by a completion-time
    name of :data:`TIME_NAMES` (``duration``, ``测评时长``…) is kept and also copied under
    the govsurvey name. Each govsurvey name is given once; columns in ``exclude`` (question
    ids) are never taken.

    >>> meta_roles(["id", "duration", "q1"])
    {'duration': ('_seconds', False)}
    >>> meta_roles(["totalseconds"], {"totalseconds": "所用时间"})
    {'totalseconds': ('_seconds', False)}
    """
    labels = labels or {}
    skip = set(exclude)
    roles: dict[str, tuple[str, bool]] = {}
    taken: set[str] = set()

    def take(col: str, name: str, consumed: bool) -> None:
        if col not in roles and col not in skip and (name not in taken or name in ("_wjx_id", "_response_id")):
            roles[col] = (name, consumed or str(col).strip() == name)
            taken.add(name)

    if wenjuanxing:
        for col in columns:
            if str(col).strip() in META_COLUMNS:
                take(col, META_COLUMNS[str(col).strip()], True)
    for col in columns:
        label = str(labels.get(col) or "").strip()
        if label in _LABEL_ROLES:
            take(col, _LABEL_ROLES[label], False)
    times = {t.lower() for t in TIME_NAMES}
    for col in columns:
        if str(col).strip().lower() in times:
            take(col, "_seconds", False)
    return roles


def convert_meta(frame: pd.DataFrame, skip: str | None = None,
                 roles: Mapping[str, tuple[str, bool]] | None = None) -> pd.DataFrame:
    """Meta columns under their govsurvey names, converted (seconds as float, time as datetime,
    答卷编号 as text so long numbers keep every digit); 序号 and the column ``skip`` (the one
    used as respondent id) are left out. ``roles`` is :func:`meta_roles`' answer (default:
    the Wenjuanxing headers).

    >>> meta = convert_meta(pd.DataFrame({"序号": [1], "所用时间": ["425秒"], "答卷编号": [12345678901234567890]}))
    >>> meta["_seconds"].tolist(), meta["_response_id"].tolist()
    ([425.0], ['12345678901234567890'])
    """
    if roles is None:
        roles = meta_roles(list(frame.columns), wenjuanxing=True)
    out = pd.DataFrame(index=frame.index)
    for col, (name, _consumed) in roles.items():
        if name == "_wjx_id" or col == skip:
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
