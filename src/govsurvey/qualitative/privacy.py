"""Pseudonymising coded interviews: which variables identify a person, every form of a known
name, and the one step that replaces them (applied by :func:`govsurvey.read_codes`).

Known names come from identifying case variables (``姓名``, ``受访人``, ``Interviewee name``, …)
and from case labels, source names and document names that contain a Chinese personal name
(2–4 Han characters starting with a common surname) or are a Latin-script name. Every form
of a known name — the full name, the name spaced (何 秀英), surname with a title (何书记, 老何)
and the given name alone (秀英, when it has at least 2 characters) — is replaced by the case's
pseudonym (网格员-03), or by ``[姓名]`` where the form belongs to several known people.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from govsurvey.errors import SpecificationError

__all__ = ["NEUTRAL", "TITLES", "is_identifying", "identifying_columns", "name_forms", "Scrubber", "build_scrubber",
           "case_pseudonyms", "known_names", "pseudonymise", "scrubber_for"]

NEUTRAL = "[姓名]"
REDACTED = "[已隐去]"
TITLES = ("书记", "主任", "老师", "阿姨", "大爷", "大妈", "师傅", "同志", "先生", "女士", "社长", "委员", "主席", "站长",
          "所长", "局长", "大姐", "大哥", "医生", "队长", "组长", "科长", "镇长", "村长", "经理", "总", "姐", "哥", "叔", "婶")
LATIN_TITLES = ("Mr", "Mrs", "Ms", "Miss", "Dr", "Prof")
ROLE_LABELS = {"resident": "居民", "cadre": "社区干部", "grid_worker": "网格员", "volunteer": "志愿者"}
ROLE_COLUMNS = ("role_zh", "role", "角色", "身份")
_NAME_KEYS = {"name", "姓名", "名字", "真实姓名", "受访人", "受访者", "被访者", "被访人", "访谈对象", "受访人姓名", "受访者姓名",
              "被访者姓名", "访谈对象姓名", "interviewee", "participantname", "realname", "fullname", "respondentname",
              "intervieweename", "firstname", "lastname", "givenname", "familyname", "surname", "personname"}
_OTHER_KEYS = {"phone", "phonenumber", "telephone", "tel", "mobile", "mobilephone", "cellphone", "电话", "手机", "手机号",
               "手机号码", "电话号码", "联系电话", "联系方式", "idcard", "idnumber", "idcardnumber", "nationalid", "身份证",
               "身份证号", "身份证号码", "address", "homeaddress", "住址", "地址", "家庭住址", "居住地址", "email", "e-mail",
               "邮箱", "电子邮箱", "wechat", "微信", "微信号", "qq"}
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯", "端木", "独孤")
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石"
    "廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳"
    "翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳"
    "时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖"
    "巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆"
    "巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾"
)
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff"
_SUFFIXES = ("访谈记录", "访谈笔录", "访谈转录", "访谈稿", "访谈", "记录", "笔录", "转录", "录音", "文本", "整理")


def _key(column: Any) -> str:
    text = re.sub(r"^(cases?|documents?)\s*:\s*", "", str(column).strip(), flags=re.IGNORECASE)
    return re.sub(r"[\s_\-.·:：]+", "", text).casefold()


def is_identifying(column: Any) -> bool:
    """Whether a case variable's name marks it as identifying a person (in Chinese or English).

    >>> [is_identifying(c) for c in ("真实姓名", "Interviewee name", "phone_number", "site")]
    [True, True, True, False]
    """
    return _is_name_column(column) or _key(column) in _OTHER_KEYS


def _is_name_column(column: Any) -> bool:
    key = _key(column)
    return key in _NAME_KEYS or "姓名" in key or key.endswith(("realname", "fullname", "intervieweename", "participantname"))


def identifying_columns(columns: Iterable[Any], identifying: str | Sequence[str] | None) -> tuple[str, ...]:
    """The identifying columns: those recognised by name, always, plus those in ``identifying``.

    >>> identifying_columns(["name", "site", "phone"], "phone")
    ('name', 'phone')
    """
    if identifying is None:
        given: tuple = ()
    elif isinstance(identifying, str):
        given = (identifying,)
    elif isinstance(identifying, Sequence) and all(isinstance(c, str) for c in identifying):
        given = tuple(identifying)
    else:
        raise SpecificationError(f"identifying={identifying!r} must be a column name or a list of column names, "
                                 "e.g. identifying=['phone']. Fix: give the names of the case variables that identify people.")
    columns = list(columns)
    return tuple(c for c in columns if c in given or is_identifying(c))


def _split(name: str) -> tuple[str, str] | None:
    """(surname, given name) of a Chinese name of 2–4 Han characters, else None."""
    if not re.fullmatch(f"[{_HAN}]{{2,4}}", name):
        return None
    sur = name[:2] if name[:2] in _COMPOUND and len(name) > 2 else name[:1]
    return sur, name[len(sur):]


def _is_cjk_name(text: str) -> bool:
    parts = _split(text)
    return parts is not None and (parts[0] in _SURNAMES or parts[0] in _COMPOUND)


def label_names(label: Any) -> list[str]:
    """Personal names inside a case label, source or document name ("I01 张建国", "何秀英访谈记录.txt").

    >>> label_names("何秀英访谈记录.txt"), label_names("I01 张建国"), label_names("I01"), label_names("Mary Smith")
    (['何秀英'], ['张建国'], [], ['Mary Smith'])
    """
    text = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", str(label)).strip()
    found = []
    for run in re.findall(f"[{_HAN}]+", text):
        for suffix in _SUFFIXES:
            if run.endswith(suffix) and len(run) > len(suffix):
                run = run[: -len(suffix)]
                break
        run = re.sub(r"^(受访者|受访人|被访者|访谈)", "", run)
        if _is_cjk_name(run):
            found.append(run)
    if not found and re.fullmatch(r"[A-Za-z][A-Za-z.'\-]+(\s+[A-Za-z][A-Za-z.'\-]+){1,3}", text):
        found.append(text)
    return found


def name_forms(name: str) -> list[tuple[str, str, bool]]:
    """(pattern, key, personal) for every form of ``name``; ``personal`` forms point at one
    person only when no other known name shares them (the given name, surname + title).

    >>> [k for _, k, _ in name_forms("何秀英")][:3]
    ['何秀英', '秀英', '何书记']
    """
    name = re.sub(r"\s+", " ", name.strip())
    parts = _split(name.replace(" ", ""))
    if parts is not None:
        sur, given = parts
        flat = sur + given
        forms = [(r"\s*".join(map(re.escape, flat)), flat, False)]
        if len(given) >= 2:
            forms.append((r"\s*".join(map(re.escape, given)), given, True))
        forms += [(re.escape(sur) + r"\s*" + re.escape(t), sur + t, True) for t in TITLES]
        forms += [(re.escape(p) + re.escape(sur), p + sur, True) for p in ("老", "小")]
        return forms
    tokens = name.split(" ")
    b, e = r"(?<![A-Za-z])", r"(?![A-Za-z])"
    forms = [(b + r"\s*".join(map(re.escape, tokens)) + e, "".join(tokens).casefold(), False)]
    if len(tokens) > 1:
        for tok in (tokens[0], tokens[-1]):
            forms += [(b + t + r"\.?\s*" + re.escape(tok) + e, (t + tok).casefold(), True) for t in LATIN_TITLES]
            if len(tok) >= 3:
                forms.append((b + re.escape(tok) + e, tok.casefold(), True))
    return forms


@dataclasses.dataclass(frozen=True)
class Scrubber:
    """Replaces every known form in one pass (longest forms first; a replacement is never rescanned)."""

    pattern: re.Pattern | None
    replacement: Mapping[str, str]
    bracket: bool = False           # running text: a pseudonym marked as an insertion, "[社区书记-03]"

    def __call__(self, text: Any) -> Any:
        if self.pattern is None or not isinstance(text, str) or not text:
            return text
        mark = _bracket if self.bracket else (lambda r: r)
        return self.pattern.sub(lambda m: mark(self.replacement.get(_match_key(m.group()), NEUTRAL)), text)

    def with_offsets(self, text: str) -> tuple[str, Any]:
        """The scrubbed text and a function taking an offset into ``text`` (and whether it is
        an end) to the offset into the scrubbed text; an offset inside a replaced name moves to
        the name's start (or, for an end, past its replacement)."""
        if self.pattern is None or not text:
            return text, lambda pos, end=False: pos
        spans = [(m.start(), m.end(), self(m.group())) for m in self.pattern.finditer(text)]
        starts = [a for a, _, _ in spans]
        shift = [0]
        for a, b, new in spans:
            shift.append(shift[-1] + len(new) - (b - a))

        def move(pos: int, end: bool = False) -> int:
            k = bisect.bisect_right(starts, pos) - 1  # the last replaced name starting at or before pos
            if k < 0 or pos >= spans[k][1]:
                return pos + shift[k + 1]
            if pos == spans[k][0]:
                return pos + shift[k]
            return spans[k][0] + shift[k] + (len(spans[k][2]) if end else 0)

        return "".join(_pieces(text, spans)), move


