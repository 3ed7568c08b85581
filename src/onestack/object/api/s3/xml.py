"""Building and reading S3's XML documents."""

from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree

from onestack.object.exceptions import S3Error

NS = "http://s3.amazonaws.com/doc/2006-03-01/"


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class Doc:
    """A tiny writer: ``Doc("Root").add("Key", "v")`` nests with ``child``."""

    def __init__(self, tag: str, *, namespace: bool = True) -> None:
        self.root = ElementTree.Element(tag, {"xmlns": NS} if namespace else {})

    def add(self, tag: str, value: object, parent: ElementTree.Element | None = None) -> None:
        element = ElementTree.SubElement(self.root if parent is None else parent, tag)
        element.text = str(value)

    def child(self, tag: str, parent: ElementTree.Element | None = None) -> ElementTree.Element:
        return ElementTree.SubElement(self.root if parent is None else parent, tag)

    def bytes(self) -> bytes:
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(self.root)


def parse(data: bytes) -> ElementTree.Element:
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError:
        raise S3Error("MalformedXML", "The XML you provided was not well-formed.") from None
    for element in root.iter():
        if "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root
