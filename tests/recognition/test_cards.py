"""The kudos cards written in Python (recognition.cards) are the HTML the templates wrote,
character for character, for every kind of card and viewer; and everything a person typed is
escaped.

tests/recognition/reference/ holds the three templates the writer replaced (kudos_card.html
with its kudos_reactions.html and kudos_comments.html includes), rendered here beside it.
"""

import datetime as dt
from pathlib import Path

import pytest
from django.template import Context, Engine
from django.utils import timezone

from goals.selectors import commitments_visible_to, goals_visible_to
from leads.selectors import leads_visible_to
from recognition.cards import CardWriter
from recognition.models import AutoRule, Kudos, KudosComment, KudosReaction
from recognition.selectors import can_moderate_q, feed_queryset, kudos_cards, kudos_visible_to
from recognition.services import kudos_hide
from tests.factories import LeadFactory, MembershipFactory, UserFactory
from tests.goals.factories import CommitmentFactory, GoalFactory
from tests.recognition.factories import CompanyValueFactory, make_kudos

pytestmark = pytest.mark.django_db
REFERENCE = Engine(dirs=[Path(__file__).with_name("reference")], app_dirs=False)
TOKEN = "tok3n<&>"  # escaped like any value


def reference(name: str, k, **context) -> str:
    # The template read the evidence's visibility as `evidence_visible` and its name through
    # the relation; the writer reads the name feed_queryset gives only when it is visible
    # (test_evidence_is_named_only_to_who_may_open_it checks that rule).
    k.evidence_visible = k.evidence_name is not None
    return REFERENCE.get_template(f"recognition/includes/{name}.html").render(
        Context({"csrf_token": TOKEN, "k": k, **context})
    )


@pytest.fixture
def cards(org):
    """Every kind of card: automatic, hidden, edited, each kind of evidence (one the viewers may
    not open), values with and without an icon, comments, reactions, and text full of markup."""
    evil = UserFactory(username="evil", first_name='<b>"Eve"</b>', last_name="O'Hara & Co")
    MembershipFactory(user=evil, team=org["north"])
    own_it = CompanyValueFactory(name="Own <it>", icon="🔥", colour="#198754")
    plain = CompanyValueFactory(name='Say "no" & mean it', icon="")
    rule, _ = AutoRule.objects.get_or_create(code="goal_met")
    now = timezone.now()
    made = [
        make_kudos(org["alice"], [org["bob"], evil], message="Line one <b>\r\nline two & 'three'", values=[own_it]),
        make_kudos(evil, [org["alice"]], values=[own_it, plain], lead=LeadFactory(owner=evil, name="<Acme & co>")),
        make_kudos(org["bob"], [org["alice"]], goal=GoalFactory(owner=org["bob"], title='Ten "demos" <now>')),
        make_kudos(
            org["alice"], [org["bob"]], commitment=CommitmentFactory(owner=org["alice"], text="Call <five> & more")
        ),
        make_kudos(org["charlie"], [org["alice"]], lead=LeadFactory(owner=org["charlie"], name="Not yours")),
        make_kudos(org["bob"], [org["alice"]], created_at=now - dt.timedelta(hours=2), edited_at=now),
        Kudos.objects.create(giver=None, rule=rule, message="Goal met: <10 demos>"),
    ]
    made[-1].recipients.add(org["bob"], through_defaults={"created_at": now})
    kudos_hide(actor=org["maria"], kudos=made[1], reason='Names a <customer> & "their" deal')
    Kudos.objects.filter(pk=made[5].pk).update(hidden=True, hidden_reason="Old", hidden_by=None)
    KudosComment.objects.create(kudos=made[0], author=evil, body="<script>alert('x')</script> & more")
    KudosComment.objects.create(kudos=made[0], author=org["maria"], body="Well done")
    KudosReaction.objects.create(kudos=made[0], user=org["alice"])
    KudosReaction.objects.create(kudos=made[0], user=org["maria"])
    return made


