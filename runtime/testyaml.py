"""YAML for ``*.test.yaml``: values with the line of every node, and targeted rewrites.

Two things PyYAML does not do on its own:

* **YAML 1.2 core scalars**: only ``true``/``false`` are booleans, dates stay strings, ``on``/``yes``
  are text (PyYAML implements YAML 1.1). Duplicate keys are an error, not "last one wins".
* **Locations**: :func:`load` returns the plain value and a map from every path
  (``("tests", 0, "expect")``) to its node, so messages can say ``file:line`` and ``--update`` can
  replace exactly one value's characters, keeping the rest of the file (comments, order, quoting).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from prelude.errors import PaymapError

Path_ = tuple[str | int, ...]

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution)
_NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL_RE = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_INT_RE = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT_RE = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                       r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


class _Loader(yaml.SafeLoader):
    """Composes nodes only; tags resolved with the YAML 1.2 core schema."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _re, _first in (
    (_NULL, _NULL_RE, ["~", "n", "N", ""]),
    (_BOOL, _BOOL_RE, list("tTfF")),
    (_INT, _INT_RE, list("-+0123456789")),
    (_FLOAT, _FLOAT_RE, list("-+0123456789.")),
):
    _Loader.add_implicit_resolver(_tag, _re, _first)


def plain_type(text: str) -> type:
    """The type a plain (unquoted) scalar with this text reads as."""
    if _NULL_RE.match(text):
        return type(None)
    if _BOOL_RE.match(text):
        return bool
    if _INT_RE.match(text):
        return int
    if _FLOAT_RE.match(text):
        return float
    return str


class YamlError(PaymapError):
    """A problem at a line of the YAML text (1-based; 0 when unknown)."""

    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(slots=True)
class Doc:
    """A loaded YAML document: its value and the node at every path."""

    text: str
    value: Any
    nodes: dict[Path_, yaml.Node] = field(default_factory=dict)
    key_nodes: dict[Path_, yaml.Node] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """The 1-based line of the value at ``path`` (or of its nearest ancestor)."""
        p = path
        while True:
            node = self.nodes.get(p)
            if node is not None:
                return int(node.start_mark.line) + 1
            if not p:
                return 1
            p = p[:-1]

    def key_line(self, path: Path_) -> int:
        node = self.key_nodes.get(path)
        return int(node.start_mark.line) + 1 if node is not None else self.line(path)


def load(text: str) -> Doc:
    """Parse one YAML document; raise :class:`YamlError` with a line for any problem."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            problem = f"{problem} ({exc.context})"
        if mark is None:
            raise YamlError(f"invalid YAML: {problem}") from None
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    doc = Doc(text, None)
    if root is None:
        return doc
    doc.value = _construct(root, (), doc, 0)
    return doc


def _construct(node: yaml.Node, path: Path_, doc: Doc, depth: int) -> Any:
    if depth > 100:
        raise YamlError("the YAML is nested too deeply", node.start_mark.line + 1)
    doc.nodes.setdefault(path, node)
    line = node.start_mark.line + 1
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node, line)
    if isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ:
            raise YamlError(f"unsupported YAML tag {node.tag}", line)
        return [_construct(item, (*path, i), doc, depth + 1) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP:
            raise YamlError(f"unsupported YAML tag {node.tag}", line)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            kline = key_node.start_mark.line + 1
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError("merge keys (`<<`) are not supported; write the keys out", kline)
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("a key must be text, not a list or mapping", kline)
            key = _scalar(key_node, kline)
            if key is None or isinstance(key, bool | float):
                raise YamlError(f"a key must be text or an index, not {key_node.value!r}; quote it", kline)
            if key in out:
                raise YamlError(f"duplicate key {key!r} (first at line {doc.key_line((*path, key))})", kline)
            doc.key_nodes[(*path, key)] = key_node
            out[key] = _construct(value_node, (*path, key), doc, depth + 1)
        return out
    raise YamlError("unsupported YAML node", line)  # pragma: no cover


def _scalar(node: yaml.ScalarNode, line: int) -> Any:
    text = node.value
    tag = node.tag
    if tag == _STR or tag == "tag:yaml.org,2002:value":
        return text
    if tag == _NULL:
        return None
    if tag == _BOOL:
        if text.lower() not in ("true", "false"):
            raise YamlError(f"{text!r} is not a boolean", line)
        return text.lower() == "true"
    if tag == _INT:
        try:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text)
        except ValueError:
            raise YamlError(f"{text!r} is not an integer", line) from None
    if tag == _FLOAT:
        low = text.lower()
        if low.endswith(".inf"):
            return -math.inf if low.startswith("-") else math.inf
        if low == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            raise YamlError(f"{text!r} is not a number", line) from None
    raise YamlError(f"unsupported YAML tag {tag}", line)


# --- writing -----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Quotes every string a YAML 1.2 (or 1.1) reader would not read back as that string."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if plain_type(value) is not str or value != value.strip() or not value:
        return dumper.represent_scalar(_STR, value, style='"')
    return dumper.represent_scalar(_STR, value)


_Dumper.add_representer(str, _represent_str)


def dump_inline(value: Any) -> str:
    """One line of flow-style YAML for a value (valid in block and flow context)."""
    if isinstance(value, str):
        if plain_type(value) is str and value == value.strip() and value and _plain_ok(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or value is None or isinstance(value, int | float):
        return json.dumps(value)
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, sort_keys=False,
                     allow_unicode=True, width=1 << 30)
    return text.strip().removesuffix("...").strip()


_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@+/-]*$")


def _plain_ok(text: str) -> bool:
    return bool(_PLAIN_SAFE.match(text)) or text in ("~missing", "~any", "~delete")


def dump_block(value: Any, indent: int) -> str:
    """Block-style YAML for a list or mapping; lines after the first are indented by ``indent``."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=False, sort_keys=False,
                     allow_unicode=True, width=1 << 30, indent=2)
    lines = text.rstrip("\n").split("\n")
    return "\n".join([lines[0]] + [" " * indent + ln for ln in lines[1:]])


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    text: str


