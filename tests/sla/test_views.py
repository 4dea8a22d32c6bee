"""SLA pages: policies (admins), escalations (managers), claims, the lead panel."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from accountability.notifications.models import Notification
from leads.models import Lead
from leads.sla import services
from leads.sla.models import Holiday, SlaClock, SlaPolicy
from tests.factories import LeadFactory, MembershipFactory, UserFactory
from tests.sla.factories import SlaPolicyFactory

pytestmark = pytest.mark.django_db

GOOD_POLICY = {
    "team": "",
    "first_contact_minutes": "15",
    "reminder_before_minutes": "5",
    "overdue_reminder_minutes": "0",
    "no_follow_up_after_minutes": "960",
    "escalation_grace_minutes": "60",
    "second_level_delay_minutes": "240",
    "on_escalation": "notify",
    **{f"day{d}_opens": "09:00" for d in range(5)},
    **{f"day{d}_closes": "17:00" for d in range(5)},
}


def escalate(lead_count=1, *, owner, team, name=None):
    """Leads that arrived 2 hours ago and were escalated to the team's manager."""
    now = timezone.now()
    leads = [
        LeadFactory(owner=owner, team=team, arrived_at=now - dt.timedelta(hours=2), **({"name": name} if name else {}))
        for _ in range(lead_count)
    ]
    result = services.sla_sweep(now=now)
    for notice in result.notices_created:
        if notice.state == "pending":
            services.notice_deliver(notice_id=notice.pk, now=now)
    return leads


# --- policies ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/sla/policies/", "/sla/policies/new/"])
def test_reps_and_managers_cannot_open_policy_pages(org, login, url):
    assert login(org["alice"]).get(url).status_code == 403
    assert login(org["maria"]).get(url).status_code == 403


def test_admin_creates_the_default_policy_with_business_hours(org, login):
    client = login(org["admin"])
    response = client.post("/sla/policies/new/", GOOD_POLICY)
    assert response.status_code == 302
    policy = SlaPolicy.objects.get(team=None)
    assert policy.first_contact_minutes == 15 and policy.version == 1
    assert list(policy.hours.values_list("weekday", "opens", "closes")) == [(d, 540, 1020) for d in range(5)]
    page = client.get("/sla/policies/").content.decode()
    assert "Organisation default" in page and "Mon–Fri 09:00–17:00" in page  # noqa: RUF001


def test_editing_a_policy_bumps_its_version(org, login):
    policy = SlaPolicyFactory()
    client = login(org["admin"])
    assert client.post(f"/sla/policies/{policy.pk}/", {**GOOD_POLICY, "first_contact_minutes": "30"}).status_code == 302
    policy.refresh_from_db()
    assert (policy.first_contact_minutes, policy.version) == (30, 2)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_contact_minutes", "-5", "Ensure this value is greater than or equal to 0."),
        ("first_contact_minutes", "0", "Must be at least 1 minute."),
        ("escalation_grace_minutes", "ten", "Enter a whole number."),
        ("day1_closes", "08:00", "Closing time must be after opening time."),
        ("day2_opens", "25:00", "is not a time between 00:00 and 24:00"),
    ],
)
def test_bad_policy_input_is_shown_and_nothing_is_saved(org, login, field, value, message):
    response = login(org["admin"]).post("/sla/policies/new/", {**GOOD_POLICY, field: value})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page.replace("&quot;", '"').replace("&#x27;", "'").replace("&ldquo;", "“")
    assert f'value="{value}"' in page  # the user's input is kept
    assert not SlaPolicy.objects.exists()


def test_policy_with_no_open_day_is_refused(org, login):
    data = {k: v for k, v in GOOD_POLICY.items() if not k.startswith("day")}
    response = login(org["admin"]).post("/sla/policies/new/", data)
    assert "Open at least one day a week." in response.content.decode()
    assert not SlaPolicy.objects.exists()


def test_a_team_cannot_have_two_policies(org, login):
    SlaPolicyFactory(team=org["north"])
    response = login(org["admin"]).post("/sla/policies/new/", {**GOOD_POLICY, "team": org["north"].pk})
    assert "already has a policy" in response.content.decode()
    assert SlaPolicy.objects.count() == 1


def test_policy_delete_is_post_only_and_default_cannot_be_deleted(org, login):
    default, north = SlaPolicyFactory(), SlaPolicyFactory(team=org["north"])
    client = login(org["admin"])
    assert client.get(f"/sla/policies/{north.pk}/delete/").status_code == 405
    client.post(f"/sla/policies/{default.pk}/delete/")
    client.post(f"/sla/policies/{north.pk}/delete/")
    assert list(SlaPolicy.objects.values_list("pk", flat=True)) == [default.pk]


