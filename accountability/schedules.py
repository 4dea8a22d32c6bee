"""Every periodic schedule, in one place, each with when and why.

django-celery-beat copies these into the database when beat starts (DatabaseScheduler),
where admins can change them in the Django admin (Periodic tasks).
Each area keeps its entries in its own block below.

Expiry: a schedule that runs often and whose next run does the same work (the sweeps) carries
`"options": {"expire_seconds": ...}`, a little under its interval, so a run the workers could not
start in time is dropped instead of piling up behind a backlog. django-celery-beat's database
scheduler reads `expire_seconds` only (`expires` is ignored there). Daily and weekly jobs keep no
expiry: a late run is still the only one.
"""

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from accountability.env import env_int

BEAT_SCHEDULE: dict = {}


# --- Follow-up SLAs (leads.sla) -------------------------------------------------
# Every SLA_SWEEP_SECONDS (default a minute): derive due reminders and escalations from the leads'
# columns, record each once, enqueue their delivery, and enqueue again anything the broker lost
# (including email/SMS deliveries whose retry was dropped). A minute is the SLA's resolution: a
# breach is noticed at most ~60 s late. Missed runs cost nothing: the next run finds the same rows.
# The production smoke test sets 10 s to see a reminder end to end within its time. Read here
# (settings.py imports this module, and exposes the value as settings.SLA_SWEEP_SECONDS); beat
# writes it to django-celery-beat's table each time it starts, so a changed value applies at restart.
SLA_SWEEP_SECONDS = env_int("SLA_SWEEP_SECONDS", 60)
if SLA_SWEEP_SECONDS < 1:
    raise ImproperlyConfigured(f"SLA_SWEEP_SECONDS must be at least 1, got {SLA_SWEEP_SECONDS}.")
BEAT_SCHEDULE["sla-sweep"] = {
    "task": "leads.sla.tasks.sla_sweep_task",
    "schedule": float(SLA_SWEEP_SECONDS),
    # A sweep older than its interval is superseded by the next one. django-celery-beat's database
    # scheduler reads `expire_seconds` (it ignores `expires`): stale sweeps are dropped, not piled up.
    # A little under the interval (55 s for a minute).
    "options": {"expire_seconds": max(1, round(SLA_SWEEP_SECONDS * 0.92))},
}


# Nightly at 00:20 (CELERY_TIMEZONE): roll up the day just ended into leads.RepDay/TeamDay, and
# re-roll closed days whose rows changed since the last run, so dashboards and trends read one
# row per person and day instead of the raw leads. A zone behind UTC has its day rolled up the
# next night; until then leads.metrics reads that day raw (same figures, a little slower).
BEAT_SCHEDULE["leads-rollup-nightly"] = {
    "task": "leads.tasks.rollup_refresh_task",
    "schedule": crontab(minute=20, hour=0),
}


# --- Expectations documents (accountability.expectations) -----------------------
# Daily at 09:00 (CELERY_TIMEZONE): remind people who have not acknowledged a version published
# more than EXPECTATIONS_ACK_REMINDER_DAYS (default 3) days ago; once per version and person.
BEAT_SCHEDULE["expectations-acknowledgement-reminders"] = {
    "task": "accountability.expectations.tasks.send_acknowledgement_reminders",
    "schedule": crontab(hour=9, minute=0),
}


# --- Goals and commitments (goals) ----------------------------------------------
# Just after midnight (site time): snapshot each running goal's figure for the day that
# ended (the progress chart), record pacing changes (at-risk notices), mark met/missed.
BEAT_SCHEDULE["goals-evaluate-daily"] = {
    "task": "goals.tasks.goals_evaluate_daily",
    "schedule": crontab(minute=10, hour=0),
}
# Monday 00:30, before anyone starts the week: open commitments from past weeks carry over.
BEAT_SCHEDULE["goals-commitments-carry-over"] = {
    "task": "goals.tasks.commitments_carry_over",
    "schedule": crontab(minute=30, hour=0, day_of_week="mon"),
}
# Monday 07:00: the weekly digest (reps: goals, pacing, commitments; managers: goals at risk).
BEAT_SCHEDULE["goals-weekly-digests"] = {
    "task": "goals.tasks.goals_weekly_digests",
    "schedule": crontab(minute=0, hour=7, day_of_week="mon"),
}


