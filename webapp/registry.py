"""Named registries: the seams through which a higher layer (or a later feature) adds a kind of
thing that a lower layer uses, without the lower layer importing it or being edited again.

The registries of the project: `webapp.feedback.extensions` (task kinds, judges, import reports),
`webapp.feedback.formats.registry` (import and export formats) and `webapp.training.trainers`
(dpo, sft, ...). Entries register at import time of the module that defines them, or in an app's
`ready()` when they belong to a higher app."""

from collections.abc import Iterator
from typing import Generic, TypeVar

from django.utils.translation import gettext as _

from webapp.errors import ApplicationError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, what: str) -> None:
        self.what = what  # marked with gettext_noop where it is created; translated in messages
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T) -> T:
        """Add `item` as `name`; registering the same name twice is a programming error."""
        if name in self._items and self._items[name] is not item:
            raise ValueError(f"{self.what} {name!r} is registered already")
        self._items[name] = item
        return item

    def get(self, name: str) -> T:
        """The entry, or a 4xx-mapped error that lists the known names."""
        try:
            return self._items[name]
        except KeyError:
            raise ApplicationError(
                _("unknown %(what)s %(name)s; use one of: %(names)s")
                % {"what": _(self.what), "name": repr(name), "names": ", ".join(self._items)}
            ) from None

    def names(self) -> tuple[str, ...]:
        return tuple(self._items)

    def items(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._items.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __len__(self) -> int:
        return len(self._items)