def test_holidays_are_added_once(org, login):
    client = login(org["admin"])
    data = {"date": (timezone.localdate() + dt.timedelta(days=20)).isoformat(), "name": "Christmas Day", "team": ""}
    assert client.post("/sla/holidays/new/", data).status_code == 302
    again = client.post("/sla/holidays/new/", data)
    assert again.status_code == 400 and "already a holiday" in again.content.decode()
    assert Holiday.objects.count() == 1
    assert login(org["alice"]).post("/sla/holidays/new/", data).status_code == 403


def test_policy_list_query_count_is_constant(org, login, django_assert_num_queries):
    client = login(org["admin"])
    SlaPolicyFactory()
    # session, user, unread count, policies (with team, updated_by), their hours, holidays,
    # teams for the holiday form's select
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(8):
        client.get("/sla/policies/")
    for team in [org["north"], org["south"], org["sales"]]:
        SlaPolicyFactory(team=team)
    with django_assert_num_queries(8):
        client.get("/sla/policies/")


def test_describe_is_a_sentence_of_the_live_values(db):
    policy = SlaPolicyFactory(hours=[(d, 540, 1020) for d in range(5)], on_escalation="reassign")
    text = policy.describe()
    assert text.startswith("First contact within 15 minutes of business time after a lead arrives;")
    assert "escalated to the team's manager after 1 hour" in text
    assert "4 hours later" in text and "reassigned to the next available rep" in text
    assert "Business hours: Mon–Fri 09:00–17:00" in text  # noqa: RUF001


# --- escalations ------------------------------------------------------------------------