# --- Reviews and recognition ------------------------------------------------------
# Nightly at 00:40 (after the goals evaluation has marked goals met): recognition's streak rules
# (SLA streak, commitments kept) for the days that ended, and a catch-up of goals met and leads
# saved of the last 3 days whose on-commit task was lost. Exactly once per cause (AutoKudos).
BEAT_SCHEDULE["recognition-auto-nightly"] = {
    "task": "recognition.tasks.auto_recognition_nightly",
    "schedule": crontab(minute=40, hour=0),
}
# The 1st of each month at 01:00: metric awards are decided for the period that just ended.
BEAT_SCHEDULE["recognition-awards-compute"] = {
    "task": "recognition.tasks.awards_compute_task",
    "schedule": crontab(minute=0, hour=1, day_of_month=1),
}
# Monday 07:10, beside the goals digest: each manager's recognition week (who was recognised,
# who has had none in 30 days). One notice per manager per ISO week.
BEAT_SCHEDULE["recognition-weekly-digests"] = {
    "task": "recognition.tasks.kudos_weekly_digests",
    "schedule": crontab(minute=10, hour=7, day_of_week="mon"),
}
# Reviews: hourly, so a deadline notice lands within the hour of its day starting and the cut-off
# freeze follows the manager deadline closely. Keyed notices make the repeats free.
BEAT_SCHEDULE["reviews-deadlines"] = {
    "task": "reviews.tasks.reviews_deadlines_sweep",
    "schedule": crontab(minute=5),
    "options": {"expire_seconds": 55 * 60},  # superseded by the next hour's run (see the SLA sweep)
}
# 1:1s: every 15 minutes: schedule each series' next meeting (with its suggested agenda) and
# send "1:1 tomorrow" reminders 24 hours ahead, once per meeting and person.
BEAT_SCHEDULE["reviews-one-on-ones"] = {
    "task": "reviews.tasks.one_on_ones_sweep",
    "schedule": crontab(minute="*/15"),
    "options": {"expire_seconds": 14 * 60},  # superseded by the next run
}
# Action items: daily at 08:00, one reminder per overdue item to its owner.
BEAT_SCHEDULE["reviews-action-items-overdue"] = {
    "task": "reviews.tasks.action_items_overdue_sweep",
    "schedule": crontab(minute=0, hour=8),
}
# Nightly at 01:00, after the rollup (00:20) has the day just ended: raise early flags of drift
# (reviews.drift). Idempotent: keyed per rep, rule and week.
BEAT_SCHEDULE["reviews-drift-flags-nightly"] = {
    "task": "reviews.tasks.drift_flags_nightly",
    "schedule": crontab(minute=0, hour=1),
}
# Monday 07:15, after the goals digest: each manager's one weekly digest of new flags.
BEAT_SCHEDULE["reviews-drift-digests-weekly"] = {
    "task": "reviews.tasks.drift_digests_weekly",
    "schedule": crontab(minute=15, hour=7, day_of_week="mon"),
}


# --- Imports and exports in the background (leads.jobs) --------------------------
# Every minute: send again a job whose worker stopped moving (no chunk for LEADS_JOB_STALE_SECONDS,
# a crash or a lost message; it resumes after its last committed chunk), fail one after
# LEADS_JOB_MAX_ATTEMPTS runs, drop uploads never confirmed after a day and export files after
# LEADS_EXPORT_KEEP_HOURS. A skipped run costs nothing: the next finds the same rows.
BEAT_SCHEDULE["leads-jobs-sweep"] = {
    "task": "leads.jobs.tasks.jobs_sweep_task",
    "schedule": 60.0,
    "options": {"expire_seconds": 55},  # superseded by the next run (see the SLA sweep)
}
