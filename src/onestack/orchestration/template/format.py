"""Template and environment text to documents, as Heat reads them.

YAML (a JSON document is YAML too) with Heat's loader rules: dates such as
``2018-08-31`` stay strings (HOT versions are dates), and the document must be
a map.  Errors answer 400 with Heat's wording.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml

from onestack.orchestration.exceptions import HTTPBadRequest


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver (versions are strings)."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def parse_template(text: str | Mapping[str, Any], max_size: int) -> dict[str, Any]:
    """A template document from text (or an already parsed map)."""
    if isinstance(text, Mapping):
        if len(json.dumps(text)) > max_size:
            raise HTTPBadRequest(
                detail=f"Template size ({len(json.dumps(text))} bytes) exceeds maximum allowed "
                f"size ({max_size} bytes)."
            )
        return dict(text)
    if len(text) > max_size:
        raise HTTPBadRequest(
            detail=f"Template size ({len(text)} bytes) exceeds maximum allowed size "
            f"({max_size} bytes)."
        )
    try:
        doc = _load(text)
    except yaml.YAMLError as exc:
        raise HTTPBadRequest(detail=f"Error parsing template: {exc}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise HTTPBadRequest(
            detail="Error parsing template: The template is not a JSON object or YAML mapping."
        )
    if not any(
        k in doc
        for k in ("heat_template_version", "HeatTemplateFormatVersion", "AWSTemplateFormatVersion")
    ):
        raise HTTPBadRequest(detail="Template format version not found.")
    return dict(doc)


ENV_SECTIONS = (
    "parameters",
    "resource_registry",
    "parameter_defaults",
    "encrypted_param_names",
    "event_sinks",
    "parameter_merge_strategies",
)


def parse_environment(text: str | Mapping[str, Any] | None) -> dict[str, Any]:
    if text is None or text == "":
        return {}
    if isinstance(text, Mapping):
        doc: Any = dict(text)
    else:
        try:
            doc = _load(text)
        except yaml.YAMLError as exc:
            raise HTTPBadRequest(detail=f"Error parsing environment: {exc}") from None
        if doc is None:
            return {}
    if not isinstance(doc, Mapping):
        raise HTTPBadRequest(detail="The environment is not a valid YAML mapping data type.")
    for key in doc:
        if key not in ENV_SECTIONS:
            raise HTTPBadRequest(detail=f'environment has wrong section "{key}"')
    return dict(doc)