def _bracket(replacement: str) -> str:
    """A pseudonym put into running text is marked as an editorial insertion, as qualitative
    reports do ("我[社区书记-03]自己…"); the neutral and redaction marks are bracketed already."""
    return replacement if replacement.startswith("[") else f"[{replacement}]"


def _pieces(text: str, spans: list[tuple[int, int, str]]):
    last = 0
    for a, b, new in spans:
        yield text[last:a]
        yield new
        last = b
    yield text[last:]


def _match_key(text: str) -> str:
    text = re.sub(r"\s+", "", text).casefold()
    return re.sub(r"^(mr|mrs|ms|miss|dr|prof)\.", r"\1", text)


def build_scrubber(known: Sequence[tuple[str, str]], others: Sequence[str] = (), *, full_only: bool = False) -> Scrubber:
    """A :class:`Scrubber` for ``known`` (name, pseudonym) pairs and other identifying values.

    >>> s = build_scrubber([("何秀英", "干部-01"), ("何文杰", "干部-02")])
    >>> s("何 秀英说，秀英和何书记都来了")
    '干部-01说，干部-01和[姓名]都来了'
    """
    owner: dict[str, set[str]] = {}
    patterns: dict[str, str] = {}
    for name, pseudonym in known:
        for pat, key, personal in name_forms(name):
            if full_only and personal:
                continue
            owner.setdefault(key, set()).add(pseudonym)
            patterns.setdefault(key, pat)
    replacement = {k: (next(iter(v)) if len(v) == 1 else NEUTRAL) for k, v in owner.items()}
    for value in others:
        value = str(value).strip()
        if len(value) >= 3:
            key = _match_key(value)
            patterns.setdefault(key, r"[\s\-]?".join(map(re.escape, value.replace(" ", ""))))
            replacement.setdefault(key, REDACTED)
    if not patterns:
        return Scrubber(None, {})
    ordered = sorted(patterns, key=lambda k: (-len(k), k))
    return Scrubber(re.compile("|".join(f"(?:{patterns[k]})" for k in ordered), re.IGNORECASE), replacement)


