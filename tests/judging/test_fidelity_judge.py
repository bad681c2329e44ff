"""The language-fidelity judge: in-language answers first, other languages next, degenerate or echoing
answers last (ties within a tier), counted with the base model's tokenizer; registered, and run as a
judge job whose rankings are stored with source judge."""

import pytest

from tests.feedback.factories import campaign_with_tasks
from webapp.feedback.extensions import judges
from webapp.feedback.models import Annotation
from webapp.judging.fidelity import rank
from webapp.judging.services import judge_job_run

PROMPT = "Warum ist der Himmel am Tag blau und am Abend oft rot?"
GERMAN = "Das Sonnenlicht wird in der Luft gestreut, und blaues Licht wird stärker gestreut als rotes Licht."
ENGLISH = "Sunlight is scattered by the air, and blue light is scattered much more strongly than red light."
LOOP = "Der Himmel ist blau. " * 12
ECHO = "Warum ist der Himmel am Tag blau und am Abend oft rot?"


@pytest.mark.django_db
def test_in_language_first_then_others_then_degenerate_and_echo(tiny_variants):
    assert rank(PROMPT, [ENGLISH, GERMAN, LOOP, ECHO], "de") == [[1], [0], [2, 3]]
    assert rank(PROMPT, [GERMAN, GERMAN + " Deshalb."], "de") == [[0, 1]]  # a tie: both in German
    assert rank(PROMPT, [LOOP, ENGLISH], "de") == [[1], [0]]  # English, but not degenerate, beats a loop


@pytest.mark.django_db
def test_a_language_that_cannot_be_measured_ranks_only_by_repetition(tiny_variants):
    # py3langid has no Tok Pisin: no answer counts as in-language, so only the loop goes down.
    assert rank("Yu stap gut?", [GERMAN, ENGLISH, LOOP], "tpi") == [[0, 1], [2]]


@pytest.mark.django_db
def test_without_a_base_model_the_judge_says_what_it_needs():
    with pytest.raises(Exception, match="needs an installed base model"):
        rank(PROMPT, [GERMAN, ENGLISH], "de")


@pytest.mark.django_db
def test_it_is_registered_and_a_judge_job_stores_its_rankings_as_judge(api, staff, tiny_variants):
    assert judges.resolve("language-fidelity").origin == "language-fidelity@1"
    campaign, tasks = campaign_with_tasks(n_tasks=2, language="en", name="Fidelity")
    reply = api(staff).post(
        "/api/v1/judge-jobs/", {"judge": "language-fidelity@1", "campaign": campaign.pk}, format="json"
    )
    assert reply.status_code == 202, reply.json()
    judge_job_run(reply.json()["id"])
    stored = Annotation.objects.filter(task__campaign=campaign, source="judge")
    assert stored.count() == len(tasks) and {a.origin for a in stored} == {"language-fidelity@1"}
