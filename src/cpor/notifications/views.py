"""The staff mail log: every outbox message with its rendered content."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from cpor.notifications.models import MessageStatus, OutboxMessage
from cpor.notifications.selectors import can_read_mail_log, outbox_list


def _require_staff(request: HttpRequest) -> None:
    if not can_read_mail_log(request.user):
        raise Http404


@login_required
def mail_log(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    status = request.GET.get("status", "")
    if status not in MessageStatus.values:
        status = ""
    page = Paginator(outbox_list(status=status), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/mail_log.html",
        {"page": page, "status": status, "statuses": MessageStatus.choices},
    )


# The HTML part is shown as sent: e-mail styles are style attributes (mail clients drop
# <style>), and the srcdoc frame inherits this page's policy. The frame is sandboxed (no
# script), and only staff read this page.
@csp_update({"style-src-attr": [UNSAFE_INLINE]})
@login_required
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_staff(request)
    message = get_object_or_404(OutboxMessage, pk=pk)
    return render(request, "notifications/message_detail.html", {"message": message})
