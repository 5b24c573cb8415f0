"""The instrument model: scales, items, constructs and the questionnaire that holds them."""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from govsurvey.errors import UnknownItemError

__all__ = ["Scale", "Item", "Construct", "Instrument", "SCALE_TYPES", "ROLES", "BACKGROUND_TYPES"]

SCALE_TYPES = ("likert", "ordinal", "nominal", "numeric", "text")
"""Kinds of response scale. Reverse keys are allowed on ``likert`` and ``ordinal`` scales."""

BACKGROUND_TYPES = (
    "select_multiple", "rank", "select_one_from_file", "select_multiple_from_file", "range",
    "date", "time", "datetime", "geopoint", "geotrace", "geoshape", "image", "audio", "video", "file",
    "barcode", "acknowledge", "calculate", "calculate_here", "hidden", "start", "end", "today", "phone number",
)
"""XLSForm question types kept as background questions (not scored). ``select_multiple`` keeps its
choice list as the scale; ``range`` is numeric; the others are read as text."""

ROLES = ("item", "importance", "check", "demographic")
"""What a question is for: a construct item, an importance rating of a dimension, an
attention check with an expected answer, or a demographic question."""

_PUNCT = re.compile(r"[\s　：:？?。．.，,、；;！!\"'“”‘’（）()\[\]【】《》<>—–－\-_…·]+")


