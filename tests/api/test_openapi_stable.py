"""The API stays stable: the OpenAPI document's shape (paths, operation ids, parameters, component
names, field names and types) equals the one recorded in `openapi_baseline.json` (taken from main
at b6b77eb, before the house redesign), except for the changes listed in ALLOWED.

To change the API on purpose: add the line this test prints to ALLOWED with a reason, or, for a new
release of the API, record a new baseline with `python tests/api/record_openapi_baseline.py`."""

import json
from pathlib import Path

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from tests.api.openapi_shape import differences, shape

BASELINE = Path(__file__).with_name("openapi_baseline.json")

# line printed by `differences` -> why it is allowed
_TRAINERS = "the training kind's two identical enums (dpo, sft) became one, filled from the trainer registry"
_IDEMPOTENT = (
    "launching POSTs declare the optional `Idempotency-Key` header: a retry returns the first job "
    "instead of launching a second one (issue 20)"
)
_SOURCES = "imported rankings were counted as human annotations; every label now names its source"
_JUDGES = (
    "issue 14 (judges): the registered judges, and judge jobs (launch with Idempotency-Key, list, detail, "
    "cancel) that rank a campaign's tasks as source judge; new, so no client breaks"
)
_SUGGESTIONS = (
    "issue 14 (judges): a campaign may show annotators a judge's ranking as the starting order; fields were "
    "added, none changed or removed"
)
_STYLE = (
    "issue 16 (style control, intervals stated exactly): the leaderboard may hold the answers' style fixed and "
    "states each interval's method; fields were added, ci_low/ci_high became nullable (provisional ratings)"
)
_BULK = (
    "issue 15 (scale, item 8): bulk operations on a campaign (archive, unarchive, delete, reassign its open tasks, "
    "gold in bulk) run as jobs with progress (launch with Idempotency-Key, list, detail, cancel); new endpoints"
)
_FORMATS = (
    "issue 18 (the field's datasets): an import names its `format` (auto, as before, or a published dataset's: "
    "oasst, ultrafeedback, hh-rlhf, ...) and the `language` of records that name none; both optional"
)
_HF = (
    "issue 18 item 2 (Hugging Face export): the export's `format` takes `hf` (a dataset folder, downloaded as a "
    ".zip), with the optional `test_fraction` and `license` it reads; nothing else changed"
)
_LAUNCH = (
    "issue 15 (scale, item 2): a training launch answers at once and trains on the data as of its launch "
    "(`created_before`); the form's pair counts come from a quick preview (possibly approximate) whose token the "
    "launch may carry (`preview`); new endpoint and fields, none removed"
)
_WEBHOOKS = (
    "issue 18 (webhooks): staff manage Standard Webhooks endpoints (CRUD, secret rotation, a test event), read "
    "each endpoint's delivery log and redeliver; new, so no client breaks"
)
_KTO = (
    "issue 17 item 2 (KTO): training jobs and variants take the kind `kto` (the trainer registry's third entry), "
    "and the export's optional `kto_sources` selects the kto format's unpaired sources; values added, none removed"
)
ALLOWED: dict[str, str] = {
    "operations changed: GET /api/v1/variants/": _KTO + " (the `kind` filter's enum)",
    "components added: KtoSourcesEnum": _KTO,
    "components changed: VariantOutputKindEnum": _KTO,
    "components changed: FormatEnum": _HF,
    "components changed: ImportInputRequest": _FORMATS,
    "components added: ImportFormatEnum": _FORMATS,
    "operations added: POST /api/v1/training-jobs/preview/": _LAUNCH,
    "components added: TrainingPreviewInputRequest": _LAUNCH,
    "components added: TrainingPreviewOutput": _LAUNCH,
    "components changed: GenerateInputRequest": "issue 14 (the proof): optional `batch_size` (1..64, default 8, as "
    "before) and `seed` (default 1234, as before), which the generation service already took",
    "components removed: TrainingJobInputKindEnum": _TRAINERS,
    "components removed: TrainingJobOutputKindEnum": _TRAINERS,
    "components added: TrainingKindEnum": _TRAINERS,
    "components changed: TrainingJobInputRequest": _TRAINERS + " (its `kind` refers to it; same values); "
    "an optional `system_prompt` (issue 13: one system prompt for training and serving); an optional "
    '`eval_generation` (issue 14: the evaluation by generation that ends the job, or "off"); an optional `preview` '
    "token (issue 15: the form's preview kept on the job)",
    "components changed: TrainingJobOutput": _TRAINERS + " (its `kind` refers to it; same values); `variant` is "
    "declared nullable, as it is until the job registers it, and `variant_id` is added for the link to its page; "
    "`system_prompt`, the job's; `eval_generation`, its evaluation-by-generation settings (issue 14); "
    "`created_before`, the data cut of its launch (issue 15)",
    "components changed: VariantOutput": "`parent` is declared nullable, as it is for a base model (schemathesis); "
    "`system_prompt`, the one it is trained and served with; `generation_evaluation`, its job's evaluation by "
    "generation against the parent (issue 14)",
    "operations changed: POST /api/v1/auth/token/": "documents its error answers, 400 (wrong username or password) "
    "and 429 (too many wrong passwords, with Retry-After); the request and the 200 answer are unchanged",
    "operations changed: GET /api/v1/search/": "new optional query parameter `min_score` (0..1) overrides the "
    "similarity floor SEARCH_MIN_SCORE for one query (issue 13: no results rather than noise)",
    **{
        f"operations changed: POST {path}": _IDEMPOTENT
        for path in (
            "/api/v1/model-jobs/generate/",
            "/api/v1/search/index/builds/",
            "/api/v1/training-jobs/",
            "/api/v1/transfers/export/",
            "/api/v1/transfers/import/",
        )
    },
    "operations changed: POST /api/v1/model-jobs/install/": _IDEMPOTENT
    + "; and it answers 200 with the existing job when the model is installed or its install is queued or running",
    # Issue 20, item 12: one source taxonomy (webapp/feedback/sources.py) for rankings and records.
    "components changed: SourceEnum": _SOURCES + " (arena, import -> every source: annotation, import, judge, ...)",
    "components removed: SourcesEnum": _SOURCES + " (the export's `sources` uses SourceEnum, the same values)",
    "components changed: ExportInputRequest": _SOURCES + " (`sources` takes every source; new `origins`); " + _HF,
    "components changed: PreferenceOutput": _SOURCES + " (a record's `origin`: rankings, pairs, oasst, local, ...)",
    "components changed: AnnotationOutput": _SOURCES + " (a ranking's `source` and `origin`)",
    "operations changed: GET /api/v1/preferences/": _SOURCES + " (an `origin` filter)",
    "operations changed: GET /api/v1/annotations/": _SOURCES + " (`source` and `origin` filters)",
    "operations changed: GET /api/v1/review/": _SOURCES + " (a `source` filter: annotation or import)",
    # Issue 14, judges: judge jobs run a registered judge over a campaign (new endpoints; nothing changed).
    # GET /api/v1/review/ also gained a `judges` key (its answer is declared a free-form object, so the
    # shape shows no change): per judge and language, agreement with the human consensus.
    **{
        f"operations added: {operation}": _JUDGES
        for operation in (
            "GET /api/v1/judges/",
            "GET /api/v1/judge-jobs/",
            "GET /api/v1/judge-jobs/{id}/",
            "POST /api/v1/judge-jobs/",
            "POST /api/v1/judge-jobs/{id}/cancel/",
        )
    },
    **{
        f"components added: {name}": _JUDGES
        for name in ("JudgeOutput", "JudgeJobInputRequest", "JudgeJobOutput", "PaginatedJudgeJobOutputList")
    },
    # Issue 18, webhooks (webapp/webhooks, docs/webhooks.md): new endpoints only.
    **{
        f"operations added: {operation}": _WEBHOOKS
        for operation in (
            "GET /api/v1/webhooks/events/",
            "GET /api/v1/webhooks/endpoints/",
            "POST /api/v1/webhooks/endpoints/",
            "GET /api/v1/webhooks/endpoints/{id}/",
            "PATCH /api/v1/webhooks/endpoints/{id}/",
            "DELETE /api/v1/webhooks/endpoints/{id}/",
            "POST /api/v1/webhooks/endpoints/{id}/rotate-secret/",
            "POST /api/v1/webhooks/endpoints/{id}/test/",
            "GET /api/v1/webhooks/endpoints/{endpoint_pk}/deliveries/",
            "GET /api/v1/webhooks/endpoints/{endpoint_pk}/deliveries/{id}/",
            "POST /api/v1/webhooks/endpoints/{endpoint_pk}/deliveries/{id}/redeliver/",
        )
    },
    **{
        f"components added: {name}": _WEBHOOKS
        for name in (
            "WebhookAttemptOutput",
            "WebhookDeliveryDetailOutput",
            "WebhookDeliveryOutput",
            "WebhookDeliveryStatusEnum",
            "WebhookEndpointInputRequest",
            "PatchedWebhookEndpointInputRequest",
            "WebhookEndpointOutput",
            "WebhookEventTypeEnum",
            "WebhookEventTypeOutput",
            "PaginatedWebhookDeliveryOutputList",
            "PaginatedWebhookEndpointOutputList",
        )
    },
    # Issue 14, judges: suggestions, a judge's ranking as a task's starting order (and a held-out share).
    "operations added: POST /api/v1/campaigns/{id}/suggestions/": _SUGGESTIONS,
    "components added: CampaignSuggestionsInputRequest": _SUGGESTIONS,
    "components changed: CampaignOutput": _SUGGESTIONS + " (new read-only `suggestion_judge`, `suggestion_holdout`)",
    "components changed: TaskOutput": _SUGGESTIONS + " (new `suggestion`: the starting order to show, or null)",
    # Issue 16, style control and intervals: new optional query parameters and fields; ci_low/ci_high may be null.
    "operations changed: GET /api/v1/arena/leaderboard/": _STYLE
    + " (optional `style` and `ci` query parameters); issue 16 item 6 (battle logs in and out): optional `origin` "
    "query parameter (local, the default and the board as before; imported; all)",
    "components added: ArenaInterval": _STYLE,
    "components added: ArenaSeparation": _STYLE,
    "components added: ArenaStyle": _STYLE,
    "components added: CiMethodEnum": _STYLE,
    "components changed: ArenaLeaderboard": _STYLE + " (new `votes_needed`, and `style` with style=control)",
    **{
        line: _BULK
        for line in (
            "operations added: POST /api/v1/campaigns/{id}/jobs/",
            "operations added: GET /api/v1/campaign-jobs/",
            "operations added: GET /api/v1/campaign-jobs/{id}/",
            "operations added: POST /api/v1/campaign-jobs/{id}/cancel/",
            "components added: CampaignJobInputRequest",
            "components added: CampaignJobOutput",
            "components added: CampaignJobKindEnum",
            "components added: PaginatedCampaignJobOutputList",
        )
    },
    "operations changed: DELETE /api/v1/campaigns/{id}/": _BULK + "; deleting a campaign is one of them: it answers "
    "202 with the delete job (the campaign leaves every list at once, its tasks follow in batches) instead of 204",
    "components changed: ArenaRating": _STYLE + " (new `ci_method`, `sandwich`, `bootstrap`, `provisional`; "
    "`ci_low`/`ci_high` are null for a provisional rating); issue 16 item 8: new `lineage`, the line the public "
    "board shows (parent names and a data summary, never a file path or an internal id)",
}