def test_manager_sees_escalations_of_their_teams_only(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"], name="North Lead")
    escalate(owner=org["charlie"], team=org["south"], name="South Lead")
    maria = login(org["maria"]).get("/sla/escalations/").content.decode()
    assert "North Lead" in maria and "South Lead" not in maria
    helen = login(org["helen"]).get("/sla/escalations/").content.decode()
    assert "North Lead" in helen and "South Lead" in helen


def test_manager_home_shows_the_escalated_lead(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"], name="Acme Escalated")
    page = login(org["maria"]).get("/").content.decode()
    assert 'data-testid="manager-escalations"' in page and "Acme Escalated" in page


def test_a_contacted_lead_leaves_the_escalation_list_at_once(org, login):
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"], name="Saved Lead")
    type(lead).objects.filter(pk=lead.pk).update(first_contacted_at=timezone.now())
    assert "Saved Lead" not in login(org["maria"]).get("/sla/escalations/").content.decode()


def test_escalation_pages_are_for_managers(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    assert login(org["alice"]).get("/sla/escalations/").status_code == 403
    assert login(org["alice"]).post(f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": 1}).status_code == 403


def test_manager_of_another_team_gets_404_on_reassign(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    response = login(org["sam"]).post(f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": org["bob"].pk})
    assert response.status_code == 404


def test_reassign_is_post_only(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    assert login(org["maria"]).get(f"/sla/escalations/{clock.pk}/reassign/").status_code == 405


def test_one_click_reassign_moves_the_lead_and_clears_the_escalation(org, login):
    pytest.importorskip("leads.services")
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    client = login(org["maria"])
    response = client.post(
        f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": org["bob"].pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Reassigned to Bob" in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    assert lead.activities.filter(kind="assigned").count() == 1
    assert "escalation-row" not in client.get("/sla/escalations/").content.decode()


def test_reassign_to_someone_outside_the_team_is_refused(org, login):
    pytest.importorskip("leads.services")
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    response = login(org["maria"]).post(
        f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": org["charlie"].pk}, headers={"HX-Request": "true"}
    )
    # 200: htmx swaps only 2xx responses; the row shows the error in place.
    assert response.status_code == 200 and "is not an active member" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == org["alice"]


def test_reassign_of_an_escalation_another_manager_handled_says_who_and_when(org, login):
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    url = f"/sla/escalations/{clock.pk}/reassign/"
    assert login(org["helen"]).post(url, {"to_owner": org["bob"].pk}, headers={"HX-Request": "true"}).status_code == 200
    handled_at = timezone.localtime(SlaClock.objects.get(pk=clock.pk).actioned_at)
    response = login(org["maria"]).post(url, {"to_owner": org["alice"].pk}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert escape(f"Already handled by {org['helen']} at {handled_at:%H:%M}.") in html
    assert "<select" not in html  # nothing left to do on that row
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    # Without htmx: a message on the page it came from.
    response = login(org["maria"]).post(url, {"to_owner": org["alice"].pk}, follow=True)
    assert escape(f"already handled by {org['helen']}") in response.content.decode()


def test_reassign_of_an_escalation_whose_lead_was_contacted_says_so(org, login):
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    type(lead).objects.filter(pk=lead.pk).update(first_contacted_at=timezone.now())
    response = login(org["maria"]).post(
        f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": org["bob"].pk}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Already handled: the lead was followed up or closed." in (
        response.content.decode()
    )
    lead.refresh_from_db()
    assert lead.owner == org["alice"]


def test_a_lead_a_teammate_claimed_first_says_so_instead_of_404(org, login):
    SlaPolicyFactory(on_escalation="claim")
    (lead,) = escalate(owner=org["alice"], team=org["north"], name="Claim Race")
    clock = SlaClock.objects.get()
    dana = UserFactory(username="dana", first_name="Dana", last_name="Kim", role="rep")
    MembershipFactory(user=dana, team=org["north"])
    assert login(org["bob"]).post(f"/sla/claimable/{clock.pk}/claim/").status_code == 302
    response = login(dana).post(f"/sla/claimable/{clock.pk}/claim/", follow=True)
    assert response.status_code == 200
    assert escape(f"{lead} was already handled by {org['bob']}: nothing to claim.") in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == org["bob"]


def test_lead_names_are_escaped(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"], name="<script>alert(1)</script>")
    page = login(org["maria"]).get("/sla/escalations/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("count", [5, 50])
def test_escalation_list_query_count_is_constant(org, login, django_assert_num_queries, count):
    SlaPolicyFactory()
    escalate(count, owner=org["alice"], team=org["north"])
    client = login(org["maria"])
    # session, user, managed teams (2: roots + tree), escalations with lead/owner/team, members of
    # those teams, unread count, expectations banner (1)
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(9):
        response = client.get("/sla/escalations/")
    assert response.content.decode().count('data-testid="escalation-row"') == count


@pytest.mark.parametrize("count", [5, 50])
def test_manager_home_panel_adds_constant_queries(org, login, django_assert_max_num_queries, count):
    SlaPolicyFactory()
    escalate(count, owner=org["alice"], team=org["north"])
    client = login(org["maria"])
    # The home page's own queries (with the leads, goals and expectations panels) plus this
    # panel's two (escalations, members); at most 10 rows shown.
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    # +1: the reviews panel, the manager's own open action items.
    with django_assert_max_num_queries(15):
        page = client.get("/").content.decode()
    assert page.count('data-testid="escalation-row"') == min(count, 10)


# --- claims -----------------------------------------------------------------------------


def test_teammate_claims_an_escalated_lead_when_the_policy_allows(org, login):
    pytest.importorskip("leads.services")
    SlaPolicyFactory(on_escalation="claim")
    (lead,) = escalate(owner=org["alice"], team=org["north"], name="Claim Me")
    told = Notification.objects.get(recipient=org["bob"], kind="sla_claimable")
    assert told.title.startswith("Save a lead: Claim Me") and told.url == "/sla/claimable/"
    assert not Notification.objects.filter(recipient=org["charlie"]).exists()
    assert "Claim Me" in login(org["bob"]).get("/sla/claimable/").content.decode()
    assert "Claim Me" not in login(org["charlie"]).get("/sla/claimable/").content.decode()
    clock = SlaClock.objects.get()
    assert login(org["charlie"]).post(f"/sla/claimable/{clock.pk}/claim/").status_code == 404
    assert login(org["bob"]).post(f"/sla/claimable/{clock.pk}/claim/").status_code == 302
    lead.refresh_from_db()
    assert lead.owner == org["bob"]
    # The timeline says bob took it (not "System"), as a claim.
    entry = lead.activities.get(kind="assigned")
    assert entry.actor == org["bob"] and entry.data["how"] == "claim"
    assert entry.data["from_owner"] == org["alice"].pk and entry.body == f"Claimed by {org['bob']} after escalation"


# --- lead panel -------------------------------------------------------------------------


def test_lead_panel_says_which_policy_and_due_time_apply_and_why(org):
    SlaPolicyFactory(hours=[(d, 540, 1020) for d in range(5)])
    org["north"].time_zone = "America/New_York"
    org["north"].save()
    lead = LeadFactory(
        owner=org["alice"], team=org["north"], arrived_at=dt.datetime(2026, 11, 20, 23, 40, tzinfo=dt.UTC)
    )
    html = render_to_string("sla/includes/lead_panel.html", {"lead": lead})
    assert "First contact due Mon 23 Nov 09:15 EST: arrived Fri 20 Nov 18:40, 15 minutes of business time" in html
    assert "organisation default v1" in html and "America/New_York" in html


def test_lead_panel_drops_a_due_time_that_no_longer_applies(org):
    SlaPolicyFactory()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=timezone.now() - dt.timedelta(minutes=20))
    services.sla_sweep()
    assert "First contact due" in render_to_string("sla/includes/lead_panel.html", {"lead": lead})
    type(lead).objects.filter(pk=lead.pk).update(first_contacted_at=timezone.now(), last_activity_at=timezone.now())
    lead.refresh_from_db()
    html = render_to_string("sla/includes/lead_panel.html", {"lead": lead})
    assert "First contact due" not in html
    assert "Next follow-up date needed by" in html  # contacted, no follow-up date: that clock runs now


@pytest.mark.parametrize("count", [5, 50])
def test_claim_list_query_count_is_constant(org, login, django_assert_num_queries, count):
    SlaPolicyFactory(on_escalation="claim")
    escalate(count, owner=org["alice"], team=org["north"])
    client = login(org["bob"])
    # session, user, unread count, expectations banner, member teams, claimable clocks with
    # lead, owner and team
    # +1: the user's time zone, looked up by UserTimeZoneMiddleware (they have none of their own).
    with django_assert_num_queries(7):
        page = client.get("/sla/claimable/").content.decode()
    assert page.count(">Claim</button>") == count


# --- reassign menu ----------------------------------------------------------------------


def test_reassign_menu_preselects_nobody_and_offers_only_available_reps(org, login):
    SlaPolicyFactory()
    escalate(owner=org["alice"], team=org["north"])
    away = UserFactory(username="aaron", first_name="Aaron", role="rep", away_until=timezone.localdate())
    gone = UserFactory(username="abby", first_name="Abby", role="rep", is_active=False)
    back = UserFactory(
        username="dana", first_name="Dana", role="rep", away_until=timezone.localdate() - dt.timedelta(1)
    )
    for user in (away, gone, back):
        MembershipFactory(user=user, team=org["north"])
    html = login(org["maria"]).get("/sla/escalations/").content.decode()
    select = html[html.index('<select name="to_owner"') : html.index("</select>")]
    assert "required" in select.split(">")[0]
    options = [line.strip() for line in select.splitlines()[1:]]
    # The empty choice comes first (nothing pre-selected); then bob and dana, by name. Aaron is
    # away today, Abby deactivated, alice owns the lead, maria is the manager, not a rep.
    assert options[0] == '<option value="">Choose a rep…</option>'
    names = [o.split(">")[1].split("<")[0] for o in "".join(options).split("<option")[2:]]
    assert names == [str(org["bob"]), str(back)]


def test_reassign_with_nobody_chosen_changes_nothing(org, login):
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    response = login(org["maria"]).post(
        f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": ""}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "Choose who takes the lead." in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == org["alice"]
    assert SlaClock.objects.get().actioned_at is None


def test_reassign_to_a_rep_who_is_away_is_refused(org, login):
    SlaPolicyFactory()
    (lead,) = escalate(owner=org["alice"], team=org["north"])
    clock = SlaClock.objects.get()
    bob = org["bob"]
    type(bob).objects.filter(pk=bob.pk).update(away_until=timezone.localdate() + dt.timedelta(days=3))
    response = login(org["maria"]).post(
        f"/sla/escalations/{clock.pk}/reassign/", {"to_owner": bob.pk}, headers={"HX-Request": "true"}
    )
    until = (timezone.localdate() + dt.timedelta(days=3)).strftime("%d %b")
    assert response.status_code == 200
    assert escape(f"{bob} is away until {until}: choose an available rep.") in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == org["alice"]


# --- lead panel after the event was handled ---------------------------------------------


def _panel(lead):
    lead.refresh_from_db()
    return render_to_string("sla/includes/lead_panel.html", {"lead": lead})


@pytest.mark.parametrize("how", ["contacted", "follow_up_done", "follow_up_replaced", "closed"])
def test_lead_panel_forgets_the_next_step_as_soon_as_the_event_no_longer_holds(org, how):
    from leads.models import FollowUp
    from tests.factories import FollowUpFactory

    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], team=org["north"], arrived_at=now - dt.timedelta(minutes=20))
    Lead = type(lead)
    if how.startswith("follow_up"):
        Lead.objects.filter(pk=lead.pk).update(first_contacted_at=now - dt.timedelta(hours=1))
        follow_up = FollowUpFactory(lead=lead, due_at=now - dt.timedelta(minutes=5))
        Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=follow_up.due_at)
    services.sla_sweep(now=now)
    assert "Next: escalation to the team" in _panel(lead)  # overdue recorded; escalation next
    # Handled before the next sweep: the panel must not say what the sweep will no longer do.
    if how == "contacted":
        Lead.objects.filter(pk=lead.pk).update(first_contacted_at=now, last_activity_at=now)
    elif how == "follow_up_done":
        FollowUp.objects.filter(pk=follow_up.pk).update(state="done", done_at=now)
        Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=None, last_activity_at=now)
    elif how == "follow_up_replaced":
        FollowUp.objects.filter(pk=follow_up.pk).update(state="cancelled")
        later = now + dt.timedelta(days=2)
        FollowUpFactory(lead=lead, due_at=later)
        Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=later)
    else:
        Lead.objects.filter(pk=lead.pk).update(stage="lost", closed_at=now)
    html = _panel(lead)
    assert "Next:" not in html and "(overdue)" not in html and "Escalated" not in html


# --- time zones -------------------------------------------------------------------------


def test_sla_pages_show_times_in_the_viewers_zone_and_label_the_teams(org, login):
    # The site-wide middleware activates the viewer's zone (their own here); timezone.override
    # stands in for it when rendering the panel alone.
    policy = SlaPolicyFactory()
    for viewer in ("maria", "admin"):
        org[viewer].time_zone = "Asia/Tokyo"
        org[viewer].save()
    org["north"].time_zone = "America/New_York"
    org["north"].save()
    (lead,) = escalate(owner=org["alice"], team=org["north"], name="Zoned Lead")
    clock = SlaClock.objects.get()
    tokyo = clock.due_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
    with timezone.override("Asia/Tokyo"):
        page = login(org["maria"]).get("/sla/escalations/").content.decode()
        assert f"due {tokyo:%a} {tokyo.day} {tokyo:%b %H:%M}" in page
        panel = render_to_string("sla/includes/lead_panel.html", {"lead": lead})
        notice = lead.sla_notices.order_by("-created_at", "-id").first()
        # The viewer's times in the viewer's zone, written like every other page (no zone beside them).
        sent = notice.created_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
        assert f"{sent.day} {sent:%b %H:%M} ·" in panel and " JST" not in panel
        # The due time is about the team's hours: in its zone, labelled.
        ny = clock.due_at.astimezone(ZoneInfo("America/New_York"))
        assert f"due {ny:%a %d %b %H:%M} E" in panel  # EST or EDT
        changed = login(org["admin"]).get("/sla/policies/").content.decode()
        changed_at = policy.updated_at.astimezone(dt.timezone(dt.timedelta(hours=9)))
        assert f"Changed {changed_at.day} {changed_at:%b %Y %H:%M}" in changed


def test_reps_find_the_claimable_pool_in_the_navbar(org, login):
    page = login(org["alice"]).get("/").content.decode()
    assert '<a class="nav-link" href="/sla/claimable/">Leads to save</a>' in page
    assert 'href="/sla/claimable/"' not in login(org["maria"]).get("/").content.decode()


@pytest.mark.parametrize("how", ["open", "follow_up_done", "follow_up_replaced"])
def test_lead_page_panel_tells_the_follow_up_clock_by_the_pages_open_follow_up(org, login, how):
    """The page reads the open follow-up once; its panel tells from it whether the clock's
    follow-up is still open (no join): each way of handling it shows on the next view."""
    from leads.models import FollowUp
    from tests.factories import FollowUpFactory

    SlaPolicyFactory()
    now = timezone.now()
    lead = LeadFactory(owner=org["alice"], team=org["north"], first_contacted_at=now - dt.timedelta(hours=1))
    follow_up = FollowUpFactory(lead=lead, due_at=now - dt.timedelta(minutes=5))
    Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=follow_up.due_at)
    services.sla_sweep(now=now)
    c = login(org["alice"])
    assert "Next: escalation to the team" in c.get(f"/leads/{lead.pk}/").content.decode()
    if how == "follow_up_done":
        FollowUp.objects.filter(pk=follow_up.pk).update(state="done", done_at=now)
        Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=None, last_activity_at=now)
    elif how == "follow_up_replaced":
        FollowUp.objects.filter(pk=follow_up.pk).update(state="cancelled")
        FollowUpFactory(lead=lead, due_at=now + dt.timedelta(days=2))
        Lead.objects.filter(pk=lead.pk).update(next_follow_up_at=now + dt.timedelta(days=2))
    panel = c.get(f"/leads/{lead.pk}/").content.decode().split('data-testid="sla-panel"')[1]
    assert ("Next: escalation to the team" in panel) == (how == "open")
    assert ("(overdue)" in panel) == (how == "open")
