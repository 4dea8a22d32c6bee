"""Write counters per table, so a page can cache what it read from small tables exactly.

A page built from many small tables (the review dashboard: goals, commitments, escalations,
flags, action items, 1:1s, kudos, acknowledgements) cannot tell from the rows themselves, cheaply,
whether any changed: most have no `updated_at`, and their state changes are conditional
`UPDATE`s. So each write to a tracked model moves that model's counter in the cache (Redis, shared
by the web processes), and a page keys its cached entry by the counters of the models it reads
(`versions()`, one read of the cache).

What moves a counter: `save()` (create, edit, `get_or_create`), `delete()` of an instance or a
queryset and the cascades (the `post_save` / `post_delete` signals, connected per tracked
model), and `QuerySet.update()` / `bulk_update()` / `bulk_create()` of a model whose default
manager is `TrackedManager`. A model of another app that cannot take the manager is tracked by
its signals alone (`track()`): its queryset writes must then go with a `save()` in the same
transaction (see where `track()` is called).

Each write moves the counter twice: at once (a request of the same transaction, or a test inside
one, sees the change) and after the commit (`transaction.on_commit`): a page computed between the
write and the commit read the old rows under the new counter; the second move retires that entry.
A rolled-back write only moves it once, which costs one recomputation. Raw SQL and `manage.py
dbshell` are not seen by the counters, nor, with a per-process cache (DEBUG without a shared
cache), another process's writes: a page keyed by them should also be keyed by the minute
(leads.metrics.pagecache is). After a cache flush every counter reads None, then starts again from
the clock (`time_ns`), so it never returns to a value an old entry was keyed by.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import models, transaction
from django.db.models.signals import post_delete, post_save

PREFIX = "dataversion:"
logger = logging.getLogger(__name__)


def _key(model) -> str:
    return f"{PREFIX}{model._meta.label_lower}"


def _incr(key: str) -> None:
    try:
        try:
            cache.incr(key)
        except ValueError:  # no counter yet (or flushed): start from the clock, never from a reused value
            cache.add(key, time.time_ns(), timeout=None)
    except Exception:
        # The cache is unreachable (Redis restarting): the write itself must not fail for it. The
        # pages keyed by this counter are keyed by the minute too, so they catch up at the next one
        # (and a restarted Redis without persistence has lost the old entries anyway).
        logger.warning("Could not move the write counter %s: the cache is unreachable", key, exc_info=True)


def bump(model) -> None:
    """The model's rows changed: move its counter now and once more after the commit (once per
    transaction and model: a sweep saving a thousand notices registers one callback)."""
    key = _key(model)
    _incr(key)
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        _incr(key)  # already committed
        return
    # A callback of a rolled-back savepoint is dropped from this list, so the next write registers again.
    if any(getattr(func, "dataversion_key", None) == key for _, func, _ in connection.run_on_commit):
        return

    def after_commit():
        _incr(key)

    after_commit.dataversion_key = key
    transaction.on_commit(after_commit)


def versions(labels) -> tuple:
    """The counters of these models ("app_label.modelname", lower case), in order: one cache read."""
    keys = [f"{PREFIX}{label}" for label in labels]
    found = cache.get_many(keys)
    return tuple(found.get(key) for key in keys)


def seed(labels) -> None:
    """Give these models a counter where they have none (never seen a write, or the cache was
    flushed): from the clock, like _incr, so a value an old entry was keyed by never returns."""
    try:
        for label in labels:
            cache.add(f"{PREFIX}{label}", time.time_ns(), timeout=None)
    except Exception:
        logger.warning("Could not seed the write counters %s: the cache is unreachable", labels, exc_info=True)


_tracked: set[str] = set()


def _on_write(sender, **kwargs) -> None:
    bump(sender)


def track(model) -> None:
    """Move the model's counter on every save and delete (its cascades included)."""
    label = model._meta.label_lower
    if label in _tracked:
        return
    _tracked.add(label)
    post_save.connect(_on_write, sender=model, weak=False, dispatch_uid=f"dataversion-save-{label}")
    post_delete.connect(_on_write, sender=model, weak=False, dispatch_uid=f"dataversion-delete-{label}")


def is_tracked(label: str) -> bool:
    return label in _tracked


class TrackedQuerySet(models.QuerySet):
    """Queryset writes that bypass save() and the signals move the counter too."""

    def update(self, **kwargs):
        rows = super().update(**kwargs)
        if rows:
            bump(self.model)
        return rows

    update.alters_data = True

    def bulk_create(self, objs, *args, **kwargs):
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            bump(self.model)
        return created

    bulk_create.alters_data = True
    # bulk_update() writes through update() above.


class TrackedManager(models.Manager.from_queryset(TrackedQuerySet)):
    """The default manager of a tracked model: its queryset writes and its signals move its counter."""

    def contribute_to_class(self, cls, name):
        super().contribute_to_class(cls, name)
        if not cls._meta.abstract:
            track(cls)
