"""Languages as the published datasets write them, mapped to the store's BCP-47 tags: one module that
every import format uses, so "Portuguese", "por", "pt" and "pt_PT"'s language all land on one tag.

* a code: a BCP-47 tag or an ISO 639-1/-2/-3 code (`por` -> `pt`, `swh` -> `sw`, `arb` -> `ar`; an
  individual language with no macrolanguage member code keeps its own, `ary` stays `ary`);
* a name in English ("Portuguese" -> `pt`, "Moroccan Arabic" -> `ary`), looked up by langcodes;
* where a record gives both, the code wins.

The result goes through `canonical_tag`, like every tag the store keeps. An unknown language is a
`LineError`, so the importer names the record it came from."""

import functools

import langcodes
from django.utils.translation import gettext as _

from webapp.feedback.formats.parsing import LineError
from webapp.feedback.services.languages import canonical_tag

# Valid codes that name no language: undetermined, multiple, no linguistic content, uncoded.
NOT_A_LANGUAGE = {"und", "mul", "zxx", "mis"}


def language_tag(*, code: object = None, name: object = None, where: str = "language") -> str:
    """The tag for a record's language code and/or name (the code wins when both are given)."""
    if code not in (None, ""):
        return _required(_from_code(_text(code, where)), code, where)
    if name not in (None, ""):
        return _required(_from_name(_text(name, where)), name, where)
    raise LineError(_("'%(where)s' is missing") % {"where": where})


def language_from_value(value: object, where: str = "language") -> str:
    """The tag for a field that holds either a code or a name ("English" or "en")."""
    text = _text(value, where)
    return _required(_from_code(text) or _from_name(text), value, where)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise LineError(_("'%(where)s' must be a language code or name") % {"where": where})
    return value.strip()


def _required(tag: str | None, value: object, where: str) -> str:
    if tag is None:
        raise LineError(
            _(
                "'%(where)s': %(value)s is not a language this importer knows (give a BCP-47 tag, an ISO 639 code "
                "or an English name)"
            )
            % {"where": where, "value": repr(value)}
        )
    return tag


@functools.lru_cache(maxsize=4096)
def _from_code(code: str) -> str | None:
    tag = code.replace("_", "-")
    if not langcodes.tag_is_valid(tag):
        return None
    # macro=True: an individual language that is the usual member of its macrolanguage (swh, arb, cmn)
    # becomes the macrolanguage's code, as BCP-47 recommends; the others (ary, arz, yue) keep theirs.
    standard = langcodes.standardize_tag(tag, macro=True)
    if standard.split("-")[0].lower() in NOT_A_LANGUAGE:
        return None
    return canonical_tag(standard)


@functools.lru_cache(maxsize=4096)
def _from_name(name: str) -> str | None:
    try:
        found = langcodes.find(name)
    except LookupError:
        return None
    return _from_code(found.to_tag())
