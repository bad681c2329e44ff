"""Fuzz the REST API against its own OpenAPI schema (/api/schema/, drf-spectacular) with schemathesis: for every
operation, valid and invalid requests are generated from the schema and sent in-process through the WSGI app, with
the token of a staff user and, separately, of a plain annotator; no answer may be a 5xx.

One test item per operation and role, e.g. `test_no_server_errors[GET /api/v1/tasks/{id}/][staff]`
(`-k "tasks and annotator"` picks some). Reproducible: Hypothesis is derandomized and the schemathesis seed is
fixed, so a failure comes back on every run with the same request (schemathesis prints it as a curl command)."""

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth.models import User
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error

from tests.conftest import make_annotator
from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.models import TransferJob, TransferKind
from webapp.feedback.services import assignment, catalog

# transaction=True: Django's WSGI handler closes "old" database connections at the start and end of every request,
# which inside the wrapping transaction of a plain `django_db` test throws the test's data away. reset_sequences=True:
# every item seeds the same rows with the same ids, 1, 2, 3... (see `flatmap_path_parameters`).
pytestmark = [pytest.mark.django_db(transaction=True, reset_sequences=True), pytest.mark.slow]

MAX_EXAMPLES = 20  # per operation, role and generation mode (valid / invalid data)
SEEDED_IDS = [1, 2, 3, 4, 5]  # each seeded model has rows with (some of) these ids; see `seeded`
SEEDED_LANGUAGES = ["en", "ar"]

# The schema is served by the app itself and needs no database (drf-spectacular only reads the views), so it is
# loaded once, at collection, and schemathesis makes one pytest item per operation from it. Nothing is excluded:
# every operation works in-process, the file download (a streamed FileResponse) included.
schema = schemathesis.openapi.from_wsgi(
    "/api/schema/",
    get_wsgi_application(),
    config=schemathesis.Config.from_dict(
        {
            "seed": 20_240_601,
            # Only the token the test sends authenticates: no generated (random) Authorization headers or cookies.
            "generation": {"with-security-parameters": False},
        }
    ),
)


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Ids drawn from the whole integer range almost never name a row: about half of the cases use a seeded one
    instead, so detail, edit, delete and action endpoints run on real rows too."""
    if not path_parameters:
        return st.just(path_parameters)
    if "id" in path_parameters:
        real = st.sampled_from(SEEDED_IDS).map(lambda pk: {**path_parameters, "id": pk})
    elif "code" in path_parameters:
        real = st.sampled_from(SEEDED_LANGUAGES).map(lambda code: {**path_parameters, "code": code})
    else:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture
def seeded(transactional_db):
    """Campaigns 1-2, prompts 1-5, responses 1-15, tasks 1-5 (en and ar), an annotation of task 1, a preference
    record, and two export jobs: 1 finished, with its file (so the download streams a real file), 2 queued (so it
    can be cancelled). Made directly, not through the API, so no worker or broker is needed."""
    campaign_with_tasks(n_tasks=3, language="en", name="Fuzz EN")
    campaign_with_tasks(n_tasks=2, language="ar", name="Fuzz AR")
    assignment.annotation_submit(user=make_annotator("seed-annotator", ["en"]), task_id=1, ranking=[[0], [1], [2]])
    catalog.preference_create(
        prompt="Which is better?", response_a="This one.", response_b="That one.", outcome="a", language="en"
    )
    export = django_settings.VAR_DIR / "exports" / "export-fuzz.jsonl"
    export.parent.mkdir(parents=True, exist_ok=True)
    export.write_text('{"prompt": "Which is better?", "chosen": "This one.", "rejected": "That one."}\n')
    TransferJob.objects.create(kind=TransferKind.EXPORT, status="succeeded", path=str(export), params={})
    TransferJob.objects.create(kind=TransferKind.EXPORT, path=str(export.with_name("export-queued.jsonl")), params={})


@pytest.fixture
def auth_headers(role, seeded) -> dict:
    if role == "staff":
        user = User.objects.create_user(username="fuzz-staff", password="pw-fuzz-staff", is_staff=True)
    else:
        user = make_annotator("fuzz-annotator", ["en", "ar"])
        assignment.annotation_submit(user=user, task_id=2, ranking=[[1], [0, 2]])  # one of their own to read
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.mark.parametrize("role", ["staff", "annotator"])
@schema.parametrize()
# All examples of one operation share the fixtures' rows on purpose (hence the suppressed health check): whatever
# earlier requests left behind (a deleted prompt, a new version, a lease, a skip) must not cause a 5xx either.
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_no_server_errors(case, role, auth_headers):
    response = case.call(headers=auth_headers)
    case.validate_response(response, checks=[not_a_server_error])
