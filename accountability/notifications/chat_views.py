"""Chat webhooks: a person's own (on the preferences page) and a team's channel (managers, admins).

Each mutating view is POST-only and calls one service; the URL is never shown again after saving
(masked), and a test button posts a message at once and says what the service answered."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accountability import ratelimit
from accountability.notifications import services
from accountability.notifications.chat import ChatError
from accountability.notifications.forms import ChatWebhookForm, PreferencesForm
from accountability.notifications.selectors import (
    chat_team_get_for_user,
    chat_teams_for,
    chat_webhook_of,
    preferences_initial,
)
from accountability.scoping import manager_required

TEST_MESSAGES_PER_MINUTE = 5


def chat_context(user, webhook_form: ChatWebhookForm | None = None) -> dict:
    """What the preferences page shows of the person's own chat webhook."""
    return {"chat_hook": chat_webhook_of(user), "webhook_form": webhook_form or ChatWebhookForm()}


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_POST
def my_webhook_save(request):
    form = ChatWebhookForm(request.POST)
    if form.is_valid():
        try:
            services.chat_webhook_save(
                actor=request.user,
                user=request.user,
                service=form.cleaned_data["service"],
                url=form.cleaned_data["url"],
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, "Chat webhook saved. Tick “Chat” below for the notices you want there.")
            return redirect("notifications:preference-edit")
    preferences = PreferencesForm(initial=preferences_initial(request.user))
    context = {"form": preferences, **chat_context(request.user, form)}
    return render(request, "notifications/preference_form.html", context, status=400)


@login_required
@require_POST
def my_webhook_remove(request):
    services.chat_webhook_remove(actor=request.user, user=request.user)
    messages.success(request, "Chat webhook removed; your notices no longer go to chat.")
    return redirect("notifications:preference-edit")


def _test(request, hook) -> None:
    if hook is None:
        messages.error(request, "Save a webhook first.")
        return
    # A button anyone with a webhook can press: a few a minute, so it cannot be used to flood a channel.
    allowed, retry_after = ratelimit.hit("chat-test", str(request.user.pk), limit=TEST_MESSAGES_PER_MINUTE)
    if not allowed:
        messages.error(request, f"Too many test messages: try again in {retry_after} s.")
        return
    try:
        answer = services.chat_webhook_test(actor=request.user, hook=hook)
    except ChatError as exc:
        messages.error(request, f"The test message did not arrive: {exc}")
    else:
        messages.success(request, f"Test message posted to {hook.get_service_display()} ({answer}).")


@login_required
@require_POST
def my_webhook_test(request):
    _test(request, chat_webhook_of(request.user))
    return redirect("notifications:preference-edit")


@manager_required
def team_list(request):
    """Managers: the chat channel of each team they manage (admins: every team)."""
    teams = list(chat_teams_for(request.user))
    return render(request, "notifications/chat_team_list.html", {"teams": teams})


@manager_required
def team_edit(request, pk: int):
    team = chat_team_get_for_user(request.user, pk)
    hook = getattr(team, "chat_webhook", None)
    status = 200
    if request.method == "POST":
        form = ChatWebhookForm(request.POST)
        if form.is_valid():
            try:
                services.chat_webhook_save(
                    actor=request.user,
                    team=team,
                    service=form.cleaned_data["service"],
                    url=form.cleaned_data["url"],
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, f"Chat channel of {team.name} saved: its escalations are posted there.")
                return redirect("notifications:chat-team-edit", pk=team.pk)
        status = 400
    else:
        form = ChatWebhookForm(initial={"service": hook.service if hook else "slack"})
    context = {"team": team, "hook": hook, "form": form}
    return render(request, "notifications/chat_team_form.html", context, status=status)


@manager_required
@require_POST
def team_remove(request, pk: int):
    team = chat_team_get_for_user(request.user, pk)
    services.chat_webhook_remove(actor=request.user, team=team)
    messages.success(request, f"Chat channel of {team.name} removed.")
    return redirect("notifications:chat-team-edit", pk=team.pk)


@manager_required
@require_POST
def team_test(request, pk: int):
    team = chat_team_get_for_user(request.user, pk)
    _test(request, getattr(team, "chat_webhook", None))
    return redirect("notifications:chat-team-edit", pk=team.pk)
