"""The seams' registry: entries by name, a 4xx-mapped error that lists the known names, and no
silent replacement of an entry."""

import pytest

from webapp.errors import ApplicationError
from webapp.feedback.extensions import task_kinds
from webapp.feedback.formats.registry import export_formats, import_formats, unpaired_sources
from webapp.registry import Registry


def test_an_unknown_name_is_refused_with_the_known_ones():
    registry: Registry[int] = Registry("colour")
    registry.register("red", 1)
    registry.register("blue", 2)
    with pytest.raises(ApplicationError, match="unknown colour 'green'; use one of: red, blue"):
        registry.get("green")
    assert registry.get("blue") == 2 and registry.names() == ("red", "blue") and "red" in registry


def test_registering_a_name_twice_is_an_error():
    registry: Registry[object] = Registry("judge")
    registry.register("a", first := object())
    registry.register("a", first)  # the same entry again (a module imported twice) is harmless
    with pytest.raises(ValueError, match="registered already"):
        registry.register("a", object())


def test_the_built_in_entries_are_registered():
    import webapp.feedback.formats.exporting  # noqa: F401  (registers the export formats)

    assert export_formats.names() == ("pairs", "dpo", "sft", "rankings", "hf", "kto", "arena")
    assert unpaired_sources.names() == ("arena", "ranking", "flags", "verify")  # the kto format's sources
    # The store's own formats come first (auto-detection tries them in order); the published datasets' follow.
    assert import_formats.names()[:2] == ("pairs", "rankings") and task_kinds.names() == (
        "ranking",
        "write",
        "reply",
        "edit",
        "translate",
        "verify",
    )
    assert {"oasst", "ultrafeedback", "hh-rlhf", "aya", "hf", "arena"} <= set(import_formats.names())
    assert {"oasst", "ultrafeedback", "hh-rlhf"} <= set(import_formats.names())