def case_pseudonyms(cases: pd.DataFrame) -> dict[str, str]:
    """Case → pseudonym: role label plus a number within the role (e.g. 网格员-03), in case
    order. A case already labelled with a pseudonym of its role keeps it, so the step can be
    repeated (on a subset too) without renumbering.

    >>> case_pseudonyms(pd.DataFrame({"role": ["cadre", "cadre", "resident"]}, index=["B", "A", "C"]))
    {'A': '社区干部-01', 'B': '社区干部-02', 'C': '居民-01'}
    """
    role_col = next((c for c in ROLE_COLUMNS if c in cases.columns), None)
    roles = {}
    for case in cases.index:
        value = cases.at[case, role_col] if role_col else None
        role = str(value) if role_col and pd.notna(value) and str(value).strip() else "受访者"
        roles[case] = ROLE_LABELS.get(role, role)
    out: dict[str, str] = {}
    used: dict[str, set[int]] = {}
    for case in sorted(cases.index, key=str):
        m = re.fullmatch(rf"{re.escape(roles[case])}-(\d{{2,}})", str(case))
        if m:
            out[case] = str(case)
            used.setdefault(roles[case], set()).add(int(m.group(1)))
    for case in sorted(cases.index, key=str):
        if case not in out:
            taken = used.setdefault(roles[case], set())
            k = next(i for i in range(1, len(taken) + 2) if i not in taken)
            taken.add(k)
            out[case] = f"{roles[case]}-{k:02d}"
    return out


