from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.utils import timezone

from accountability.expectations import services
from accountability.expectations.models import Acknowledgement, Document, DocumentVersion, Kpi
from accountability.expectations.selectors import covered_users, pending_versions_for
from accountability.notifications.models import Notification
from tests.expectations.factories import draft_with_content, published
from tests.factories import MembershipFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_only_admins_author(org):
    with pytest.raises(PermissionDenied):
        services.document_create(actor=org["maria"], team=None, title="Mine")
    with pytest.raises(PermissionDenied):
        services.document_create(actor=org["alice"], team=None, title="Mine")


def test_one_organisation_document_and_one_per_team(org):
    services.document_create(actor=org["admin"], team=None, title="Org")
    with pytest.raises(ValidationError, match="already has"):
        services.document_create(actor=org["admin"], team=None, title="Org again")
    services.document_create(actor=org["admin"], team=org["north"], title="North")
    with pytest.raises(ValidationError, match="North already has"):
        services.document_create(actor=org["admin"], team=org["north"], title="North again")


def test_publishing_an_empty_organisation_document_is_refused_with_what_is_missing(org):
    document = services.document_create(actor=org["admin"], team=None, title="Org")
    draft = document.versions.get()
    with pytest.raises(ValidationError) as exc:
        services.version_publish(actor=org["admin"], version=draft, change_summary="Go")
    message = " ".join(exc.value.messages)
    assert "still empty: Values and ethics, Responsibilities and sales process" in message
    assert "Add at least one KPI" in message
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.is_current


def test_publishing_without_a_kpi_is_refused_even_with_every_section(org):
    draft = draft_with_content(org["admin"], kpis=0)
    with pytest.raises(ValidationError, match="Add at least one KPI"):
        services.version_publish(actor=org["admin"], version=draft, change_summary="Go")


def test_publishing_needs_a_change_summary(org):
    draft = draft_with_content(org["admin"])
    with pytest.raises(ValidationError) as exc:
        services.version_publish(actor=org["admin"], version=draft, change_summary="   ")
    assert "change_summary" in exc.value.message_dict


def test_a_team_document_needs_some_content_but_not_every_section(org):
    document = services.document_create(actor=org["admin"], team=org["north"], title="North extras")
    draft = document.versions.get()
    with pytest.raises(ValidationError, match="team document is empty"):
        services.version_publish(actor=org["admin"], version=draft, change_summary="Go")
    services.draft_update(actor=org["admin"], version=draft, responsibilities="North covers the east coast.")
    version = services.version_publish(actor=org["admin"], version=draft, change_summary="Go")
    assert version.is_current


def test_editing_a_published_document_creates_a_draft_copy_and_publishing_makes_it_current(org):
    admin = org["admin"]
    v1 = published(admin, kpis=2)
    draft = services.draft_start(actor=admin, document=v1.document)
    assert draft.number == 2 and draft.status == "draft"
    assert draft.values == v1.values
    assert [k.line() for k in draft.kpis.all()] == [k.line() for k in v1.kpis.all()]
    # Starting again continues the same draft.
    assert services.draft_start(actor=admin, document=v1.document).pk == draft.pk
    services.draft_update(actor=admin, version=draft, values="We are honest and **fast**.")
    v2 = services.version_publish(actor=admin, version=draft, change_summary="Speed is a value now.")
    v1.refresh_from_db()
    assert (v1.is_current, v1.status) == (False, "published")
    assert (v2.is_current, v2.number, v2.published_by) == (True, 2, admin)
    assert v1.values == "We are **honest** with customers."  # the old version is kept as it was


