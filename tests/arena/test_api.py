"""The public leaderboard endpoint and staff exclusions over the REST API."""

import pytest

from tests.arena.conftest import finished_battle
from webapp.arena import services
from webapp.arena.models import ExcludedClient

pytestmark = pytest.mark.django_db

CLIENT = "d" * 64


def test_leaderboard_is_public_and_has_the_documented_shape(api, variants, languages):
    base, one, _ = variants
    services.vote_cast(token=str(finished_battle(one, base, client=CLIENT).token), outcome="a", client_hash=CLIENT)
    reply = api(None).get("/api/v1/arena/leaderboard/?language=en")
    assert reply.status_code == 200
    ratings = reply.json()["ratings"]
    assert [row["variant"] for row in ratings] == ["adapted-one", "base-model"]
    assert set(ratings[0]) == {
        "variant",
        "rating",
        "ci_low",
        "ci_high",
        "ci_method",
        "sandwich",
        "bootstrap",
        "provisional",
        "votes",
        "lineage",
    }
    assert (ratings[0]["lineage"], ratings[1]["lineage"]) == ("DPO adapter on base-model", "base model")
    assert ratings[1]["rating"] == 1000 and ratings[0]["votes"] == 1
    # one vote is far below ARENA_MIN_VOTES: provisional, no interval of the default method
    assert ratings[0]["provisional"] and ratings[0]["ci_low"] is None and ratings[0]["ci_method"] == "bootstrap"
    assert set(ratings[0]["sandwich"]) == {"low", "high"} and set(ratings[0]["bootstrap"]) == {"low", "high"}
    empty = api(None).get("/api/v1/arena/leaderboard/?language=de").json()
    assert (empty["ratings"], empty["votes_needed"], empty["changes_since"]) == ([], [], 0) and empty["as_of"]
    assert api(None).get("/api/v1/arena/leaderboard/").json()["ratings"] == ratings


def test_leaderboard_rejects_unknown_languages(api, languages):
    reply = api(None).get("/api/v1/arena/leaderboard/?language=fr")
    assert reply.status_code == 400 and "Unknown language" in reply.json()["detail"]
    assert api(None).get("/api/v1/arena/leaderboard/?language=not a tag").status_code == 400


def test_only_staff_exclude_clients(api, staff, annotator, variants, languages):
    body = {"client_hash": CLIENT, "reason": "bot"}
    assert api(annotator).post("/api/v1/arena/exclusions/", body, format="json").status_code == 403
    assert api(None).post("/api/v1/arena/exclusions/", body, format="json").status_code in (401, 403)
    reply = api(staff).post("/api/v1/arena/exclusions/", body, format="json")
    assert reply.status_code == 201 and ExcludedClient.objects.get().reason == "bot"
    assert api(staff).post("/api/v1/arena/exclusions/", {"client_hash": "x"}, format="json").status_code == 400
    assert api(staff).delete(f"/api/v1/arena/exclusions/{CLIENT}/").status_code == 204
    assert api(staff).delete(f"/api/v1/arena/exclusions/{CLIENT}/").status_code == 404


def test_staff_statistics_page_lists_clients_and_excludes_them(client, staff, variants, languages):
    base, one, _ = variants
    services.vote_cast(token=str(finished_battle(one, base, client=CLIENT).token), outcome="a", client_hash=CLIENT)
    assert client.get("/arena-stats/").status_code == 302  # staff only
    client.force_login(staff)
    page = client.get("/arena-stats/").content.decode()
    assert CLIENT[:12] in page and "adapted-one" in page
    client.post("/arena-stats/", {"client_hash": CLIENT, "reason": "spam"})
    assert ExcludedClient.objects.filter(client_hash=CLIENT, excluded_by=staff).exists()
