"""Strict YAML for study specs and instruments: safe tags only, duplicate keys refused, every
key's line remembered, and aliases, nesting and size bounded *before* anything is built.

A YAML alias (``*a``) re-uses an anchored node; nested aliases multiply (the "billion laughs"
bomb: a 793-byte file that expands to gigabytes). The document's node graph is composed
first, its expanded size and depth are counted on the graph (each node once, so the count
itself is cheap), and a file over the budget is refused with the numbers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from govsurvey.data.checks import check_regular_file
from govsurvey.errors import GovsurveyError

__all__ = ["YamlMap", "YamlSeq", "YamlLimitError", "Problems", "parse_yaml", "load_yaml_file", "line_of", "MAX_NODES", "MAX_DEPTH"]

MAX_NODES = 200_000     # scalars + collections after alias expansion
MAX_DEPTH = 40          # nesting of mappings and lists


class YamlLimitError(ValueError):
    """A YAML document over the size, nesting or alias budget (the caller wraps it)."""


class YamlMap(dict):
    """A mapping that remembers its own line and each key's line (1-based)."""

    line: int = 0
    key_lines: dict

    def __init__(self) -> None:
        super().__init__()
        self.key_lines = {}


class YamlSeq(list):
    """A list that remembers its own line and each entry's line (1-based)."""

    line: int = 0
    item_lines: list


_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)     # libyaml's parser where PyYAML was built with it: ~5× faster


class _Loader(_Base):
    """A safe loader that remembers where every mapping, key and list entry was."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> YamlMap:
    loader.flatten_mapping(node)
    out = YamlMap()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if isinstance(key, (list, dict)):
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain value", key_node.start_mark)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first at line {out.key_lines[key]})", key_node.start_mark
            )
        out[key] = loader.construct_object(value_node, deep=True)
        out.key_lines[key] = line
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> YamlSeq:
    out = YamlSeq(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _measure(root: yaml.Node, max_nodes: int, max_depth: int) -> None:
    """Count the expanded size and depth of a node graph, each distinct node visited once."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    state: dict[int, int] = {}          # 1 = on the path (a cycle if met again), 2 = done
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    while stack:
        node, phase = stack.pop()
        key = id(node)
        children = ([c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode)
                    else list(node.value) if isinstance(node, yaml.SequenceNode) else [])
        if phase == 0:
            if state.get(key) == 2:
                continue
            if state.get(key) == 1:
                raise YamlLimitError(f"line {node.start_mark.line + 1}: an alias refers to a mapping or list that contains it "
                                     "(a recursive structure)")
            state[key] = 1
            stack.append((node, 1))
            for child in children:
                if state.get(id(child)) == 1:
                    raise YamlLimitError(f"line {child.start_mark.line + 1}: an alias refers to a mapping or list that "
                                         "contains it (a recursive structure)")
                stack.append((child, 0))
            if len(stack) > 10 * max_nodes:
                raise YamlLimitError(f"more than {max_nodes:,} values")
            continue
        size[key] = 1 + sum(size[id(c)] for c in children)
        depth[key] = (1 + max((depth[id(c)] for c in children), default=0)) if children else 0
        state[key] = 2
        if size[key] > max_nodes:
            raise YamlLimitError(f"line {node.start_mark.line + 1}: it expands to more than {max_nodes:,} values "
                                 "(aliases such as *name repeat what they point to)")
        if depth[key] > max_depth:
            raise YamlLimitError(f"line {node.start_mark.line + 1}: mappings and lists are nested more than {max_depth} deep")


def parse_yaml(text: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse one YAML document strictly.

    Mappings come back as :class:`YamlMap` and lists as :class:`YamlSeq` (plain dict and
    list otherwise), so a validator can name the line of any key. Only YAML's safe tags are
    resolved. Raises ``yaml.YAMLError`` for syntax errors and duplicate keys, and
    :class:`YamlLimitError` for documents whose expanded size or nesting exceeds the budget.

    Examples
    --------
    >>> from govsurvey.data.yamlfile import parse_yaml, line_of
    >>> doc = parse_yaml("a: 1\\nb:\\n  c: 2\\n")
    >>> doc, line_of(doc["b"], "c")
    ({'a': 1, 'b': {'c': 2}}, 3)
    >>> parse_yaml("a: &x [1, 2]\\nb: *x\\n")
    {'a': [1, 2], 'b': [1, 2]}
    """
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise YamlLimitError(f"mappings and lists are nested more than {max_depth} deep") from None
        if node is None:
            return None
        _measure(node, max_nodes, max_depth)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of ``key`` in a :class:`YamlMap` / index in a :class:`YamlSeq` (else the
    container's own line; ``None`` for values that carry no position)."""
    if isinstance(container, YamlMap):
        if key is not None and key in container.key_lines:
            return container.key_lines[key]
        return container.line or None
    if isinstance(container, YamlSeq):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line or None
    return None


def read_yaml_text(path: Path, *, max_bytes: int) -> str:
    """The file's text (UTF-8, BOM allowed), refusing files over ``max_bytes``.

    Raises ``UnicodeDecodeError`` for text that is not UTF-8 and :class:`YamlLimitError`
    for oversized files; callers turn both into their own clear errors. The path must be a
    regular file (:func:`govsurvey.data.checks.check_regular_file`)."""
    size = path.stat().st_size
    if size > max_bytes:
        raise YamlLimitError(f"the file is {size:,} bytes; at most {max_bytes:,} are read")
    return path.read_bytes().decode("utf-8-sig")


def load_yaml_file(path: Path, *, noun: str, error: type[GovsurveyError], max_bytes: int, bomb_fix: str) -> Any:
    """Read and parse a YAML file strictly; every failure is ``error`` with the file, the line
    where YAML knows it, and a fix (``noun`` names the file's kind, e.g. "Study spec")."""
    check_regular_file(path, noun, error)          # a FIFO or a device would block or never end
    try:
        return parse_yaml(read_yaml_text(path, max_bytes=max_bytes))
    except UnicodeDecodeError as exc:
        raise error(f"{noun} {path} is not UTF-8 text (byte {exc.start}; GBK/ANSI files from Windows editors are common). "
                    "Fix: save the file as UTF-8.") from None
    except YamlLimitError as exc:
        raise error(f"{noun} {path} is refused: {exc}. Fix: {bomb_fix}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise error(f"{noun} {path}{where} is not valid YAML: {problem}. "
                    "Fix: check indentation and quoting there (text with ':' or '#' needs quotes).") from None


class Problems:
    """Every problem of one file, reported at once, each with its position and fix.

    ``unit`` names what positions count (YAML lines, XLSForm rows); ``raise_if_any`` raises
    ``error`` headed "<noun> <path> has N problems"."""

    def __init__(self, path: str, *, noun: str, error: type[GovsurveyError], unit: str = "line") -> None:
        self.path, self.noun, self.error, self.unit = path, noun, error, unit
        self.messages: list[str] = []

    def add(self, line: int | None, where: str, what: str, fix: str) -> None:
        loc = f"{self.path}, {self.unit} {line}" if line else self.path
        self.messages.append(f"{loc} ({where}): {what} Fix: {fix}")

    def raise_if_any(self) -> None:
        if self.messages:
            n = len(self.messages)
            head = f"{self.noun} {self.path} has {n} problem{'s' if n > 1 else ''}:"
            raise self.error(head + "\n  - " + "\n  - ".join(self.messages))
