"""Text encoding detection for CSV/TSV files as Chinese users produce them."""

from __future__ import annotations

import codecs
import re

from govsurvey.errors import EncodingDetectionError

__all__ = ["decode_bytes", "CANDIDATES"]

CANDIDATES = ("utf-8", "gb18030")
"""Tried in order after a byte-order mark check. GB18030 is a superset of GBK and GB2312,
which is what Excel on Chinese Windows writes for "CSV (逗号分隔)"."""

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _looks_binary(text: str) -> bool:
    return bool(_CONTROL.search(text[:100_000]))


def decode_bytes(data: bytes, *, encoding: str | None = None, name: str = "the file") -> tuple[str, str]:
    """Decode ``data``; return (text, encoding used).

    With ``encoding`` given, it is used and a failure is an error that names the likely
    encoding. Without it: a UTF-8 or UTF-16 byte-order mark decides; otherwise UTF-8, then
    GB18030 (GBK) are tried.
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise EncodingDetectionError(
                f"encoding={encoding!r} is not an encoding Python knows. Fix: use e.g. 'utf-8', 'gbk' or 'gb18030', or omit encoding= to detect it."
            ) from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            guess = _guess(data)
            hint = f" It decodes as {guess}." if guess else ""
            raise EncodingDetectionError(
                f"{name} is not valid {encoding} (bad byte at offset {exc.start}).{hint} "
                f"Fix: pass encoding={guess!r} or omit encoding= so govsurvey detects it." if guess else
                f"{name} is not valid {encoding} (bad byte at offset {exc.start}). "
                "Fix: omit encoding= to detect it, or re-save the file as UTF-8 (Excel: 'CSV UTF-8')."
            ) from None
        if encoding.lower().replace("_", "-") in ("utf-8", "utf8") and text.startswith("\ufeff"):
            text = text[1:]
        return text, encoding
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", name), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name), "utf-16"
    guess = _guess(data)
    if guess is None:
        raise EncodingDetectionError(
            f"{name} is not UTF-8, GBK or GB18030 text (it may be binary, or in another encoding). "
            "Fix: re-save it as UTF-8 (Excel: 'CSV UTF-8'), or pass encoding= with the right name."
        )
    return data.decode(guess), guess


def _guess(data: bytes) -> str | None:
    for enc in CANDIDATES:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        if not _looks_binary(text):
            return enc
    return None


def _strict(data: bytes, enc: str, name: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as exc:
        raise EncodingDetectionError(
            f"{name} starts with a {enc} byte-order mark but is not valid {enc} (bad byte at offset {exc.start}). "
            "Fix: re-save the file from its original program."
        ) from None