def test_a_published_version_cannot_be_edited(org):
    v1 = published(org["admin"])
    with pytest.raises(ValidationError, match="Only a draft"):
        services.draft_update(actor=org["admin"], version=v1, values="changed")
    with pytest.raises(ValidationError, match="Only a draft"):
        services.kpi_add(
            actor=org["admin"], version=v1, metric="calls", target=Decimal(5), direction="at_least", period="week"
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": Decimal("-5")}, "target"),
        ({"target": Decimal("0")}, "target"),
        ({"metric": "happiness"}, "metric"),
        ({"metric": "conversion_rate", "bind_to_sla": True}, "bind_to_sla"),
        ({"period": "decade"}, "period"),
    ],
)
def test_bad_kpis_are_refused(org, kwargs, field):
    draft = draft_with_content(org["admin"], kpis=0)
    values = {"metric": "speed_to_lead_median", "target": Decimal(15), "direction": "at_most", "period": "week"}
    with pytest.raises(ValidationError) as exc:
        services.kpi_add(actor=org["admin"], version=draft, **{**values, **kwargs})
    assert field in exc.value.message_dict
    assert not Kpi.objects.exists()


def test_the_database_keeps_one_draft_one_current_and_positive_targets(org):
    v1 = published(org["admin"])
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.create(document=v1.document, number=2, created_by=org["admin"])
        DocumentVersion.objects.create(document=v1.document, number=3, created_by=org["admin"])
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.create(
            document=v1.document,
            number=2,
            created_by=org["admin"],
            status="published",
            is_current=True,
            published_at=timezone.now(),
            change_summary="x",
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        DocumentVersion.objects.create(document=v1.document, number=1, created_by=org["admin"])
    with pytest.raises(IntegrityError), transaction.atomic():
        Kpi.objects.create(version=v1, metric="calls", target=-1, direction="at_least", period="week")


def test_acknowledging_the_current_version_once(org):
    v1 = published(org["admin"])
    first = services.acknowledgement_create(actor=org["alice"], version=v1)
    again = services.acknowledgement_create(actor=org["alice"], version=v1)
    assert first.pk == again.pk
    assert Acknowledgement.objects.filter(user=org["alice"]).count() == 1


def test_acknowledging_an_old_version_is_refused(org):
    v1 = published(org["admin"])
    published(org["admin"], summary="Second")
    with pytest.raises(ValidationError, match="not the current version"):
        services.acknowledgement_create(actor=org["alice"], version=v1)
    assert not Acknowledgement.objects.exists()


def test_a_team_document_only_asks_its_members_including_sub_teams(org):
    team_doc = published(org["admin"], team=org["sales"], title="Sales team extras")
    north_doc = published(org["admin"], team=org["north"], title="North extras")
    assert set(covered_users(team_doc.document)) == {org["alice"], org["bob"], org["charlie"]}
    assert set(covered_users(north_doc.document)) == {org["alice"], org["bob"]}
    with pytest.raises(ValidationError, match="does not ask you"):
        services.acknowledgement_create(actor=org["charlie"], version=north_doc)
    with pytest.raises(ValidationError, match="does not ask you"):
        services.acknowledgement_create(actor=org["admin"], version=north_doc)


def test_pending_versions_follow_the_team_tree_in_one_query(org, django_assert_num_queries):
    org_doc = published(org["admin"])
    sales_doc = published(org["admin"], team=org["sales"], title="Sales team extras")
    north_doc = published(org["admin"], team=org["north"], title="North extras")
    alice = org["alice"]
    with django_assert_num_queries(1):
        assert [v.pk for v in pending_versions_for(alice)] == [org_doc.pk, north_doc.pk, sales_doc.pk]
        pending_versions_for(alice)  # cached on the user for the rest of the request
    assert [v.pk for v in pending_versions_for(org["charlie"])] == [org_doc.pk, sales_doc.pk]
    # Managers sign the organisation document; admins author it.
    assert [v.pk for v in pending_versions_for(org["maria"])] == [org_doc.pk]
    assert pending_versions_for(org["admin"]) == []


def _pending_by_the_orm(user):
    """The rule as the ORM wrote it before pending_versions_for became one SQL statement."""
    from django.db.models import Exists, F, OuterRef, Q

    from accountability.scoping import ancestor_team_ids, member_team_ids, team_parents

    lineage = ancestor_team_ids(member_team_ids(user), team_parents())
    return list(
        DocumentVersion.objects.filter(is_current=True)
        .filter(Q(document__team__isnull=True) | Q(document__team_id__in=lineage))
        .exclude(Exists(Acknowledgement.objects.filter(version=OuterRef("pk"), user=user)))
        .order_by(F("document__team__name").asc(nulls_first=True), "pk")
    )


def test_pending_versions_are_what_the_orm_rule_gives_in_every_case(org, django_assert_num_queries):
    """Acknowledged, superseded by a new version, a grand-parent team's document, another branch's,
    a person on two teams, a person on none: the SQL and the ORM's rule agree, with the fields the
    banner, the home redirect and the 1:1 suggestions read (no query to read them)."""
    org_doc = published(org["admin"])
    published(org["admin"], team=org["sales"], title="Sales <b>extras</b>")
    north_doc = published(org["admin"], team=org["north"], title="North extras")
    south = TeamFactory(name="South", parent=org["sales"])
    published(org["admin"], team=south, title="South extras")
    services.acknowledgement_create(actor=org["alice"], version=north_doc)
    newer = published(org["admin"], team=org["north"], title="North extras")  # v2: asks again
    services.acknowledgement_create(actor=org["bob"], version=org_doc)
    both = UserFactory(username="both")
    MembershipFactory(user=both, team=org["north"])
    MembershipFactory(user=both, team=south)
    nobody = UserFactory(username="teamless")
    people = [org["alice"], org["bob"], org["charlie"], org["maria"], both, nobody]
    for person in people:
        expected = _pending_by_the_orm(person)
        with django_assert_num_queries(1):
            got = pending_versions_for(person)
            shown = [(v.pk, v.document_id, v.number, v.document.title, v.document.team_id) for v in got]
            _ = [v.document.team.name for v in got if v.document.team_id]
        assert shown == [(v.pk, v.document_id, v.number, v.document.title, v.document.team_id) for v in expected]
    assert newer.pk in [v.pk for v in pending_versions_for(org["alice"])]
    assert [v.document.title for v in pending_versions_for(nobody)] == [org_doc.document.title]


def test_reminders_wait_the_set_number_of_days_and_are_sent_once(org):
    v1 = published(org["admin"])
    services.acknowledgement_create(actor=org["alice"], version=v1)
    assert services.acknowledgement_reminders_send() == 0  # published today: too early
    later = timezone.now() + timedelta(days=3, minutes=1)
    # bob, charlie, maria, sam, helen have not acknowledged; alice has; admin is not asked.
    assert services.acknowledgement_reminders_send(now=later) == 5
    assert services.acknowledgement_reminders_send(now=later) == 0
    notice = Notification.objects.get(recipient=org["bob"])
    assert notice.kind == "expectations_reminder"
    assert notice.dedupe_key == f"ack-reminder-{v1.pk}-{org['bob'].pk}"
    assert notice.url == f"/expectations/{v1.document_id}/v1/"
    assert not Notification.objects.filter(recipient__in=[org["alice"], org["admin"]]).exists()


@override_settings(EXPECTATIONS_ACK_REMINDER_DAYS=7)
def test_the_reminder_delay_is_a_setting(org):
    published(org["admin"])
    assert services.acknowledgement_reminders_send(now=timezone.now() + timedelta(days=4)) == 0
    assert services.acknowledgement_reminders_send(now=timezone.now() + timedelta(days=8)) == 6


def test_the_reminder_task_is_the_service(org):
    from accountability.expectations.tasks import send_acknowledgement_reminders

    v1 = published(org["admin"])
    DocumentVersion.objects.filter(pk=v1.pk).update(published_at=timezone.now() - timedelta(days=5))
    assert send_acknowledgement_reminders() == 6
    assert send_acknowledgement_reminders() == 0


def test_inactive_people_and_new_members_are_counted_correctly(org):
    v1 = published(org["admin"], team=org["north"], title="North extras")
    newcomer = UserFactory(username="nora", role="rep")
    MembershipFactory(user=newcomer, team=TeamFactory(name="North East", parent=org["north"]))
    gone = UserFactory(username="gone", role="rep", is_active=False)
    MembershipFactory(user=gone, team=org["north"])
    assert set(covered_users(v1.document)) == {org["alice"], org["bob"], newcomer}


def test_the_reminder_task_is_acked_late_as_its_docstring_says():
    from accountability.expectations.tasks import send_acknowledgement_reminders as task

    # At-least-once needs the message acknowledged after the run (and requeued if the worker dies);
    # the docstring states the guarantee and the option that gives it.
    assert task.acks_late is True and task.reject_on_worker_lost is True
    doc = " ".join(task.__doc__.split())
    assert "At-least-once: acks_late=True" in doc
    assert "CELERY_TASK_ACKS_LATE" in doc


@pytest.mark.django_db(transaction=True)
def test_two_admins_creating_the_organisation_document_at_once_get_one_and_a_clear_message(org):
    """The second create waits for the first to commit, then sees its row: the same clear message as
    a later create, not the database's refusal. On SQLite (no partial unique constraint, W047) this
    wait is the only thing that keeps a second organisation document out."""
    import threading

    from django.db import connection

    first_created, outcome = threading.Event(), {}

    def second_admin():
        first_created.wait(5)
        try:
            services.document_create(actor=org["admin"], team=None, title="Org too")
        except ValidationError as exc:
            outcome["error"] = exc.message_dict["team"][0]
        finally:
            connection.close()

    thread = threading.Thread(target=second_admin)
    thread.start()
    with transaction.atomic():  # the first admin's create, still uncommitted while the second starts
        services.document_create(actor=org["admin"], team=None, title="Org")
        first_created.set()
        thread.join(0.5)
        assert thread.is_alive()  # the second create is waiting for this transaction
    thread.join(5)
    assert outcome["error"] == "The organisation already has an expectations document; edit that one."
    assert Document.objects.filter(team=None).count() == 1


# --- Publishing exactly what the form holds (issue 9, item 1) ----------------------------------


def test_publishing_with_sections_saves_and_publishes_them_in_one_step(org):
    admin = org["admin"]
    v1 = published(admin)
    draft = services.draft_start(actor=admin, document=v1.document)
    edited = v1.responsibilities + "\nReply to every email within a day."
    v2 = services.version_publish(
        actor=admin,
        version=draft,
        change_summary="Emails within a day.",
        sections={"responsibilities": edited},
    )
    v2.refresh_from_db()
    assert (v2.is_current, v2.responsibilities) == (True, edited)
    assert v2.values == v1.values  # sections the form did not send stay as the draft holds them


def test_publishing_a_version_identical_to_the_current_one_is_refused_and_nothing_is_saved(org):
    admin = org["admin"]
    v1 = published(admin)
    draft = services.draft_start(actor=admin, document=v1.document)
    with pytest.raises(ValidationError, match="identical to the current version 1"):
        services.version_publish(actor=admin, version=draft, change_summary="Nothing really.")
    # Whitespace the browser adds (CRLF, a trailing newline) is not a change either.
    with pytest.raises(ValidationError, match="identical"):
        services.version_publish(
            actor=admin,
            version=draft,
            change_summary="Nothing really.",
            sections={"values": v1.values + "\r\n"},
        )
    draft.refresh_from_db()
    assert draft.status == "draft" and not draft.is_current
    v1.refresh_from_db()
    assert v1.is_current


def test_a_refused_publish_does_not_half_save_the_sections(org):
    admin = org["admin"]
    v1 = published(admin)
    draft = services.draft_start(actor=admin, document=v1.document)
    with pytest.raises(ValidationError, match="Say what changed"):
        services.version_publish(actor=admin, version=draft, change_summary="", sections={"values": "Changed."})
    draft.refresh_from_db()
    assert draft.values == v1.values


def test_a_kpi_change_alone_is_a_change(org):
    admin = org["admin"]
    v1 = published(admin)
    draft = services.draft_start(actor=admin, document=v1.document)
    services.kpi_delete(actor=admin, kpi=draft.kpis.get())
    services.kpi_add(
        actor=admin, version=draft, metric="calls", target=Decimal(40), direction="at_least", period="week"
    )
    assert services.version_publish(actor=admin, version=draft, change_summary="Calls, not conversion.").is_current