# Issue 13 (schemathesis over the whole schema, `make fuzz`); a line already allowed above gets this reason too.
_IDS = "id filters (campaign, task, prompt) are whole numbers 1..2^63-1, as the server checks (they said `number`)"
_CONTENT = "a text (`content`, `prompt`, `response_a/b`) is declared as what it is: a string or a list of chat messages"
_ISSUE_13 = {
    "operations changed: GET /api/v1/annotations/": _IDS,
    "operations changed: GET /api/v1/prompts/": _IDS,
    "operations changed: GET /api/v1/responses/": _IDS,
    "operations changed: GET /api/v1/tasks/": _IDS,
    "operations changed: GET /api/v1/tasks/{id}/annotations/": _IDS
    + "; the list is paginated as the schema said (it came back bare), and the 201 a GET never gives is gone",
    "operations changed: POST /api/v1/tasks/{id}/annotations/": "a repeated submit answers 200 with the annotation "
    "(the schema said a paginated list), and the list's query parameters, which a submit never read, are gone",
    "operations changed: GET /api/v1/search/": "`q` is required, as the server requires it (400 without)",
    "components added: Error": "the body of every 4xx answer (webapp/errors.py, webapp/apischema.py)",
    "components added: ValidationError": "the body of a 400: an Error or the invalid fields with their messages",
    "components changed: AnnotationInputRequest": "`ranking` is declared as what it is: a list of ranks, each a "
    "non-empty list of response positions (it said any JSON value)",
    **{
        f"components changed: {name}": _CONTENT
        for name in (
            "PatchedTextEditInputRequest",
            "PreferenceInputRequest",
            "PromptInputRequest",
            "PromptOutput",
            "ResponseInputRequest",
            "ResponseOutput",
        )
    },
}
for _line, _why in _ISSUE_13.items():
    ALLOWED[_line] = f"{ALLOWED[_line]}; {_why}" if _line in ALLOWED else _why


