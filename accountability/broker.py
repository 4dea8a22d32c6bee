"""kombu's Redis transport, made to survive Redis going away (settings: CELERY_BROKER_TRANSPORT).

When Redis goes away, the worker closes its broker connection, detaching the transport, and
reconnects on a new one. A channel of the old connection can still be used after that: closing it
gives back the messages the worker held unacknowledged (our notices enqueued with a countdown,
acks_late), and a task that was running acknowledges its message when it ends. kombu's Redis
channel then reads its server address from the detached transport and raises AttributeError
("'NoneType' object has no attribute 'hostname'"), which Celery does not expect there: the worker
stopped with "Unrecoverable error" instead of carrying on (issue 14; reproduced by
tests/test_production_smoke.py, Redis stopped while the worker held reminders and ran deliveries).

Here that case is what it really is, a connection error: Celery ignores it when closing, logs
"Couldn't ack" for the late acknowledgement, and carries on with its new connection. Nothing is
lost: an unacknowledged message comes back (Redis's visibility timeout), the SLA sweep re-enqueues
undelivered notices, and every delivery is idempotent.
"""

from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError


class Channel(kombu_redis.Channel):
    def _connparams(self, asynchronous=False):
        transport = self.connection
        if transport is None or transport.client is None:  # a channel of a connection already closed
            raise RedisConnectionError("this channel's broker connection was closed after Redis went away")
        return super()._connparams(asynchronous=asynchronous)


class Transport(kombu_redis.Transport):
    Channel = Channel
