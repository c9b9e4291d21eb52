"""YAML from people and files we do not control, read within bounds.

PyYAML's safe loader builds no objects of its own choosing, but it follows aliases: a few hundred
bytes of nested anchors ("billion laughs") stand for billions of nodes, which any walk over the
document (our pack checker, pydantic, json.dumps) then visits one by one. Every YAML text Sojourn
reads goes through this module, which counts the nodes a document stands for, aliases expanded, and
refuses it past a bound, as well as texts past a size bound.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, SequenceNode

# The largest shipped market pack or journey map stands for a few thousand nodes.
MAX_NODES = 50_000
MAX_BYTES = 1_000_000


class YamlTooLarge(yaml.MarkedYAMLError):
    """The text, or what its aliases expand to, is past the bound; a YAMLError like any other."""


class _BoundedLoader(yaml.SafeLoader):
    """A safe loader that keeps, per composed node, the number of nodes it stands for."""

    def __init__(self, stream: str, max_nodes: int) -> None:
        super().__init__(stream)
        self._max_nodes = max_nodes
        self._sizes: dict[int, int] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        alias = self.check_event(AliasEvent)
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        size = self._sizes.get(id(node))
        if size is None:
            if alias:  # the anchor is still being composed: the node would contain itself
                raise YamlTooLarge(None, None, "an alias refers to the node that contains it", mark)
            size = 1
            if isinstance(node, SequenceNode):
                size += sum(self._sizes[id(child)] for child in node.value)
            elif isinstance(node, MappingNode):
                size += sum(self._sizes[id(k)] + self._sizes[id(v)] for k, v in node.value)
            self._sizes[id(node)] = size
        if size > self._max_nodes:
            raise YamlTooLarge(None, None, f"the document stands for more than {self._max_nodes} values "
                               "once its aliases are expanded", mark)
        return node


def _loader(text: str, max_bytes: int, max_nodes: int) -> _BoundedLoader:
    if len(text) > max_bytes:
        raise YamlTooLarge(None, None, f"the text is longer than {max_bytes} characters", None)
    return _BoundedLoader(text, max_nodes)


def compose_yaml(text: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> Node | None:
    """Return the node graph of a one-document text (with its line marks), within the bounds."""
    loader = _loader(text, max_bytes, max_nodes)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def load_yaml(text: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> Any:
    """Return the data of a one-document text as yaml.safe_load would, within the bounds."""
    loader = _loader(text, max_bytes, max_nodes)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