# Issue 17 (contribute, not only rank): campaigns of a kind (write, reply, edit, translate, verify) with their settings
# (optional on create, changed by PATCH), their tasks added by prompt or response, a contribution or a verify vote on a
# leased task, the contributions list, reviewer queue and override, and per contributor figures; new, so no client
# breaks (the task payload's and campaign's new fields are additions).
_CONTRIBUTE = "issue 17 (contribution kinds): new endpoints and fields, none changed or removed"
for _line in (
    "operations added: GET /api/v1/contributions/",
    "operations added: GET /api/v1/contributions/review-queue/",
    "operations added: GET /api/v1/contributors/stats/",
    "operations added: PATCH /api/v1/campaigns/{id}/",
    "operations added: POST /api/v1/campaigns/{id}/tasks/",
    "operations added: POST /api/v1/contributions/{id}/override/",
    "operations added: POST /api/v1/tasks/{id}/contributions/",
    "operations added: POST /api/v1/tasks/{id}/verdicts/",
    "components added: BlankEnum",
    "components added: CampaignKindEnum",
    "components added: CampaignTasksInputRequest",
    "components added: CampaignTasksOutput",
    "components added: ContributionInputRequest",
    "components added: ContributionOutput",
    "components added: ContributionShown",
    "components added: ContributionStatusEnum",
    "components added: ContributorStatsOutput",
    "components added: LanguageBrief",
    "components added: OverrideInputRequest",
    "components added: OverrideInputStatusEnum",
    "components added: PaginatedContributionOutputList",
    "components added: PatchedCampaignUpdateInputRequest",
    "components added: VerdictInputRequest",
    "components added: VerdictOutput",
    "components changed: CampaignInputRequest",
):
    ALLOWED[_line] = f"{ALLOWED[_line]}; {_CONTRIBUTE}" if _line in ALLOWED else _CONTRIBUTE