@pytest.mark.parametrize("viewer", ["alice", "bob", "maria", "helen", "admin", "charlie"])
def test_every_card_is_the_templates_html(org, cards, viewer):
    user = org[viewer]
    now = timezone.now()
    writer = CardWriter(viewer=user, now=now, csrf_token=TOKEN)
    shown = kudos_cards(user, kudos_visible_to(user, org_feed=True))
    assert shown
    for k in shown:
        assert writer.card(k) == reference("kudos_card", k, viewer=user, now=now)
        assert writer.reactions(k) == reference("kudos_reactions", k)
    # Ten minutes later the giver's "Edit" is gone, here as there.
    later = now + dt.timedelta(minutes=11)
    writer = CardWriter(viewer=user, now=later, csrf_token=TOKEN)
    for k in shown:
        assert writer.card(k) == reference("kudos_card", k, viewer=user, now=later)


def test_the_hide_form_keeps_its_error_and_reason_and_the_comment_form_its_text(org, cards):
    maria = org["maria"]
    now = timezone.now()
    writer = CardWriter(viewer=maria, now=now, csrf_token=TOKEN)
    (k,) = kudos_cards(maria, kudos_visible_to(maria).filter(pk=cards[0].pk))
    extra = {"hide_error": "Say why <in> a few words.", "hide_reason": '"<b>"'}
    assert writer.card(k, **extra) == reference("kudos_card", k, viewer=maria, now=now, **extra)
    comments = k.comments.all()
    extra = {"comment_error": "Too <long> & rude", "comment_body": "'<i>' \"x\""}
    assert writer.comments(k, comments, **extra) == reference("kudos_comments", k, comments=comments, **extra)
    assert writer.comments(k, []) == reference("kudos_comments", k, comments=[])


def test_what_people_typed_is_escaped(org, cards):
    maria = org["maria"]
    writer = CardWriter(viewer=maria, now=timezone.now(), csrf_token=TOKEN)
    html = "".join(writer.cards(kudos_cards(maria, kudos_visible_to(maria))))
    for raw in ("<script>", "<b>", "<it>", "<Acme", "<customer>", "<five>", "<now>", "<10 demos>", "tok3n<"):
        assert raw not in html, raw
    for escaped in ("&lt;script&gt;", "&lt;b&gt;&quot;Eve&quot;&lt;/b&gt; O&#x27;Hara &amp; Co", "Own &lt;it&gt;"):
        assert escaped in html, escaped
    assert "Line one &lt;b&gt;<br>line two &amp; &#x27;three&#x27;" in html


def test_without_a_csrf_token_the_forms_have_none(org, cards):
    alice = org["alice"]
    (k,) = kudos_cards(alice, kudos_visible_to(alice).filter(pk=cards[0].pk))
    html = CardWriter(viewer=alice, now=timezone.now(), csrf_token="").card(k)
    assert "csrfmiddlewaretoken" not in html


@pytest.mark.parametrize("viewer", ["alice", "bob", "maria", "helen", "admin", "charlie"])
def test_evidence_is_named_only_to_who_may_open_it(org, cards, viewer):
    user = org[viewer]
    sources = {"lead": leads_visible_to, "goal": goals_visible_to, "commitment": commitments_visible_to}
    for k in feed_queryset(user, kudos_visible_to(user, org_feed=True)):
        if not k.evidence_kind:
            assert k.evidence_name is None
            continue
        evidence = getattr(k, k.evidence_kind)
        visible = sources[k.evidence_kind](user).filter(pk=evidence.pk).exists()
        name = {"lead": "name", "goal": "title", "commitment": "text"}[k.evidence_kind]
        assert k.evidence_name == (getattr(evidence, name) if visible else None), (viewer, k.evidence_kind)


def test_the_figures_are_each_cards_own(org, cards):
    """Reactions counted and "mine" per viewer, moderation per role, as the services decide."""
    reactions = {k.pk: k.reactions.count() for k in Kudos.objects.all()}
    for viewer in ("alice", "bob", "maria", "sam", "helen", "admin", "charlie"):
        user = org[viewer]
        for k in feed_queryset(user, kudos_visible_to(user, org_feed=True)):
            assert k.reaction_count == reactions[k.pk]
            assert k.reacted == KudosReaction.objects.filter(kudos=k, user=user).exists()
            assert k.can_moderate == Kudos.objects.filter(can_moderate_q(user), pk=k.pk).exists(), (viewer, k.pk)
