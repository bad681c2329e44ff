"""BCP-47 language tags: validation (langcodes), canonical letter case, display name, direction."""

import functools

import langcodes
from django.utils.translation import gettext as _

from webapp.errors import ApplicationError
from webapp.feedback.models import Direction, Language

# Scripts written right to left (ISO 15924), and languages whose default script is one of them.
RTL_SCRIPTS = {"Arab", "Hebr", "Thaa", "Syrc", "Nkoo", "Adlm", "Mand", "Samr", "Rohg", "Yezi"}
RTL_LANGUAGES = {"ar", "he", "fa", "ur", "ps", "yi", "dv", "sd", "ug", "ckb", "syr", "arc", "iw", "ji"}


class InvalidLanguage(ApplicationError):
    pass


def canonical_tag(tag: str) -> str:
    """BCP-47's recommended case: language lower, script title, region upper (`zh-hans-cn` ->
    `zh-Hans-CN`). Tags compare case-insensitively, so this changes no meaning."""
    if not isinstance(tag, str) or not tag.strip():
        raise InvalidLanguage(_("language must be a non-empty BCP-47 tag such as 'en', 'zh-Hans' or 'ar'"))
    tag = tag.strip().replace("_", "-")
    if not langcodes.tag_is_valid(tag):
        raise InvalidLanguage(
            _("'%(tag)s' is not a valid BCP-47 language tag (e.g. 'en', 'de', 'zh-Hans', 'ar')") % {"tag": tag}
        )
    parts = tag.split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha() or len(part) == 3 and part.isdigit():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


@functools.lru_cache(maxsize=1024)
def describe(code: str) -> tuple[str, str]:
    """Display name and script direction of a canonical tag."""
    parsed = langcodes.Language.get(code)
    name = parsed.display_name()
    script = parsed.script or parsed.maximize().script
    rtl = script in RTL_SCRIPTS if script else parsed.language in RTL_LANGUAGES
    return name, Direction.RTL if rtl else Direction.LTR


def language_get_or_create(tag: str) -> Language:
    code = canonical_tag(tag)
    name, direction = describe(code)
    language, _created = Language.objects.get_or_create(code=code, defaults={"name": name, "direction": direction})
    return language
