"""The signing queue (hàng chờ ký) and the notifications it sends.

By concern: :mod:`.records` (the tables, the lookups of a round), :mod:`.workflow` (the
acts), :mod:`.lookups` (what waits for whom), :mod:`.notices` (in-app notifications),
:mod:`.mail` (e-mailing them through an injected :class:`Mailer`).

A drafter (chuyên viên) routes a prepared document to one or more people who hold
signing authority for it; they approve in order, or return it with a reason; the
drafter may recall it before it is signed, and a waiting request may be reassigned
to another competent person::

    PREPARED ──route──▶ AWAITING_SIGNATURE ──(every step approved)──▶ ready to sign
        ▲                    │   │                                    (current_signer)
        │ prepare again      │   └──return (reason)──▶ RETURNED (drafter fixes it)
        └── DRAFT ◀──recall──┘

    request:  PENDING ──(previous step approved)──▶ WAITING ──approve──▶ APPROVED
                 │                                    │ return ──▶ RETURNED (later steps
                 │                                    │                       CANCELLED)
                 └──────────── recall ────────────────┴──▶ RECALLED
                 └──────────── reassign ──────────────┴──▶ REASSIGNED (+ a new request)

Each routing is a *round* (lần trình) of a document: steps 1, 2, … of that round
are approved in order; only the lowest unapproved step is WAITING, later ones are
PENDING. A return or a recall closes the round; routing again opens the next one.

The queue and the signing act are kept apart: approving the last step does not
sign — the document stays AWAITING_SIGNATURE and :func:`current_signer` names the
person whose approval signature :func:`documents.issuance.approve` should accept.

**The drafter is a** :class:`~documents.models.Person`, not a name: notifications
are rows addressed to a person (and e-mailed to that person's address), so
:func:`route` takes ``drafter=`` and every request of the round keeps ``drafter_id``.
When the account routing the document is not a person on file (``drafter=None``),
nobody is told when it comes back or is signed; the document's status still says
so. The signer of a request is ``person_id`` / ``signer``. ``actor``
arguments are the free text recorded in ``created_by`` / ``decided_by`` (the
login name or full name the caller chooses), as elsewhere in ``documents``.
Who may act (only the signer approves their request, only the drafter recalls…)
is the caller's check; these functions check the state and the signing authority.

None of these functions commits. Every transition first locks the document row
(row lock on PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``) and
reloads the request, so two people acting at once cannot both approve the same
request or approve a request being recalled.

Notifications: every transition writes in-app :class:`Notification` rows (the
signer when something waits for them or leaves their queue, the drafter when the
document is approved, comes back or is signed/issued). :func:`send_pending` e-mails
those not yet e-mailed through a :class:`Mailer`; a failure leaves them pending.
"""
from .lookups import (
    current_signer,
    my_queue,
    queue_count,
    queue_page,
    requests_of,
    to_sign,
    waiting_for,
)
from .mail import MAIL_FOOTER, Mailer, MailReport, send_pending
from .notices import mark_read, notify_issued, notify_overdue, notify_signed, unread
from .records import (
    PRIORITY_NAMES,
    Notification,
    NotificationKind,
    PriorityType,
    RequestStatus,
    SigningRequest,
)
from .workflow import (
    approve_batch,
    approve_request,
    reassign,
    recall,
    reopen_after_failure,
    return_request,
    route,
)

__all__ = [
    "MAIL_FOOTER",
    "PRIORITY_NAMES",
    "MailReport",
    "Mailer",
    "Notification",
    "NotificationKind",
    "PriorityType",
    "RequestStatus",
    "SigningRequest",
    "approve_batch",
    "approve_request",
    "current_signer",
    "mark_read",
    "my_queue",
    "queue_count",
    "queue_page",
    "notify_issued",
    "notify_overdue",
    "notify_signed",
    "reassign",
    "recall",
    "reopen_after_failure",
    "requests_of",
    "return_request",
    "route",
    "send_pending",
    "to_sign",
    "unread",
    "waiting_for",
]
