"""Recognition pages per role, htmx endpoints included, bad input kept, constant query counts."""

import pytest
from django import forms
from django.urls import reverse

from recognition.forms import KudosForm
from recognition.models import Kudos, KudosComment, KudosReaction, RecognitionSettings
from recognition.services import kudos_hide
from tests.factories import LeadFactory, MembershipFactory, UserFactory
from tests.recognition.factories import make_kudos

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
MESSAGE = "Picked up the Acme call while I was out and booked the demo."


def org_feed(on: bool):
    RecognitionSettings.objects.update_or_create(pk=1, defaults={"org_feed_enabled": on})


@pytest.fixture
def kudos(org, own_it):
    return make_kudos(org["alice"], [org["bob"]], values=[own_it])


def url(name, *args):
    return reverse(f"recognition:{name}", args=args)


# --- Feeds -----------------------------------------------------------------------------------


def test_team_feed_shows_the_teams_kudos_and_not_other_teams(org, kudos, login):
    page = login(org["bob"]).get(url("feed"))
    assert page.status_code == 200 and "Called the Acme lead back" in page.content.decode()
    assert login(org["charlie"]).get(url("feed")).context["page"].paginator.count == 0
    assert login(org["maria"]).get(url("feed")).context["page"].paginator.count == 1
    assert login(org["sam"]).get(url("feed")).context["page"].paginator.count == 0


def test_org_feed_is_for_everyone_when_on_and_gone_when_off(org, kudos, login):
    client = login(org["charlie"])
    assert client.get(url("feed") + "?scope=org").context["page"].paginator.count == 1
    org_feed(False)
    assert client.get(url("feed") + "?scope=org").status_code == 404
    assert client.get(url("kudos-detail", kudos.pk)).status_code == 404


def test_hidden_kudos_only_to_giver_recipient_their_managers_and_admins(org, kudos, login):
    kudos_hide(actor=org["maria"], kudos=kudos, reason="Private details of a customer.")
    for name in ("alice", "bob", "maria", "helen", "admin"):
        assert login(org[name]).get(url("kudos-detail", kudos.pk)).status_code == 200, name
    for name in ("charlie", "sam"):
        assert login(org[name]).get(url("kudos-detail", kudos.pk)).status_code == 404, name
        assert login(org[name]).get(url("feed") + "?scope=org").context["page"].paginator.count == 0


@pytest.mark.parametrize(
    "viewer, expected",
    [
        # session, user, time zone, settings, bob's teams, count, the page's ids, their kudos + 3
        # prefetches (recipients, values, comments), give form: evidence (leads, goals,
        # commitments), recipients, values; nav: unread count, expectations banner
        ("bob", 18),
        # maria: + the teams she manages and their sub-teams (the evidence she may open, whom she
        # may hide for, whom she may recognise)
        ("maria", 20),
    ],
)
def test_feed_runs_a_constant_number_of_queries(org, own_it, login, django_assert_num_queries, viewer, expected):
    client = login(org[viewer])
    make_kudos(org["alice"], [org["bob"]], values=[own_it], lead=LeadFactory(owner=org["alice"]))
    client.get(url("feed"))  # warm the settings row
    with django_assert_num_queries(expected) as small:
        client.get(url("feed"))
    for _ in range(30):
        kudos = make_kudos(org["alice"], [org["bob"], org["charlie"]], values=[own_it])
        KudosComment.objects.create(kudos=kudos, author=org["charlie"], body="Nice")
        KudosReaction.objects.create(kudos=kudos, user=org["charlie"])
    make_kudos(org["bob"], [org["alice"]], lead=LeadFactory(owner=org["bob"]))
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url("feed"))
    assert len(response.context["page"]) == 20


def test_an_empty_feed_reads_no_kudos_after_counting_none(org, login, django_assert_num_queries):
    client = login(org["charlie"])
    client.get(url("feed"))  # warm the settings row
    # session, user, time zone, settings, charlie's teams, the count (0: no page to read), give
    # form: evidence (leads, goals, commitments), recipients, values; nav: unread count, banner
    with django_assert_num_queries(13):
        response = client.get(url("feed"))
    assert 'data-testid="feed-empty"' in response.content.decode()


# --- Giving -------------------------------------------------------------------------------------


