"""What one contribution cycle costs in SQL, counted as tests/feedback/test_cycle_queries.py counts a ranking's:
`POST /tasks/next/` and then the contribution (write, reply, edit, translate) or the verify vote, through the HTTP
client with an API token, transaction control not counted. The cost does not grow with the store: the same in the
first cycle and in a later one on a store ten times larger. The ceilings are today's figures (a verify campaign
watching the contributions): on PostgreSQL, `write`, `edit` and `verify` are at the ranking cycle's budget of
eight (issue 15), their submission written in one statement on a live lease; SQLite, which has no such statement,
takes more: README, "Contribution tasks"."""

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_annotator
from tests.feedback.test_cycle_queries import statements, token_client
from webapp.feedback.services import catalog, contributing

pytestmark = [pytest.mark.services, pytest.mark.django_db]

CEILING = (
    {"write": 14, "reply": 14, "edit": 15, "translate": 15, "verify": 12}
    if settings.IS_SQLITE
    else {"write": 8, "reply": 8, "edit": 8, "translate": 8, "verify": 8}
)


def cycle(client, campaign, path: str, body: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        task = client.post("/api/v1/tasks/next/", {"campaign": campaign.pk}, format="json").json()["task"]
        reply = client.post(f"/api/v1/tasks/{task['id']}/{path}/", body, format="json")
        assert reply.status_code == 201, reply.content
    return len(statements(captured))


def store(kind: str, n: int):
    languages = ["en", "de"] if kind == "translate" else ["en"]
    source = catalog.campaign_create(
        name=f"c{n}", languages=languages, overlap=3, kind="write" if kind == "verify" else kind
    )
    verifier = catalog.campaign_create(name=f"v{n}", languages=["en"], overlap=3, kind="verify", verifies=source)
    if kind == "reply":
        turns = [{"role": "user", "content": "Hello?"}, {"role": "assistant", "content": "Hi, how can I help?"}]
        prompts = [
            catalog.prompt_create(content=[*turns, {"role": "user", "content": f"Q{i}"}, turns[1]], language="en")
            for i in range(n)
        ]
    else:
        prompts = [catalog.prompt_create(content=f"Question number {i} of {n}?", language="en") for i in range(n)]
    if kind == "edit":
        responses = [
            catalog.response_create(prompt=p, content=f"Answer number {p.pk}.", model_name="m") for p in prompts
        ]
        contributing.contribution_tasks_add(campaign=source, responses=[r.pk for r in responses])
    else:
        contributing.contribution_tasks_add(campaign=source, prompts=[p.pk for p in prompts])
    return source, verifier


@pytest.mark.parametrize("kind", sorted(CEILING))
def test_a_contribution_cycle_costs_the_same_whatever_the_store_holds(kind):
    text = {"text": "A careful and complete answer, rewritten."}
    counts = []
    for n in (3, 30):
        source, verifier = store(kind, n)
        writer = token_client(make_annotator(f"writer{n}", ["en", "de"]))
        if kind == "verify":
            for _ in range(3):
                cycle(writer, source, "contributions", text)
            voter = token_client(make_annotator(f"voter{n}", ["en"]))
            counts += [cycle(voter, verifier, "verdicts", {"up": True}) for _ in range(2)]
        else:
            counts += [cycle(writer, source, "contributions", text) for _ in range(2)]
    assert len(set(counts)) == 1, counts
    assert counts[0] <= CEILING[kind], counts
