"""`--format aya`: Cohere For AI's Aya Dataset (CohereForAI/aya_dataset), read as published: one record per
prompt and human-written answer, `{"inputs", "targets", "language", "language_code", "annotation_type",
"user_id"}`. `language_code` is an ISO 639-3 code (`por`, `swh`, `ary`, ...), `language` its English name;
the code wins where both are given (webapp/feedback/formats/languages.py).

One record becomes one demonstration (a prompt with a reference answer: SFT data, exported by `--format
sft` and trained on by SFT jobs), source `import`, origin `aya`; `annotation_type` and `user_id` are kept
in its metadata. A record whose prompt or answer is empty is skipped with that reason; one whose answer
repeats its prompt word for word is skipped too (nothing to learn)."""

from collections.abc import Iterator
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from webapp.feedback.content import is_blank, same_content
from webapp.feedback.formats.languages import language_tag
from webapp.feedback.formats.parsing import DemonstrationLine, LineError, demonstration_record
from webapp.feedback.formats.registry import ImportFormat, ImportOptions, Skip, import_formats

NAME = "aya"
EMPTY = gettext_noop("an empty prompt or answer")
ECHO = gettext_noop("an answer that repeats its prompt")
KEPT = ("annotation_type", "user_id")


def aya_records(obj: dict[str, Any], number: int, options: ImportOptions) -> Iterator[DemonstrationLine | Skip]:
    inputs, targets = obj.get("inputs"), obj.get("targets")
    for key, value in (("inputs", inputs), ("targets", targets)):
        if value is not None and not isinstance(value, str):
            raise LineError(_("'%(where)s' must be a string") % {"where": key})
    if not isinstance(inputs, str) or not isinstance(targets, str) or is_blank(inputs) or is_blank(targets):
        yield Skip(EMPTY)
        return
    if same_content(inputs, targets):
        yield Skip(ECHO)
        return
    code, name = obj.get("language_code"), obj.get("language")
    if code is None and name is None:
        language = options.language
    else:
        language = language_tag(code=code, name=name, where="language_code")
    metadata = {key: obj[key] for key in KEPT if obj.get(key) is not None}
    record = {"prompt": inputs, "completion": targets, "language": language, "metadata": metadata}
    yield demonstration_record(record, number, NAME)


import_formats.register(
    NAME,
    ImportFormat(
        name=NAME,
        description=gettext_noop("an Aya record (inputs, targets, language_code)"),
        convert=aya_records,
    ),
)
