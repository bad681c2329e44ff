"""`--format oasst`: OpenAssistant Conversations message trees (oasst1, oasst2: `*.trees.jsonl[.gz]`), read
as published (https://huggingface.co/datasets/OpenAssistant/oasst2, LAION-AI/Open-Assistant
`oasst-data`). One line is one tree:

    {"message_tree_id": str, "tree_state": str, "prompt": MESSAGE}
    MESSAGE = {"message_id": str, "text": str, "role": "prompter" | "assistant", "lang": str,
               "deleted": bool, "review_result": bool | null, "rank": int | null, "model_name"?: str,
               "replies": [MESSAGE, ...], ...}

The tree is followed through the nested `replies` (never `parent_id`). Every prompter message with at
least two ranked assistant replies becomes a ranking task: its prompt is the conversation from the
root down to and including that message, as chat messages; its responses are the ranked replies (in
the tree's order); one imported ranking by `oasst` orders them by `rank`, 0 best (equal ranks tie).
Replies without a rank are left out. A deleted message, or one that failed review, is skipped with
everything below it. The task's id is the prompter message's id, its language the message's `lang`,
its group the tree's id (so a whole tree stays on one side of a train/test split)."""

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.feedback.content import visible_form
from webapp.feedback.formats.languages import language_tag
from webapp.feedback.formats.parsing import LineError, RankingLine, ranking_record
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, Skip, import_formats
from webapp.feedback.models import MAX_RESPONSES

NAME = "oasst"
ROLES = {"prompter": "user", "assistant": "assistant"}
NO_PROMPT = gettext_noop("a message tree without a prompt")
DELETED = gettext_noop("a deleted message (with its replies)")
REVIEW_FAILED = gettext_noop("a message that failed review (with its replies)")
NOTHING_RANKED = gettext_noop("a message tree with no prompt that has two ranked replies")
TOO_MANY = gettext_noop("a prompt with more ranked replies than a task holds")


def oasst_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[RankingLine | Skip]:
    root = obj.get("prompt")
    if root is None:
        yield Skip(NO_PROMPT)
        return
    tree = {"message_tree_id": _optional(obj, "message_tree_id"), "tree_state": _optional(obj, "tree_state")}
    made, root_skipped = 0, False
    # Depth first with a stack of (message, where it is, the conversation before it): trees can be deep.
    stack: list[tuple[Any, str, list[dict]]] = [(root, "prompt", [])]
    while stack:
        message, where, before = stack.pop()
        if not isinstance(message, dict):
            raise LineError(_("'%(where)s' must be a message object") % {"where": where})
        if message.get("deleted") is True or message.get("review_result") is False:
            yield Skip(DELETED if message.get("deleted") is True else REVIEW_FAILED)
            root_skipped = root_skipped or message is root
            continue
        role = _role(message, where)
        conversation = [*before, {"role": role, "content": _text(message, where)}]
        replies = _replies(message, where)
        if role == "user":
            ranked = _ranked(replies, where)
            if len(ranked) > MAX_RESPONSES:
                yield Skip(TOO_MANY)
            elif len(ranked) >= 2:
                made += 1
                yield _task(message, where, conversation, ranked, tree, number, options)
        stack.extend((reply, f"{where}.replies[{i}]", conversation) for i, reply in reversed(list(enumerate(replies))))
    if not made and not root_skipped:  # a skipped root already says why the tree gave nothing
        yield Skip(NOTHING_RANKED)


def _task(
    message: dict,
    where: str,
    conversation: list[dict],
    ranked: list[tuple[int, dict]],
    tree: dict,
    number: int,
    options: ImportOptions,
) -> RankingLine:
    lang = message.get("lang")
    language = language_tag(code=lang, where=f"{where}.lang") if lang else options.language
    ranks = sorted({rank for rank, _reply in ranked})
    order = [[i for i, (rank, _reply) in enumerate(ranked) if rank == value] for value in ranks]
    task = {
        "id": _required(message, "message_id", where),
        "prompt": conversation,
        "language": language,
        "group": tree["message_tree_id"],
        "campaign": NAME,
        "responses": [
            {"text": reply["text"], "model": reply.get("model_name") or None, "id": reply.get("message_id")}
            for _rank, reply in ranked
        ],
        "rankings": [{"annotator": NAME, "ranking": order}],
        "metadata": {key: value for key, value in tree.items() if value},
    }
    return ranking_record(task, number, origin=NAME)


def _ranked(replies: list, where: str) -> list[tuple[int, dict]]:
    """(rank, reply) of the assistant replies that can be ranked, in the tree's order; of two replies with
    the same visible text only the better ranked one (a task's responses differ)."""
    candidates = []
    for i, reply in enumerate(replies):
        if not isinstance(reply, dict) or reply.get("deleted") is True or reply.get("review_result") is False:
            continue  # reported when the walk reaches it
        rank = reply.get("rank")
        if rank is None or reply.get("role") != "assistant":
            continue
        if isinstance(rank, bool) or not isinstance(rank, int) or rank < 0:
            raise LineError(
                _("'%(where)s' must be a whole number from 0 (best) or null") % {"where": f"{where}.replies[{i}].rank"}
            )
        candidates.append((i, rank, reply, visible_form(_text(reply, f"{where}.replies[{i}]"))))
    best: dict[str, tuple[int, int]] = {}
    for i, rank, _reply, text in candidates:
        if text not in best or rank < best[text][1]:
            best[text] = (i, rank)
    kept = {i for i, _rank in best.values()}
    return [(rank, reply) for i, rank, reply, _visible in candidates if i in kept]


def _role(message: dict, where: str) -> str:
    role = message.get("role")
    if not isinstance(role, str) or role not in ROLES:
        raise LineError(
            _("'%(where)s' must be one of %(choices)s") % {"where": f"{where}.role", "choices": sorted(ROLES)}
        )
    return ROLES[role]


def _text(message: dict, where: str) -> str:
    text = message.get("text")
    if not isinstance(text, str):
        raise LineError(_("'%(where)s' must be a string") % {"where": f"{where}.text"})
    return text


def _replies(message: dict, where: str) -> list:
    replies = message.get("replies")
    if replies is None:
        return []
    if not isinstance(replies, list):
        raise LineError(_("'%(where)s' must be a list of messages") % {"where": f"{where}.replies"})
    return replies


def _required(message: dict, key: str, where: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LineError(_("'%(where)s' is missing or not a string") % {"where": f"{where}.{key}"})
    return value


def _optional(obj: dict, key: str) -> str:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise LineError(_("'%(where)s' must be a string") % {"where": key})
    return value or ""


import_formats.register(
    NAME,
    ImportFormat(
        name=NAME,
        description=gettext_noop("an OpenAssistant message tree (message_tree_id, prompt with nested replies)"),
        convert=oasst_records,
    ),
)