def test_the_give_form_names_each_colleague_as_everywhere_else(org, login):
    """The recipients are read with a values query (recognition.forms): the same options and
    names as Django's own choices of the same people, and a chosen one stays chosen."""
    MembershipFactory(user=UserFactory(username="nameless", first_name="", last_name=""), team=org["north"])
    MembershipFactory(user=UserFactory(username="firstonly", first_name="Zoë <Z>", last_name=""), team=org["north"])
    MembershipFactory(user=UserFactory(username="lastonly", first_name="", last_name="O'Neil"), team=org["north"])
    bob = org["bob"]
    form = KudosForm({"recipients": [str(bob.pk)]}, user=org["alice"], evidence_choices=[], org_feed=False)
    people = form.fields["recipients"].queryset
    django_choices = forms.ModelMultipleChoiceField(queryset=people).choices
    assert [(str(v), label) for v, label in form.fields["recipients"].choices] == [
        (str(v), label) for v, label in django_choices
    ]
    assert {"nameless", "Zoë <Z>", "O'Neil"} <= {label for _, label in form.fields["recipients"].choices}
    html = str(form["recipients"])
    assert f'<option value="{bob.pk}" selected>{bob}</option>' in html and "Zoë &lt;Z&gt;" in html


def test_giving_with_htmx_returns_a_fresh_form_and_the_new_card(org, own_it, login):
    client = login(org["alice"])
    lead = LeadFactory(owner=org["alice"])
    response = client.post(
        url("kudos-give"),
        {"recipients": [org["bob"].pk], "message": MESSAGE, "values": [own_it.pk], "evidence": f"lead:{lead.pk}"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="give-form"' in body and 'hx-swap-oob="afterbegin"' in body and "Acme" in body
    kudos = Kudos.objects.get()
    assert kudos.lead == lead and list(kudos.recipients.all()) == [org["bob"]]


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"values": []}, "at least one company value"),
        ({"message": "great job"}, "at least 20 characters"),
        ({"recipients": ["999999"]}, "Choose colleagues you work with"),
        ({"recipients": "self"}, "yourself"),
        ({"evidence": "lead:other"}, "Choose evidence you can see"),
    ],
)
def test_bad_input_gives_a_clear_error_and_keeps_the_input(org, own_it, login, change, error):
    alice, bob = org["alice"], org["bob"]
    data = {"recipients": [bob.pk], "message": MESSAGE, "values": [own_it.pk], "evidence": ""}
    if change.get("recipients") == "self":
        change = {"recipients": [alice.pk]}
    if change.get("evidence") == "lead:other":
        change = {"evidence": f"lead:{LeadFactory(owner=bob).pk}"}
    data.update(change)
    response = login(alice).post(url("kudos-give"), data, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200 and error in body
    assert not Kudos.objects.exists()
    if "message" not in change:
        assert "booked the demo" in body  # the message is given back


def test_allowance_exceeded_is_explained(org, own_it, login):
    RecognitionSettings.objects.update_or_create(pk=1, defaults={"monthly_allowance": 0})
    data = {"recipients": [org["bob"].pk], "message": MESSAGE, "values": [own_it.pk]}
    body = login(org["alice"]).post(url("kudos-give"), data, **HTMX).content.decode()
    assert "monthly allowance is 0 kudos" in body and "booked the demo" in body


def test_give_page_from_a_lead_is_prefilled_only_with_a_visible_lead(org, own_it, login):
    mine, bobs = LeadFactory(owner=org["alice"]), LeadFactory(owner=org["bob"])
    client = login(org["alice"])
    assert client.get(url("kudos-give-page") + f"?lead={mine.pk}").context["form"].initial == {
        "evidence": f"lead:{mine.pk}"
    }
    assert client.get(url("kudos-give-page") + f"?lead={bobs.pk}").context["form"].initial == {}
    lead_page = client.get(reverse("leads:lead-detail", args=[mine.pk])).content.decode()
    assert f"/recognition/give/?lead={mine.pk}" in lead_page


def test_give_is_post_only(org, login):
    assert login(org["alice"]).get(url("kudos-give")).status_code == 405


# --- Reactions, comments, edit, delete, hide ---------------------------------------------------------


def test_reaction_in_place_and_scoped(org, kudos, login):
    response = login(org["bob"]).post(url("reaction-toggle", kudos.pk), **HTMX)
    assert response.status_code == 200 and 'aria-pressed="true"' in response.content.decode()
    assert login(org["bob"]).get(url("reaction-toggle", kudos.pk)).status_code == 405
    org_feed(False)
    assert login(org["charlie"]).post(url("reaction-toggle", kudos.pk), **HTMX).status_code == 404


def test_comment_in_place_keeps_input_on_error(org, kudos, login):
    client = login(org["maria"])
    ok = client.post(url("comment-create", kudos.pk), {"body": "Well done Bob"}, **HTMX)
    assert "Well done Bob" in ok.content.decode()
    bad = client.post(url("comment-create", kudos.pk), {"body": "x" * 1001}, **HTMX)
    assert "at most 1000" in bad.content.decode().lower() or "Ensure this value" in bad.content.decode()
    org_feed(False)
    assert login(org["charlie"]).post(url("comment-create", kudos.pk), {"body": "hi"}, **HTMX).status_code == 404


def test_edit_and_delete_are_the_givers(org, kudos, own_it, login):
    assert login(org["bob"]).get(url("kudos-edit", kudos.pk), **HTMX).status_code == 403
    client = login(org["alice"])
    assert client.get(url("kudos-edit", kudos.pk), **HTMX).status_code == 200
    response = client.post(url("kudos-edit", kudos.pk), {"message": MESSAGE + " Again.", "values": [own_it.pk]}, **HTMX)
    assert "Again." in response.content.decode()
    assert login(org["bob"]).post(url("kudos-delete", kudos.pk), **HTMX).status_code == 403
    client = login(org["alice"])  # the same test client, logged in again
    assert client.get(url("kudos-delete", kudos.pk)).status_code == 405
    assert client.post(url("kudos-delete", kudos.pk), **HTMX).status_code == 200
    assert not Kudos.objects.exists()


def test_hide_is_for_the_recipients_managers(org, kudos, login):
    assert login(org["alice"]).post(url("kudos-hide", kudos.pk), {"reason": "x"}, **HTMX).status_code == 403
    assert login(org["sam"]).post(url("kudos-hide", kudos.pk), {"reason": "x"}, **HTMX).status_code == 403
    empty = login(org["maria"]).post(url("kudos-hide", kudos.pk), {"reason": ""}, **HTMX)
    assert "Say why" in empty.content.decode()
    done = login(org["maria"]).post(url("kudos-hide", kudos.pk), {"reason": "Customer data"}, **HTMX)
    assert 'data-testid="kudos-hidden"' in done.content.decode()
    assert login(org["maria"]).get(url("kudos-hide", kudos.pk)).status_code == 405


# --- Person, managers, awards, leaderboard ----------------------------------------------------


def test_person_page_lists_their_kudos_within_scope(org, kudos, login):
    response = login(org["alice"]).get(url("person-kudos", org["bob"].pk))
    assert response.status_code == 200 and response.context["page"].paginator.count == 1
    org_feed(False)
    assert login(org["charlie"]).get(url("person-kudos", org["bob"].pk)).status_code == 404


def test_unrecognised_is_private_to_managers(org, kudos, login):
    assert login(org["alice"]).get(url("unrecognised-list")).status_code == 403
    rows = login(org["maria"]).get(url("unrecognised-list")).context["rows"]
    assert [p.username for p, _ in rows] == ["alice"]  # bob was just recognised; charlie is not maria's


def test_cosign_queue_is_for_managers(org, login):
    assert login(org["alice"]).get(url("cosign-list")).status_code == 403
    assert login(org["maria"]).get(url("cosign-list")).status_code == 200


def test_leaderboard_is_off_by_default_then_personal_then_team_with_allowed_metrics(org, kudos, login):
    assert 'data-testid="leaderboard-off"' in login(org["bob"]).get(url("leaderboard")).content.decode()
    RecognitionSettings.objects.filter(pk=1).update(leaderboard_mode="personal")
    board = login(org["bob"]).get(url("leaderboard")).context["board"]
    assert (board["position"], board["out_of"], board["kudos"]) == (1, 2, 1)
    RecognitionSettings.objects.filter(pk=1).update(leaderboard_mode="team", leaderboard_metrics=["kudos_received"])
    board = login(org["maria"]).get(url("leaderboard")).context["board"]
    assert board["metrics"] == [("kudos_received", "Kudos received")]
    assert [r.user.username for r in board["rows"]] == ["bob", "alice"]


def test_awards_page_lists_criteria_and_winners(org, login):
    import datetime as dt

    from recognition.models import Award, AwardWinner

    award = Award.objects.create(name="Lead saver", criteria="Most leads saved", metric="leads_saved")
    AwardWinner.objects.create(
        award=award, period_start=dt.date(2026, 10, 1), period_end=dt.date(2026, 10, 31), user=org["bob"]
    )
    body = login(org["charlie"]).get(url("award-list")).content.decode()
    assert "Most leads saved" in body and "Bob" in body


def test_a_manager_chooses_a_manual_award_winner_on_the_page(org, login):
    from recognition.models import Award, AwardWinner

    award = Award.objects.create(name="Coach's pick", criteria="Chosen by Maria", kind="manual", team=org["north"])
    data = {"period_start": "2026-10-01", "winner": f"user:{org['bob'].pk}", "note": "Mentored the new starter"}
    assert login(org["alice"]).post(url("award-choose", award.pk), data).status_code == 403
    assert login(org["sam"]).post(url("award-choose", award.pk), data).status_code == 404  # not his team's award
    assert login(org["maria"]).get(url("award-choose", award.pk)).status_code == 405
    page = login(org["maria"]).get(url("award-list")).content.decode()
    assert f'value="user:{org["bob"].pk}"' in page
    login(org["maria"]).post(url("award-choose", award.pk), data)
    assert AwardWinner.objects.get().user == org["bob"]


def test_admin_cannot_delete_a_value_in_use(org, kudos, own_it, honesty, client):
    client.force_login(org["admin"])
    org["admin"].is_staff = org["admin"].is_superuser = True
    org["admin"].save()
    in_use = client.post(f"/admin/recognition/companyvalue/{own_it.pk}/delete/", {"post": "yes"})
    assert in_use.status_code == 403
    client.post(f"/admin/recognition/companyvalue/{honesty.pk}/delete/", {"post": "yes"})
    from recognition.models import CompanyValue

    assert list(CompanyValue.objects.values_list("name", flat=True)) == ["Own it"]


def test_only_admins_change_recognition_settings(org, login):
    assert login(org["maria"]).get(url("settings")).status_code == 403
    client = login(org["admin"])
    assert client.get(url("settings")).status_code == 200
    data = {
        "max_per_recipient_per_day": "0",
        "min_message_length": "20",
        "leaderboard_mode": "team",
        "leaderboard_metrics": ["kudos_received", "leads_saved"],
    }
    bad = client.post(url("settings"), data)
    assert "At least 1" in bad.content.decode()
    client.post(url("settings"), {**data, "max_per_recipient_per_day": "2"})
    row = RecognitionSettings.objects.get()
    assert (row.org_feed_enabled, row.leaderboard_mode, row.leaderboard_metrics) == (
        False,
        "team",
        ["kudos_received", "leads_saved"],
    )


def test_cosign_decide_per_role(org, login):
    from decimal import Decimal

    from goals.services import goal_mark_met
    from recognition import auto
    from recognition.models import AutoRule
    from tests.goals.factories import GoalFactory

    AutoRule.objects.update_or_create(code="goal_met", defaults={"requires_cosign": True})
    goal = GoalFactory(owner=org["alice"])
    goal_mark_met(goal=goal, value=Decimal(10))
    grant = auto.auto_goal_met(goal_id=goal.pk)
    assert login(org["alice"]).post(url("cosign-decide", grant.pk), {"decision": "post"}).status_code == 403
    assert login(org["sam"]).post(url("cosign-decide", grant.pk), {"decision": "post"}).status_code == 404
    assert login(org["maria"]).get(url("cosign-decide", grant.pk)).status_code == 405
    assert "Met the goal" in login(org["maria"]).get(url("cosign-list")).content.decode()
    login(org["maria"]).post(url("cosign-decide", grant.pk), {"decision": "post"})
    kudos = Kudos.objects.get()
    assert kudos.is_automatic and list(kudos.recipients.all()) == [org["alice"]]


def test_unhide_per_role(org, kudos, login):
    kudos_hide(actor=org["maria"], kudos=kudos, reason="Customer data")
    assert login(org["alice"]).post(url("kudos-unhide", kudos.pk), **HTMX).status_code == 403
    assert login(org["charlie"]).post(url("kudos-unhide", kudos.pk), **HTMX).status_code == 404
    assert login(org["helen"]).get(url("kudos-unhide", kudos.pk)).status_code == 405
    shown = login(org["helen"]).post(url("kudos-unhide", kudos.pk), **HTMX)
    assert shown.status_code == 200 and 'data-testid="kudos-hidden"' not in shown.content.decode()


def test_person_page_runs_a_constant_number_of_queries(org, own_it, login, django_assert_num_queries):
    client = login(org["alice"])
    make_kudos(org["charlie"], [org["bob"]], values=[own_it])
    client.get(url("person-kudos", org["bob"].pk))
    # session, user, time zone, settings, person, alice's teams (evidence check), count, the page's
    # ids, their kudos + 3 prefetches (recipients, values, comments), awards won, nav: unread count,
    # expectations banner
    with django_assert_num_queries(15) as small:
        client.get(url("person-kudos", org["bob"].pk))
    for _ in range(25):
        make_kudos(org["alice"], [org["bob"], org["charlie"]], values=[own_it])
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(url("person-kudos", org["bob"].pk))
