"""`--format hh-rlhf`: Anthropic's helpful-harmless preference data (Anthropic/hh-rlhf), read as
published: `{"chosen": TRANSCRIPT, "rejected": TRANSCRIPT}`, each transcript a whole conversation
written as `"\\n\\nHuman: ...\\n\\nAssistant: ...\\n\\nHuman: ...\\n\\nAssistant: ..."`.

One record becomes one pair: its prompt is the conversation before the last assistant turn (as chat
messages, user and assistant), `chosen` and `rejected` are the two transcripts' final assistant turns.
Known quirks are skipped with their reason: the two transcripts differ before their final turns, the
final turns are the same, a transcript does not end with an assistant turn, or a turn is empty. The data
has no language field: `--language` gives it (default `en`). Pairs are stored with origin `hh-rlhf`."""

import re
from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.feedback.content import is_blank, same_content
from webapp.feedback.formats.parsing import LineError, PairLine, pair_record
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, Skip, import_formats

NAME = "hh-rlhf"
TURN = re.compile(r"\n\n(Human|Assistant):")
ROLES = {"Human": "user", "Assistant": "assistant"}
PROMPTS_DIFFER = gettext_noop("the two transcripts differ before their final turns")
SAME_ANSWER = gettext_noop("the final turns of both transcripts are the same")
NOT_ANSWERED = gettext_noop("a transcript that does not end with an assistant turn")
EMPTY_TURN = gettext_noop("a transcript with an empty turn")


def hh_rlhf_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[PairLine | Skip]:
    chosen, rejected = _turns(obj, "chosen"), _turns(obj, "rejected")
    if any(is_blank(content) for _role, content in chosen + rejected):
        yield Skip(EMPTY_TURN)
    elif chosen[-1][0] != "assistant" or rejected[-1][0] != "assistant":
        yield Skip(NOT_ANSWERED)
    elif chosen[:-1] != rejected[:-1]:
        yield Skip(PROMPTS_DIFFER)
    elif same_content(chosen[-1][1], rejected[-1][1]):
        yield Skip(SAME_ANSWER)
    elif len(chosen) < 2:
        yield Skip(NOT_ANSWERED)  # an assistant turn with nothing asked before it
    else:
        pair = {
            "prompt": [{"role": role, "content": content} for role, content in chosen[:-1]],
            "chosen": chosen[-1][1],
            "rejected": rejected[-1][1],
            "language": options.language,
            "source": NAME,
        }
        yield pair_record(pair, number)


def _turns(obj: dict, key: str) -> list[tuple[str, str]]:
    """(role, text) of each turn of a transcript; the text without the space after "Human:" and the
    whitespace around it."""
    transcript = obj.get(key)
    if not isinstance(transcript, str):
        raise LineError(_("'%(where)s' is missing or not a string") % {"where": key})
    parts = TURN.split(transcript if transcript.startswith("\n\n") else "\n\n" + transcript.lstrip())
    if len(parts) < 3 or parts[0].strip():
        raise LineError(
            _("'%(where)s' is not a transcript of \"\\n\\nHuman: ...\\n\\nAssistant: ...\" turns") % {"where": key}
        )
    return [(ROLES[parts[i]], parts[i + 1].strip()) for i in range(1, len(parts), 2)]


import_formats.register(
    NAME,
    ImportFormat(
        name=NAME,
        description=gettext_noop("an HH-RLHF record (chosen and rejected transcripts)"),
        convert=hh_rlhf_records,
    ),
)