def apply_edits(text: str, edits: list[Edit]) -> str:
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        text = text[: e.start] + e.text + text[e.end:]
    return text


def content_end(node: yaml.Node, text: str) -> int:
    """Where a node's own characters end (a block collection's end mark is past its comments)."""
    if isinstance(node, yaml.ScalarNode):
        end = int(node.end_mark.index)
        if node.style in ("|", ">"):
            while end > node.start_mark.index and text[end - 1] in "\r\n":
                end -= 1
        return end
    assert isinstance(node, yaml.MappingNode | yaml.SequenceNode)
    if node.flow_style or not node.value:
        return int(node.end_mark.index)
    last = node.value[-1]
    return content_end(last[1] if isinstance(node, yaml.MappingNode) else last, text)


def is_block(node: yaml.Node) -> bool:
    return isinstance(node, yaml.MappingNode | yaml.SequenceNode) and not node.flow_style


def replace_value(node: yaml.Node, value: Any, text: str) -> Edit:
    """Replace the characters of ``node`` with ``value``, block style if the node was a block."""
    start = int(node.start_mark.index)
    end = content_end(node, text)
    if is_block(node) and isinstance(value, dict | list) and value:
        return Edit(start, end, dump_block(value, int(node.start_mark.column)))
    return Edit(start, end, dump_inline(value))


def replace_pair_value(key: yaml.Node, node: yaml.Node, value: Any, text: str) -> Edit:
    """Replace the value of ``key: node`` in a mapping (block values may start on the next line)."""
    collection = isinstance(value, dict | list) and bool(value)
    if not is_block(node):
        return replace_value(node, value, text)
    end = content_end(node, text)
    key_col = int(key.start_mark.column)
    if collection and int(node.start_mark.column) > key_col:
        return Edit(int(node.start_mark.index), end, dump_block(value, int(node.start_mark.column)))
    if collection:  # e.g. a list written without indentation (`key:` then `- a` in the same column)
        return Edit(int(key.end_mark.index), end, ":\n" + " " * (key_col + 2) + dump_block(value, key_col + 2))
    return Edit(int(key.end_mark.index), end, ": " + dump_inline(value))


def set_key(mapping: yaml.MappingNode, key: str, value: Any, text: str,
            replace: tuple[yaml.Node, yaml.Node] | None) -> Edit:
    """Write ``key: value`` in a mapping, in place of the pair ``replace`` or after the last pair."""
    if mapping.flow_style:
        pair = f"{key}: {dump_inline(value)}"
        if replace is not None:
            return Edit(int(replace[0].start_mark.index), content_end(replace[1], text), pair)
        close = int(mapping.end_mark.index) - 1
        sep = ", " if mapping.value else ""
        return Edit(close, close, sep + pair)
    if replace is not None:
        col = int(replace[0].start_mark.column)
    elif mapping.value:
        col = int(mapping.value[0][0].start_mark.column)
    else:  # pragma: no cover - an empty block mapping is written `{}` (flow)
        col = int(mapping.start_mark.column)
    if isinstance(value, dict | list) and value:
        pair = f"{key}:\n" + " " * (col + 2) + dump_block(value, col + 2)
    else:
        pair = f"{key}: {dump_inline(value)}"
    if replace is not None:
        return Edit(int(replace[0].start_mark.index), content_end(replace[1], text), pair)
    at = content_end(mapping.value[-1][1], text)
    return Edit(at, at, "\n" + " " * col + pair)


def mapping_pair(mapping: yaml.MappingNode, key: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return k, v
    return None
