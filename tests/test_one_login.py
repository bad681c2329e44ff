"""One login page for the whole site, a 403 page for a missing role, a way out for an account with no
languages, and the small things a newcomer sees: the favicon and styled error pages."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db
STAFF_PAGES = ["/jobs/", "/models/", "/team/", "/transfers/", "/search/links/", "/arena-stats/", "/campaigns/new/"]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("path", STAFF_PAGES + ["/review/", "/annotate/"])
def test_a_signed_out_visitor_goes_to_the_one_login_page(path):
    answer = Client().get(path)
    assert answer.status_code == 302 and answer["Location"].startswith(f"/accounts/login/?next={path}")


def test_the_admin_login_sends_browsers_to_the_same_page_but_still_signs_scripts_in(staff):
    answer = Client().get("/admin/", follow=True)
    assert answer.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    assert "Log in" in answer.content.decode()
    script = Client()
    posted = script.post("/admin/login/?next=/admin/", {"username": "staff", "password": "pw-staff", "next": "/admin/"})
    assert posted.status_code == 302 and posted["Location"] == "/admin/"
    assert script.get("/admin/").status_code == 200


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_an_annotator_on_a_staff_page_is_told_it_is_for_staff(annotator, path):
    answer = signed_in(annotator).get(path)
    assert answer.status_code == 403
    page = answer.content.decode()
    assert "This page is for staff" in page and "<header>" in page  # the site's own page, not a bare 403


def test_a_staff_member_with_no_languages_is_shown_where_to_set_them(staff):
    page = signed_in(staff).get("/annotate/").content.decode()
    assert "You have no languages yet" in page
    assert f"/admin/feedback/annotatorprofile/add/?user={staff.pk}" in page and 'href="/team/"' in page


def test_an_annotator_with_no_languages_is_told_whom_to_ask(django_user_model):
    page = signed_in(django_user_model.objects.create_user("nolang", password="x")).get("/annotate/").content.decode()
    assert "You have no languages yet" in page and "Ask a staff member" in page


def test_a_missing_campaign_is_a_styled_404_with_its_reason(annotator):
    answer = signed_in(annotator).get("/annotate/?campaign=999999")
    assert answer.status_code == 404
    page = answer.content.decode()
    assert "No such campaign among yours." in page and "<header>" in page
    assert "There is nothing at this address." in Client().get("/no/such/page/").content.decode()


def test_the_favicon(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 301 and answer["Location"] == "/static/favicon.svg"
    assert 'rel="icon" href="/static/favicon.svg"' in client.get("/").content.decode()
