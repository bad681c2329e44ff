"""Command-line flags built from a dataclass, in the spirit of transformers' HfArgumentParser (which TRL's
scripts use) but a few dozen lines of our own: the dataclass stays the one place that names, types,
documents and defaults each setting, so a new field is a new flag without touching any command.

Every field becomes `--field-name` (`--field_name` is accepted too, unlisted), with the field's
`metadata["help"]` and its default in the help text. Flags default to `argparse.SUPPRESS`, so a
parsed namespace holds only what was typed: `given_fields` can then layer those over other
sources (a JSON blob, the dataclass defaults) without an unset flag clobbering anything.
Values are only converted here; range checks stay with the dataclass's own validation."""

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any

_NONE_WORDS = ("none", "null")


def add_dataclass_arguments(parser: argparse.ArgumentParser, cls: type[Any], title: str | None = None) -> None:
    """One flag per field of `cls`, gathered under `title` so `--help` shows them as a block."""
    group = parser.add_argument_group(title or cls.__name__)
    hints = typing.get_type_hints(cls)
    for item in dataclasses.fields(cls):
        _add_field(group, item, hints[item.name])


def given_fields(options: Mapping[str, Any], cls: type[Any]) -> dict[str, Any]:
    """The fields of `cls` that the command line set; absent ones were left to their other sources."""
    names = {item.name for item in dataclasses.fields(cls)}
    return {name: value for name, value in options.items() if name in names}


def flag_name(field_name: str) -> str:
    """The listed spelling of a field's flag, for messages that point back at it."""
    return "--" + field_name.replace("_", "-")


def _add_field(group: argparse._ArgumentGroup, item: dataclasses.Field[Any], annotation: Any) -> None:
    """Never `required`: a field without a default may still come from another source (--hp), and
    the dataclass itself says when it is missing."""
    spec = _type_spec(item.name, annotation)
    group.add_argument(flag_name(item.name), dest=item.name, default=argparse.SUPPRESS, help=_help(item), **spec)
    if "_" in item.name:  # the Python spelling works too, without doubling every line of --help
        group.add_argument("--" + item.name, dest=item.name, default=argparse.SUPPRESS, help=argparse.SUPPRESS, **spec)


def _help(item: dataclasses.Field[Any]) -> str:
    """The field's help plus its default, %-escaped because argparse %-formats help strings."""
    text = str(item.metadata.get("help", ""))
    default = _default(item)
    if default is not dataclasses.MISSING:
        text = f"{text} (default: {_show(default)})".strip()
    return text.replace("%", "%%")


def _default(item: dataclasses.Field[Any]) -> Any:
    if item.default is not dataclasses.MISSING:
        return item.default
    if item.default_factory is not dataclasses.MISSING:
        return item.default_factory()
    return dataclasses.MISSING


def _show(value: Any) -> str:
    """Defaults as one would type them back: lists space-separated, None as `none`."""
    if isinstance(value, list | tuple):
        return " ".join(_show(v) for v in value)
    return "none" if value is None else str(value)


def _type_spec(name: str, annotation: Any) -> dict[str, Any]:
    """argparse keywords for a field's type: bools as --x/--no-x, lists as one or more values,
    Literals as choices, Optional[T] as T (or the word `none`). Anything else is a TypeError now,
    when the command is built, rather than a flag that silently parses the wrong thing."""
    inner, optional = _unwrap_optional(annotation)
    if inner is bool:
        return {"action": argparse.BooleanOptionalAction}
    origin = typing.get_origin(inner)
    if origin is list:
        return _list_spec(name, inner)
    if origin is typing.Literal:
        choices = typing.get_args(inner)
        return {"type": _converter(name, type(choices[0]), optional), "choices": choices}
    return {"type": _converter(name, inner, optional), "metavar": _metavar(inner)}


def _list_spec(name: str, annotation: Any) -> dict[str, Any]:
    """`list[T]` takes one or more values after the flag: `--lora-targets q_proj v_proj`."""
    args = typing.get_args(annotation)
    item = args[0] if args else str
    return {"nargs": "+", "type": _converter(name, item, False), "metavar": _metavar(item)}


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """`T | None` / `Optional[T]` -> (T, True); anything else -> (annotation, False)."""
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return annotation, False
    rest = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(rest) != 1:
        raise TypeError(f"cannot make a flag for {annotation} (a union of several types)")
    return rest[0], True


def _converter(name: str, kind: Any, optional: bool) -> Callable[[str], Any]:
    """A str -> value function whose error names the field and the expected kind, which argparse
    puts after the flag in its message (`argument --learning-rate: learning_rate: expected ...`)."""
    if kind not in (int, float, str):
        raise TypeError(f"{name}: cannot make a flag for type {kind!r}")

    def convert(text: str) -> Any:
        if optional and text.lower() in _NONE_WORDS:
            return None
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: expected {_metavar(kind).lower()}, got {text!r}") from None

    convert.__name__ = kind.__name__
    return convert


def _metavar(kind: Any) -> str:
    return {int: "INT", float: "FLOAT", str: "TEXT"}.get(kind, "VALUE")
