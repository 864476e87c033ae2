from django.db.models import QuerySet

from cpor.accounts.admin_site import is_program_admin
from cpor.accounts.models import User
from cpor.notifications.models import OutboxMessage


def can_read_mail_log(user: User | None) -> bool:
    """Program admins (and superusers) read what was sent; nobody else: the messages
    hold decline links that act for customers."""
    return bool(user is not None and is_program_admin(user))


def outbox_list(*, status: str = "") -> QuerySet[OutboxMessage]:
    messages = OutboxMessage.objects.defer("body_html", "body_text", "payload")
    if status:
        messages = messages.filter(status=status)
    return messages.order_by("-created_at", "-id")