# Issue 17 (contributors): the leaderboard per language (quality-weighted points) and the moderation list; new.
_CONTRIBUTORS = "issue 17 (contributors): the leaderboard and the moderation list, new endpoints"
for _line in (
    "operations added: GET /api/v1/contributors/leaderboard/",
    "operations added: GET /api/v1/contributors/moderation/",
    "components added: LeaderboardOutput",
    "components added: ModerationOutput",
    "components added: StandingOutput",
):
    ALLOWED[_line] = _CONTRIBUTORS

# Issue 15 (scale, item 1): the lists that grow to millions of rows page by a cursor over the id.
_CURSOR = (
    "issue 15 (scale): the list pages by a cursor over the id (`cursor`, `page_size` up to 500; `next`/`previous` "
    "links, no `count`), so a page costs the same at any size; `page` is gone"
)
for _line in (
    "operations changed: GET /api/v1/annotations/",
    "operations changed: GET /api/v1/tasks/",
    "operations changed: GET /api/v1/preferences/",
    "components changed: PaginatedAnnotationOutputList",
    "components changed: PaginatedPreferenceOutputList",
    "components changed: PaginatedTaskOutputList",
):
    ALLOWED[_line] = f"{ALLOWED[_line]}; {_CURSOR}" if _line in ALLOWED else _CURSOR

