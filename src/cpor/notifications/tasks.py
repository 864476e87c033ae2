"""Celery tasks: thin wrappers over the event consumers, delivery and the periodic jobs."""

from celery import shared_task

from cpor.notifications import consumers, delivery, periodic


@shared_task(name="cpor.events_consume", ignore_result=True)
def events_consume_task() -> int:
    """Published once per committed transition: derive its messages, then send them."""
    return delivery.outbox_deliver_messages(ids=consumers.consume_all())


@shared_task(name="cpor.outbox_deliver", ignore_result=True)
def outbox_deliver_task(message_id: int) -> bool:
    return delivery.outbox_deliver_message(message_id=message_id)


@shared_task(name="cpor.run_periodic_job", ignore_result=True)
def run_periodic_job(name: str) -> int:
    return periodic.run_job(name)
