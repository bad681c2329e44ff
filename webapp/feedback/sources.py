"""Where a label comes from: the one source taxonomy of the store, and what each source counts towards
(README, "Where labels come from"). Every ranking (`Annotation`) and every preference record carries a
`source` from `Source` and, where the source has several kinds, an `origin`:

| source | origin | counts as human for overlap / agreement / trust |
|---|---|---|
| `annotation` | "" | yes: a ranking by a live annotator, the only work assignment hands out |
| `import` | `rankings`, `pairs`, `api` or a file's own name (`oasst`, ...) | agreement, overlap; never assigned |
| `judge` | `NAME@VERSION` | never |
| `arena` | `local` (or the name of an imported log) | in ratings only |
| `write`, `edit` | `campaign:ID` | contributions, not rankings: demonstrations (write, edit) and an edit's pair |
| `translate`, `verify` | | contributions (translate: a new prompt; verify: `Verdict` rows), not rankings |

Selections (exports, training snapshots, the review page) name sources and origins; with none named
they take every source except `judge`: automatic labels are used only where asked for."""

from collections.abc import Iterable

from django.db.models import Q, TextChoices
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from webapp.errors import ApplicationError


class Source(TextChoices):
    ANNOTATION = "annotation", _("annotation")
    IMPORT = "import", _("import")
    JUDGE = "judge", _("judge")
    ARENA = "arena", _("arena")
    WRITE = "write", _("write")
    EDIT = "edit", _("edit")
    TRANSLATE = "translate", _("translate")
    VERIFY = "verify", _("verify")


SOURCES: tuple[str, ...] = tuple(Source.values)

# Origins the store itself gives (an imported pair keeps the `source` its file named instead of `pairs`).
ORIGIN_RANKINGS = "rankings"  # an imported ranking line
ORIGIN_PAIRS = "pairs"  # an imported pair line that named no source
ORIGIN_API = "api"  # a preference record added through the API
ORIGIN_LOCAL = "local"  # a vote cast in this app's arena
MAX_ORIGIN = 200

# Where each source is stored.
RANKING_SOURCES = (Source.ANNOTATION, Source.IMPORT, Source.JUDGE)  # Annotation rows
RECORD_SOURCES = (Source.IMPORT, Source.ARENA, Source.JUDGE, Source.EDIT)  # PreferenceRecord rows
DEMONSTRATION_SOURCES = (Source.IMPORT, Source.WRITE, Source.EDIT)  # Demonstration rows (SFT data)
# What counts as human: overlap (a task's slots), agreement and trust.
HUMAN = (Source.ANNOTATION, Source.IMPORT)
# The one source that is work handed out by assignment and done by a person in the app.
ASSIGNED = Source.ANNOTATION
# A selection that names no source.
DEFAULT_SELECTION = tuple(s for s in Source if s != Source.JUDGE)


def counts_as_human(source: str) -> bool:
    return source in HUMAN


def human_rankings(prefix: str = "") -> Q:
    """Annotations that count for overlap, agreement and trust (`prefix` reaches them from another model,
    e.g. "annotations__")."""
    return Q(**{f"{prefix}source__in": HUMAN})


def judge_origin(name: str, version: str) -> str:
    return f"{name}@{version}"[:MAX_ORIGIN]


def selected(
    sources: Iterable[str],
    origins: Iterable[str],
    among: Iterable[str],
    *,
    judges: Iterable[tuple[str, str]] | None = None,
    language: str = "language_id",
) -> Q | None:
    """The filter for the rows of one table (`among`: the sources stored there) that a selection takes;
    None when it takes none of them.

    `judges` None: judges' rows are selected like any other source. Otherwise it is the gate's answer,
    the admitted (judge origin, language) pairs, and judges' rows enter for exactly those (`language`
    reaches a row's language: `task__language_id` for rankings), whatever `sources` and `origins` say;
    the sources and origins then select among the other sources only."""
    among = list(among)
    chosen = [s for s in (sources or DEFAULT_SELECTION) if s in among and (judges is None or s != Source.JUDGE)]
    parts = []
    if chosen:
        query = Q(source__in=chosen)
        parts.append(query & Q(origin__in=list(origins)) if origins else query)
    if judges is not None and Source.JUDGE in among:
        languages: dict[str, list[str]] = {}
        for origin, code in judges:
            languages.setdefault(origin, []).append(code)
        parts += [
            Q(source=Source.JUDGE, origin=origin, **{f"{language}__in": codes}) for origin, codes in languages.items()
        ]
    if not parts:
        return None
    combined = parts[0]
    for part in parts[1:]:
        combined |= part
    return combined


def pair_source(labels: Iterable[tuple[str, str]]) -> tuple[str, str]:
    """(source, origin) of a pair derived from rankings of these (source, origin)s: the most human
    source among them (annotation, then import, then judge), and its origin when they share one."""
    labels = set(labels)
    for source in RANKING_SOURCES:
        origins = {origin for s, origin in labels if s == source}
        if origins:
            return source.value, origins.pop() if len(origins) == 1 else ""
    return Source.ANNOTATION.value, ""


def _names(value, field: str, *, limit: int) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) and 0 < len(v) <= limit for v in values):
        raise ApplicationError(
            gettext("%(field)s must be a name or a list of names (strings of 1 to %(limit)s characters)")
            % {"field": field, "limit": limit}
        )
    return tuple(dict.fromkeys(values))


def selection_from_params(params: dict) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(sources, origins) from `sources`/`source` and `origins`/`origin` (each one name or a list), checked."""
    for plural in ("sources", "origins"):
        if params.get(plural) not in (None, "", [], ()) and params.get(plural[:-1]) not in (None, "", [], ()):
            raise ApplicationError(
                gettext("give %(plural)s or %(singular)s, not both") % {"plural": plural, "singular": plural[:-1]}
            )
    sources = _names(params.get("sources") or params.get("source"), "sources", limit=20)
    unknown = [s for s in sources if s not in SOURCES]
    if unknown:
        raise ApplicationError(
            gettext("unknown source(s) %(unknown)s; use %(choices)s")
            % {"unknown": unknown, "choices": ", ".join(SOURCES)}
        )
    origins = _names(params.get("origins") or params.get("origin"), "origins", limit=MAX_ORIGIN)
    return sources, origins
