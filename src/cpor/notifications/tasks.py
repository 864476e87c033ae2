"""Celery tasks: thin wrappers over the event consumers, delivery and the periodic jobs."""

from celery import shared_task

from cpor.notifications import consumers, delivery, periodic

# While an older transaction holds the history back, look again this often, this many
# times; the periodic sweep covers anything older.
HELD_BACK_COUNTDOWN = 0.5
HELD_BACK_TRIES = 60


@shared_task(name="cpor.events_consume", ignore_result=True)
def events_consume_task(tries: int = 0) -> int:
    """Published once per committed transition: derive its messages, then send them."""
    sent = delivery.outbox_deliver_messages(ids=consumers.consume_all())
    if tries < HELD_BACK_TRIES and consumers.held_back():
        events_consume_task.apply_async((tries + 1,), countdown=HELD_BACK_COUNTDOWN)
    return sent


@shared_task(name="cpor.outbox_deliver", ignore_result=True)
def outbox_deliver_task(message_id: int) -> bool:
    return delivery.outbox_deliver_message(message_id=message_id)


@shared_task(name="cpor.run_periodic_job", ignore_result=True)
def run_periodic_job(name: str) -> int:
    return periodic.run_job(name)
