from __future__ import annotations

from pathlib import Path

from onestack.config_doc import reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_configuration_reference_is_current() -> None:
    """docs/configuration.md is `onestack config reference`; regenerate it when this fails."""
    assert DOC.read_text() == reference()
