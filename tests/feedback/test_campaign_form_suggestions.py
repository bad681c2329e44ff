"""/campaigns/new/ sets a campaign's suggestions (issue 14): a registered judge's ranking as the starting
order, with the share of tasks shown without it; refusals come back on the form, nothing created."""

from tests.feedback.test_workspace import page_client
from webapp.feedback.models import Campaign
from webapp.feedback.services import catalog
from webapp.judging.fidelity import NAME, VERSION

JUDGE = f"{NAME}@{VERSION}"


def test_the_form_offers_the_registered_judges_and_stores_the_choice(staff):
    catalog.campaign_create(name="Seed", languages=["de"])  # the form's languages are the known ones
    page = page_client(staff).get("/campaigns/new/").content.decode()
    assert f'value="{JUDGE}"' in page and 'name="suggestion_holdout"' in page
    reply = page_client(staff).post(
        "/campaigns/new/",
        {"name": "Suggested", "languages": ["de"], "overlap": 2, "suggestion_judge": JUDGE, "suggestion_holdout": 0.3},
    )
    assert reply.status_code == 302
    made = Campaign.objects.get(name="Suggested")
    assert (made.suggestion_judge, made.suggestion_holdout) == (JUDGE, 0.3)
    plain = page_client(staff).post("/campaigns/new/", {"name": "Plain", "languages": ["de"], "overlap": 2})
    assert plain.status_code == 302
    assert Campaign.objects.get(name="Plain").suggestion_judge == ""


def test_a_bad_share_or_an_unknown_judge_is_refused_on_the_form(staff):
    catalog.campaign_create(name="Seed", languages=["de"])
    base = {"languages": ["de"], "overlap": 2}
    share = page_client(staff).post(
        "/campaigns/new/", {**base, "name": "A", "suggestion_judge": JUDGE, "suggestion_holdout": 1.5}
    )
    assert share.status_code == 200 and "suggestion_holdout" in share.content.decode()
    judge = page_client(staff).post("/campaigns/new/", {**base, "name": "B", "suggestion_judge": "nobody@1"})
    assert judge.status_code == 200 and "nobody@1" in judge.content.decode()
    assert not Campaign.objects.filter(name__in=["A", "B"]).exists()
