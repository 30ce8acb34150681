"""Untrusted XML read safely, every element remembering the line it starts on.

Statement files come from outside, so XML is parsed with defusedxml: a document type
declaration (DTD), and with it every entity definition, external reference and entity
expansion ("billion laughs"), is refused before anything is read. The pure-Python expat
parser is used so that each element keeps its line for error messages. Namespaces are
dropped on the way in (`{urn:...camt.053.001.08}Stmt` is `Stmt`); the document's own
namespace is kept in `Tree.namespace`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser, ParseError

from closeflow.bank.statement import SourceFile


class Tree:
    """ElementTree target: drops namespaces, remembers the line each element starts on."""

    def __init__(self) -> None:
        self._builder = ET.TreeBuilder()
        self.lines: dict[ET.Element, int] = {}
        self.namespace: str | None = None
        self.expat = None

    @staticmethod
    def local(tag: str) -> tuple[str, str]:
        if tag.startswith("{"):
            ns, _, local = tag[1:].partition("}")
            return ns, local
        return "", tag

    def start(self, tag: str, attrib: dict[str, str]) -> ET.Element:
        ns, local = self.local(tag)
        if self.namespace is None:
            self.namespace = ns
        elem = self._builder.start(local, {self.local(k)[1]: v for k, v in attrib.items()})
        self.lines[elem] = self.expat.CurrentLineNumber
        return elem

    def end(self, tag: str) -> ET.Element:
        return self._builder.end(self.local(tag)[1])

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> ET.Element:
        return self._builder.close()


UNSAFE = "the file declares a DTD or entities, which bank statements never do; refused as unsafe"


def parse_xml(src: SourceFile, data: bytes | None = None) -> tuple[ET.Element, Tree]:
    """The root element of `src` (or of `data`, text cut from it) and its line-keeping tree."""
    tree = Tree()
    parser = DefusedXMLParser(target=tree, forbid_dtd=True)
    tree.expat = parser.parser
    try:
        parser.feed(src.data if data is None else data)
        root = parser.close()
    except ParseError as exc:
        raise src.error(
            exc.position[0],
            f"the file is damaged or incomplete: it is not well-formed XML ({exc.msg})",
        ) from exc
    except DefusedXmlException as exc:
        raise src.error(parser.parser.CurrentLineNumber, UNSAFE) from exc
    return root, tree