def normalize_text(text: str) -> str:
    """Fold a label or question text for matching: drop spaces and punctuation, lower-case."""
    return _PUNCT.sub("", str(text)).lower()


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Scale:
    """A response scale.

    ``labels`` maps language → code → label; ``missing`` holds the codes that mean
    "no answer" (they become NaN on reading); ``missing_text`` the equivalent answer texts.
    """

    name: str
    type: str
    min: float | None = None
    max: float | None = None
    labels: Mapping[str, Mapping[int, str]] = dataclasses.field(default_factory=dict)
    missing: tuple[float, ...] = ()
    missing_text: tuple[str, ...] = ()
    names: Mapping[int, str] = dataclasses.field(default_factory=dict)
    """Choice names of an XLSForm list whose names are words (``yes``, ``no``): code → name.
    The codes are then the sheet order 1..k; answers written as the names map to the codes."""

    @property
    def codes(self) -> tuple[int, ...]:
        """Valid (non-missing) codes: the labelled ones, or every integer from min to max."""
        if self.type in ("likert", "ordinal") and self.min is not None and self.max is not None:
            return tuple(range(int(self.min), int(self.max) + 1))
        found: set[int] = set()
        for per_lang in self.labels.values():
            found.update(per_lang)
        return tuple(sorted(c for c in found if c not in self.missing))

    @property
    def is_categorical(self) -> bool:
        return self.type in ("likert", "ordinal", "nominal")

    def label_index(self) -> dict[str, int | float]:
        """Normalised label text (every language) → code, missing texts → NaN.

        A normalised text that two different codes share is left out (see :meth:`label_collisions`).
        """
        return dict(self.label_lookup()[1])

    def label_lookup(self) -> tuple[dict[str, int | float], dict[str, int | float], dict[float, int | float]]:
        """The three indexes an answer is looked up in, in this order.

        Returns ``(exact, normalised, numbers)``: the label texts as written (stripped), the
        texts folded by :func:`normalize_text` — only those that fold to one code — and the
        labels that are numbers (``"0"``, ``"1"``) by their value. Codes are ints; missing
        texts map to NaN.

        Examples
        --------
        >>> s = Scale(name="times", type="ordinal", min=1, max=3, labels={"zh": {1: "0", 2: "1-2次", 3: "3次及以上"}})
        >>> exact, normalised, numbers = s.label_lookup()
        >>> exact["1-2次"], normalised["12次"], numbers[0.0]
        (2, 2, 1)
        """
        exact: dict[str, int | float] = {}
        folded: dict[str, set] = {}
        numbers: dict[float, int | float] = {}
        entries = [(code, label) for per in self.labels.values() for code, label in per.items()]
        entries += [(code, name) for code, name in self.names.items()]
        entries += [(float("nan"), text) for text in self.missing_text]
        for code, label in entries:
            text = str(label).strip()
            exact.setdefault(text, code)
            key = normalize_text(text)
            if key:
                folded.setdefault(key, set()).add("missing" if math.isnan(code) else code)
            try:
                value = float(text)
            except ValueError:
                continue
            if math.isfinite(value):
                numbers.setdefault(value, code)
        normalised = {}
        for key, codes in folded.items():
            if len(codes) == 1:
                only = next(iter(codes))
                normalised[key] = float("nan") if only == "missing" else only
        return exact, normalised, numbers

    def label_collisions(self) -> list[tuple[str, int | str, str, int | str]]:
        """Pairs of labels of different codes that read the same once :func:`normalize_text` has
        dropped spaces, punctuation and case, as ``(label_a, code_a, label_b, code_b)``, in any
        language. A missing text counts as code ``"missing"``.

        >>> Scale(name="s", type="nominal", labels={"zh": {1: "1-2次", 2: "12次"}}).label_collisions()
        [('1-2次', 1, '12次', 2)]
        """
        seen: dict[str, tuple[str, int | str]] = {}
        out = []
        entries = [(code, label) for per in self.labels.values() for code, label in per.items()]
        entries += [("missing", text) for text in self.missing_text]
        for code, label in entries:
            text = str(label).strip()
            key = normalize_text(text) or text
            if key in seen and seen[key][1] != code:
                out.append((seen[key][0], seen[key][1], text, code))
            seen.setdefault(key, (text, code))
        return out

    def label(self, code: int, lang: str) -> str | None:
        return self.labels.get(lang, {}).get(code)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Item:
    """One question. ``construct`` is None for importance ratings, checks and demographics."""

    id: str
    text: Mapping[str, str]
    scale: str
    reverse: bool = False
    construct: str | None = None
    role: str = "item"
    dimension: str | None = None
    expected: int | None = None
    type: str | None = None
    """The XLSForm type of a background question govsurvey does not score (``select_multiple``,
    ``date``, ``geopoint``, ``calculate``, ``rank <list>``, ...); None for select_one, integer,
    decimal and text, whose kind the scale tells."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Construct:
    """A construct (dimension). A higher-order construct has ``children`` and no items."""

    name: str
    label: Mapping[str, str]
    items: tuple[str, ...] = ()
    parent: str | None = None
    children: tuple[str, ...] = ()

    @property
    def is_higher_order(self) -> bool:
        return bool(self.children)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)
class Instrument:
    """A validated questionnaire. Build one with :func:`govsurvey.load_instrument`.

    Examples
    --------
    >>> import govsurvey as gs
    >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
    >>> inst.items_of("reserves")
    ['RS1', 'RS2', 'RS3', 'RS4']
    """

    name: str
    version: str
    title: Mapping[str, str]
    languages: tuple[str, ...]
    scales: Mapping[str, Scale]
    constructs: Mapping[str, Construct]
    items: tuple[Item, ...]
    demographics: tuple[Item, ...] = ()
    source: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notice: Mapping[str, str] = dataclasses.field(default_factory=dict)
    path: str | None = None

    # ------------------------------------------------------------------ lookups
    @property
    def questions(self) -> tuple[Item, ...]:
        """Every question: items (construct, importance, check) then demographics."""
        return self.items + self.demographics

    def question(self, qid: str) -> Item:
        for q in self.questions:
            if q.id == qid:
                return q
        raise UnknownItemError(
            f"{qid!r} is not a question of instrument {self.name!r}. "
            f"Known ids include: {', '.join(q.id for q in self.questions[:5])}, …"
        )

    def scale_of(self, qid: str) -> Scale:
        return self.scales[self.question(qid).scale]

    def _construct(self, name: str) -> Construct:
        try:
            return self.constructs[name]
        except KeyError:
            known = ", ".join(list(self.constructs)[:8])
            raise UnknownItemError(
                f"{name!r} is not a construct of instrument {self.name!r}. Known constructs: {known}."
            ) from None

    def items_of(self, construct: str) -> list[str]:
        """Item ids of a construct; for a higher-order construct, the items of its children."""
        c = self._construct(construct)
        if not c.children:
            return list(c.items)
        out: list[str] = []
        for child in c.children:
            out.extend(self.items_of(child))
        return out

    @property
    def reverse_keyed(self) -> list[str]:
        return [i.id for i in self.items if i.reverse]

    @property
    def construct_items(self) -> list[str]:
        """Ids of the items that belong to a construct (the scored items), in order."""
        return [i.id for i in self.items if i.role == "item"]

    @property
    def first_order(self) -> list[str]:
        return [n for n, c in self.constructs.items() if not c.children]

    @property
    def higher_order(self) -> list[str]:
        return [n for n, c in self.constructs.items() if c.children]

    @property
    def importance_items(self) -> dict[str, str]:
        """Dimension (construct) → id of the item that rates its importance."""
        return {i.dimension: i.id for i in self.items if i.role == "importance" and i.dimension}

    @property
    def attention_checks(self) -> dict[str, int]:
        """Attention-check item id → the answer an attentive respondent gives."""
        return {i.id: i.expected for i in self.items if i.role == "check" and i.expected is not None}

    def descendants(self, construct: str) -> list[str]:
        c = self._construct(construct)
        out: list[str] = []
        for child in c.children:
            out.append(child)
            out.extend(self.descendants(child))
        return out

    # ---------------------------------------------------------------- exports
    def cfa_model(self, constructs: Iterable[str] | None = None) -> str:
        """The measurement model in lavaan syntax.

        With ``constructs=None`` every first-order construct is a factor over its items.
        Naming a higher-order construct adds its first-order descendants and a
        second-order factor over its children. Items are listed as they are keyed:
        reverse-code the data (:func:`govsurvey.reverse_code`) before fitting.

        Examples
        --------
        >>> import govsurvey as gs
        >>> inst = gs.load_instrument(gs.datasets.instrument_path("community_phe_survey"))
        >>> print(inst.cfa_model(["trust"]))
        trust =~ TG1 + TG2 + TG3 + TG4
        """
        names = list(constructs) if constructs is not None else self.first_order
        lines: list[str] = []
        seen: set[str] = set()

        def add(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            c = self._construct(name)
            if c.children:
                for child in c.children:
                    add(child)
                lines.append(f"{name} =~ {' + '.join(c.children)}")
            elif c.items:
                lines.append(f"{name} =~ {' + '.join(c.items)}")

        for n in names:
            add(n)
        first = [ln for ln in lines if ln.split(" =~ ")[0] in self.first_order]
        higher = [ln for ln in lines if ln not in first]
        return "\n".join(first + higher)

    def codebook(self, lang: str = "zh") -> pd.DataFrame:
        """One row per question: id, role, construct and its label, text, scale, range, labels."""
        if lang not in self.languages:
            raise UnknownItemError(
                f"Language {lang!r} is not in instrument {self.name!r}; it has {', '.join(self.languages)}."
            )
        rows = []
        for q in self.questions:
            sc = self.scales[q.scale]
            labels = sc.labels.get(lang, {})
            rows.append(
                {
                    "id": q.id,
                    "role": q.role,
                    "construct": q.construct or q.dimension,
                    "construct_label": (
                        self.constructs[q.construct or q.dimension].label.get(lang)
                        if (q.construct or q.dimension)
                        else None
                    ),
                    "text": q.text.get(lang),
                    "scale": sc.name,
                    "type": sc.type,
                    "min": sc.min,
                    "max": sc.max,
                    "reverse": q.reverse,
                    "expected": q.expected,
                    "labels": "; ".join(f"{c}={t}" for c, t in labels.items()),
                    "missing": "; ".join(str(int(m)) if float(m).is_integer() else str(m) for m in sc.missing),
                }
            )
        return pd.DataFrame(rows).set_index("id")

    def to_xlsform(self, path: str | Path) -> Path:
        """Write the instrument as an XLSForm workbook (survey, choices, settings sheets)."""
        from govsurvey.instrument.xlsform import write_xlsform

        return write_xlsform(self, path)

    def __repr__(self) -> str:
        return (
            f"Instrument(name={self.name!r}, version={self.version!r}, languages={list(self.languages)}, "
            f"constructs={len(self.constructs)}, items={len(self.items)}, demographics={len(self.demographics)})"
        )

    def _repr_html_(self) -> str:
        from govsurvey.report.html import render_frame

        return render_frame(self.codebook(self.languages[0]), caption=self.title.get(self.languages[0], self.name))


