"""Read an ISO 20022 element tree into plain dicts, driven by a declarative spec.

A spec maps an element's local name to what to do with it:

* ``"field"`` - keep the element's text (stripped; empty text counts as absent) under that key;
  the first occurrence wins, as for every repeated element the model holds only once;
* a nested ``dict`` - read that element's children into the *same* output dict (groups such as
  ``GrpHdr`` or ``PmtId`` that only hold fields);
* ``Sub`` / ``Amt`` / ``Texts`` - a child read into its own dict (optionally reshaped by a
  ``fix`` function, optionally collected in a list), an amount with its ``Ccy``, or all texts.

Elements the spec does not name are skipped, or, where the spec has an ``ANY`` entry holding a
``Skipped``, listed by name. The result is handed to pydantic in one
``model_validate`` call, which builds the nested canonical model in pydantic-core. This is the
per-message hot path: one pass over the elements in Python, no per-field path lookups and no
Python-level model construction (about 2.5x faster than walking to a generic tree first and then
constructing each nested model separately).

The hardened parser removes comments and processing instructions, so every child is an element.
Every element of an ISO 20022 message shares its root's namespace: specs name elements by local
name and are qualified with the namespace of the element being read, once per namespace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Union

from lxml import etree

Out = dict[str, Any]
Fix = Callable[[Out], Out | None]
Spec = dict[str, Union[str, "Spec", "Sub", "Amt", "Texts", "Skipped", "ConditionBlock"]]
ANY = "*"  # spec key: what to do with a child the spec does not name (default: skip it silently)


class Sub:
    """A child element read into a dict of its own, put under ``field`` (or appended to a list).

    An element without children holds nothing the model can use and counts as absent, as does a
    dict that ``fix`` turns into None.
    """

    __slots__ = ("field", "fix", "many", "spec")

    def __init__(self, field: str, spec: Spec, fix: Fix | None = None, *, many: bool = False) -> None:
        self.field, self.spec, self.fix, self.many = field, spec, fix, many


class Amt:
    """An amount element: its text under ``amount``, its ``Ccy`` attribute under ``currency``."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount: str, currency: str) -> None:
        self.amount, self.currency = amount, currency

    def read(self, el: etree._Element, out: Out) -> None:
        text = (el.text or "").strip()
        if text and self.amount not in out:
            out[self.amount] = text
            out[self.currency] = (el.get("Ccy") or "").strip()


class Texts:
    """Every occurrence's text, in document order (address lines, unstructured remittance)."""

    __slots__ = ("field",)

    def __init__(self, field: str) -> None:
        self.field = field

    def read(self, el: etree._Element, out: Out) -> None:
        out.setdefault(self.field, []).append((el.text or "").strip())


class Skipped:
    """Under ``ANY``: records the local name of each child the spec does not read, so that what
    a message carries but the model does not is known, not silently lost."""

    __slots__ = ("field", "path")

    def __init__(self, field: str, path: str = "") -> None:
        self.field, self.path = field, path

    def read(self, el: etree._Element, out: Out) -> None:
        tag = el.tag
        if isinstance(tag, str):
            out.setdefault(self.field, []).append(self.path + tag[tag.rfind("}") + 1:])


class ConditionBlock:
    """``SplmtryData`` holding the corridor's condition block (``Envlp/Cond`` in
    ``urn:corridor-router:xsd:condition.001``) is read under ``field``; any other supplementary
    data is listed under ``not_carried`` like every element the model does not read."""

    __slots__ = ("field", "namespace")

    def __init__(self, field: str, namespace: str) -> None:
        self.field, self.namespace = field, namespace

    def read(self, el: etree._Element, out: Out) -> None:
        ns = "{" + self.namespace + "}"
        for envelope in el:
            if not isinstance(envelope.tag, str) or not envelope.tag.endswith("}Envlp"):
                continue
            for block in envelope:
                if block.tag == ns + "Cond" and self.field not in out:
                    out[self.field] = {tag[len(ns):]: (c.text or "").strip() for c in block
                                       if isinstance(tag := c.tag, str) and tag.startswith(ns)}
                    return
        out.setdefault("not_carried", []).append("SplmtryData")


def _qualified(spec: Spec, prefix: str) -> Spec:
    """``spec`` keyed by full tags (``{namespace}Name``): lxml hands out full tags, and looking
    them up as they come saves cutting the namespace off ~100 tags per message."""
    out: Spec = {}
    for name, h in spec.items():
        if isinstance(h, dict):
            h = _qualified(h, prefix)
        elif isinstance(h, Sub):
            h = Sub(h.field, _qualified(h.spec, prefix), h.fix, many=h.many)
        out[name if name == ANY else prefix + name] = h
    return out


_IN_NAMESPACE: dict[tuple[int, str], Spec] = {}


def read_element(el: etree._Element, spec: Spec, out: Out) -> None:
    """Read ``el``'s children into ``out`` as ``spec`` (keyed by local names) says."""
    tag = el.tag
    assert isinstance(tag, str)
    prefix = tag[: tag.rfind("}") + 1]
    key = (id(spec), prefix)  # specs are module constants: their ids are stable
    qualified = _IN_NAMESPACE.get(key)
    if qualified is None:
        qualified = _IN_NAMESPACE[key] = _qualified(spec, prefix)
    _read(el, qualified, out)


def _read(el: etree._Element, spec: Spec, out: Out) -> None:
    for c in el:
        h = spec.get(c.tag)
        if h is None:
            h = spec.get(ANY)
            if h is None:
                continue
        kind = type(h)
        if kind is str:
            if h not in out:
                text = c.text
                if text:
                    text = text.strip()
                    if text:
                        out[h] = text  # type: ignore[index]
        elif kind is dict:
            _read(c, h, out)  # type: ignore[arg-type]
        elif kind is Sub:
            sub: Sub = h  # type: ignore[assignment]
            if not len(c) or (not sub.many and sub.field in out):
                continue
            d: Out = {}
            _read(c, sub.spec, d)
            v = sub.fix(d) if sub.fix is not None else d
            if v is None:
                continue
            if sub.many:
                out.setdefault(sub.field, []).append(v)
            else:
                out[sub.field] = v
        else:
            h.read(c, out)  # type: ignore[union-attr]