# Two deliberate changes that touch (nearly) every operation, so they are one rule each instead of a line per
# operation; any other change to those operations still needs its line in ALLOWED.
ERROR_BODIES = ({"application/json": "Error"}, {"application/json": "ValidationError"})
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def without_documented_errors(current: dict, baseline: dict) -> dict:
    """Issue 13: every operation documents the 4xx answers it can give, with the error bodies of webapp/errors.py
    (webapp/apischema.py). A 4xx answer the baseline lacks, with one of those bodies, is that rule."""
    current = json.loads(json.dumps(current))
    for key, operation in current["operations"].items():
        before = baseline["operations"].get(key, {}).get("responses", {})
        operation["responses"] = {
            code: body
            for code, body in operation["responses"].items()
            if not (code.startswith("4") and code not in before and body in ERROR_BODIES)
        }
    return current


def without_form_bodies(baseline: dict) -> dict:
    """Issue 13: request bodies are documented as JSON only (webapp/apischema.py: map_parsers): a form has no null,
    number or nested value, so the JSON schema drf-spectacular gave the form types did not describe them
    (schemathesis: `"campaign": null` as form data is refused). The form parsers still work; an operation that
    takes no JSON (the import's file upload) keeps its types."""
    baseline = json.loads(json.dumps(baseline))
    for operation in baseline["operations"].values():
        if "application/json" in operation["request"]:
            for media_type in FORM_MEDIA_TYPES:
                operation["request"].pop(media_type, None)
    return baseline


def current_shape() -> dict:
    # In English whatever an earlier test left active: enum names follow their (translated) labels.
    with translation.override("en"):
        document = SchemaGenerator().get_schema(request=None, public=True)
    return shape(json.loads(json.dumps(document, default=str)))


def test_the_schema_names_the_same_components_in_every_interface_language():
    def names(language: str) -> set[str]:
        with translation.override(language):
            return set(SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"])

    english = names("en")
    for language in ("de", "ar", "zh-hans", "es"):
        assert names(language) == english, language


def test_the_training_kind_enum_keeps_its_values():
    assert current_shape()["components"]["TrainingKindEnum"]["enum"] == ["dpo", "sft", "kto"]  # kto: issue 17


def test_the_openapi_document_keeps_its_paths_operation_ids_and_fields():
    baseline = json.loads(BASELINE.read_text())
    changes = differences(without_form_bodies(baseline), without_documented_errors(current_shape(), baseline))
    unexpected = [line for line in changes if line not in ALLOWED]
    assert not unexpected, "The API changed:\n" + "\n".join(unexpected)


def test_the_comparison_notices_a_renamed_field_and_a_removed_operation():
    before = json.loads(BASELINE.read_text())
    after = json.loads(json.dumps(before))
    component = next(iter(after["components"]))
    properties = after["components"][component].setdefault("properties", {})
    properties["renamed_field"] = properties.pop(next(iter(properties)), {"type": "string"})
    removed = next(iter(after["operations"]))
    del after["operations"][removed]
    assert differences(before, after) == [f"operations removed: {removed}", f"components changed: {component}"]
