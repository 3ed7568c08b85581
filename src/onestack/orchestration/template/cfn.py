"""The CFN functions HOT 2013-05-23 keeps (``Fn::Join``, ``Fn::Select``, ``Fn::Split``,
``Fn::Replace``, ``Fn::Base64``, ``Fn::GetAZs``, ``Fn::MemberListToMap``); ``Ref`` and
``Fn::GetAtt`` live with their HOT twins in ``functions``."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from onestack.orchestration.template.functions import Function, _string, resolve


class CfnReplace(Function):
    """``Fn::Replace: [{token: value}, template]``."""

    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise TypeError(
                f'Arguments to "{self.fn_name}" must be of the form [{{token: value}}, template]'
            )

    def result(self) -> Any:
        mapping, template = resolve(self.args)
        if not isinstance(mapping, Mapping) or not isinstance(template, str):
            raise TypeError(
                f'Arguments to "{self.fn_name}" must be of the form [{{token: value}}, template]'
            )
        for key in sorted(mapping, key=lambda k: -len(k)):
            template = template.replace(key, _string(mapping[key]))
        return template


class Select(Function):
    """``Fn::Select: [index, list-or-map]``."""

    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form [index, collection]'
            )

    def result(self) -> Any:
        index, collection = resolve(self.args)
        if collection is None:
            return ""
        if isinstance(collection, str):
            try:
                collection = json.loads(collection)
            except ValueError:
                collection = collection.split(",")
        if isinstance(collection, list):
            try:
                return collection[int(index)]
            except (ValueError, IndexError):
                return ""
        if isinstance(collection, Mapping):
            return collection.get(str(index), "")
        raise TypeError(f'Arguments to "{self.fn_name}" not fully resolved')


class CfnSplit(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form [delimiter, string]'
            )

    def result(self) -> Any:
        delimiter, text = resolve(self.args)
        if not isinstance(text, str):
            raise TypeError(
                f'Arguments to "{self.fn_name}" must be of the form [delimiter, string]'
            )
        return text.split(delimiter)


class Base64(Function):
    def result(self) -> Any:
        value = resolve(self.args)
        if not isinstance(value, str):
            raise TypeError(f'"{self.fn_name}" argument must be a string')
        return value  # Heat passes the text through; the consumer encodes it


class GetAZs(Function):
    def result(self) -> Any:
        return self.ctx.availability_zones()


class MemberListToMap(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 3:
            raise TypeError(f'Wrong Arguments try: "{self.fn_name}": [key, value, list]')

    def result(self) -> Any:
        key_name, value_name, members = resolve(self.args)
        out: dict[str, Any] = {}
        pending: dict[str, dict[str, Any]] = {}
        for member in members or []:
            name, _, value = str(member).partition("=")
            index, _, field = name.rpartition(".")
            pending.setdefault(index, {})[field] = value
        for fields in pending.values():
            if key_name in fields:
                out[fields[key_name]] = fields.get(value_name)
        return out


class CfnBase64(Base64):
    pass


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
