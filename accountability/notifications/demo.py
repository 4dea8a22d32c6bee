"""Demo chat channel: Inbound East (maria's team) posts its escalations to a Slack-style webhook on
this machine, http://127.0.0.1:8765/..., which is nothing until `python manage.py chat_listen`
runs (it prints each post). Without it the posts fail after their retries and show, with the
reason, in the outbox and on the team's chat page: nothing ever leaves the machine.

Loopback hooks are accepted only with CHAT_WEBHOOK_ALLOW_LOOPBACK (DEBUG): elsewhere no hook is seeded."""

from django.conf import settings

from accountability.demo import DemoContext
from accountability.notifications.services import chat_webhook_save

DEMO_HOOK = "http://127.0.0.1:8765/services/DEMO/inbound-east/not-a-real-hook"


def seed(ctx: DemoContext) -> None:
    if not settings.CHAT_WEBHOOK_ALLOW_LOOPBACK:
        return
    team = ctx.teams["Inbound East"]
    chat_webhook_save(actor=ctx.users["maria"], team=team, service="slack", url=DEMO_HOOK)
    ctx.created.append("Inbound East posts escalations to a local demo chat hook (python manage.py chat_listen)")