def known_names(codes, pmap: Mapping[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """(name, pseudonym) pairs from identifying variables, case labels and source names, and
    the other identifying values (phone numbers, addresses, …)."""
    roles = {p.rsplit("-", 1)[0] for p in pmap.values()}
    known: list[tuple[str, str]] = []
    others: list[str] = []
    cases = codes.cases
    for case in cases.index:
        for col in (c for c in codes.identifying if c in cases.columns):
            value = cases.at[case, col]
            text = "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value).strip()
            if len(text) < 2:
                continue
            if isinstance(value, str) and (_is_name_column(col) or _is_cjk_name(text)):
                known.append((text, pmap[case]))
            else:
                others.append(text)
        if pmap[case] != case:
            known += [(n, pmap[case]) for n in label_names(case) if n not in roles]
    sources = codes.segments.drop_duplicates("source").set_index("source")["case"]
    for source in sorted(set(sources.index) | set(codes.texts)):
        case = sources.get(source)
        known += [(n, pmap.get(case, NEUTRAL)) for n in label_names(source) if n not in roles]
    return sorted(set(known)), sorted(set(others))


def _scrub_frame(frame: pd.DataFrame, columns: Iterable[str], scrub: Scrubber) -> pd.DataFrame:
    out = frame.copy()
    for col in columns:
        if col in out.columns and not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = pd.Series([scrub(v) for v in out[col]], index=out.index, dtype=out[col].dtype)
    return out


def _remap_offsets(seg: pd.DataFrame, texts: Mapping[str, str], scrub: Scrubber) -> tuple[pd.DataFrame, dict[str, str]]:
    """Scrub the transcripts and move the offsets of their segments to the scrubbed text."""
    seg = seg.copy()
    out = {}
    for source, text in texts.items():
        new, move = scrub.with_offsets(text)
        out[source] = new
        rows = seg.index[seg["source"] == source]
        if new != text and len(rows):
            seg.loc[rows, "start"] = [move(int(p)) for p in seg.loc[rows, "start"]]
            seg.loc[rows, "end"] = [move(int(p), True) for p in seg.loc[rows, "end"]]
    return seg, out


def _identity_key(codes, pmap: Mapping[str, str]) -> pd.DataFrame:
    cases = codes.cases
    ident = [c for c in codes.identifying if c in cases.columns]
    sources = codes.segments.groupby("case")["source"].unique()
    key = pd.DataFrame({"pseudonym": [pmap[c] for c in cases.index], "case": [str(c) for c in cases.index]})
    for col in ident:
        key[col] = cases[col].to_numpy()
    key["sources"] = ["; ".join(sorted(sources.get(c, []))) for c in cases.index]
    key = key[key["pseudonym"] != key["case"]] if not ident else key
    return key.set_index("pseudonym").sort_index()


def pseudonymise(codes):
    """The coded interviews with every identifying trace replaced (see the module docstring).

    Case labels become pseudonyms; identifying case variables are dropped; every form of a
    known name is replaced in segment texts, transcripts, source and document names, code
    names and memos, other case variables (full names only), the origin and the warnings. The
    mapping pseudonym → real case, identifying values and sources is kept in memory only
    (:meth:`CodedInterviews.identity_key`). Repeating the step changes nothing.
    """
    pmap = case_pseudonyms(codes.cases)
    known, others = known_names(codes, pmap)
    scrub, scrub_vars = build_scrubber(known, others), build_scrubber(known, others, full_only=True)
    variables = [c for c in codes.cases.columns if c not in codes.identifying]
    cases = _scrub_frame(codes.cases[variables], variables, scrub_vars).rename(index=pmap)
    prose = dataclasses.replace(scrub, bracket=True)      # transcripts, quotes and memos: "[网格员-01]说"
    seg, texts = _remap_offsets(codes.segments.assign(case=codes.segments["case"].map(pmap)), codes.texts, prose)
    seg = _scrub_frame(_scrub_frame(_scrub_frame(seg, ("source", "code"), scrub), ("text",), prose),
                       [c for c in seg.columns if c in variables], scrub_vars)
    seg = seg.sort_values(["source", "start", "end", "coder", "code"], kind="stable").reset_index(drop=True)
    book = _scrub_frame(_scrub_frame(codes.codebook, ("code", "parent"), scrub), ("description",), prose)
    key = _identity_key(codes, pmap)
    previous = codes._identity
    if previous is not None and len(previous) and not len(key):
        key = previous
    return dataclasses.replace(codes, segments=seg, codebook=book, cases=cases, _identity=key,
                               texts={scrub(k): v for k, v in texts.items()}, origin=scrub(codes.origin),
                               warnings=tuple(scrub(w) for w in codes.warnings))


def scrubber_for(codes) -> Scrubber:
    """The scrubber of ``codes``' known names: from its identity key once pseudonymised, else
    from its cases and sources."""
    key = codes._identity
    if key is None:
        pmap = case_pseudonyms(codes.cases)
        return build_scrubber(*known_names(codes, pmap))
    known, others = [], []
    for pseudonym, row in key.iterrows():
        for col, value in row.items():
            if col in ("case", "sources"):
                names = [n for part in str(value).split("; ") for n in label_names(part)]
                known += [(n, pseudonym) for n in names]
            elif isinstance(value, str) and len(value.strip()) >= 2:
                if _is_name_column(col) or _is_cjk_name(value.strip()):
                    known.append((value.strip(), pseudonym))
                else:
                    others.append(value)
    return build_scrubber(sorted(set(known)), sorted(set(others)))
