"""The Celery task names: in the broker and in the results, so they never change.

The API sends tasks by these names after its commit (no import of the task module);
:mod:`api.worker.tasks` registers them.
"""

from __future__ import annotations

PREPARE = "kyso.prepare"
EXPORT_REGISTER = "kyso.export_register"
SIGN_APPROVAL = "kyso.sign_approval"
PREPARE_JOB = "kyso.prepare_job"
FINISH_JOB = "kyso.finish_job"
EXPIRE_JOBS = "kyso.expire_jobs"
RENEW_ARCHIVES = "kyso.renew_archives"
ISSUE = "kyso.issue"
SIGN_ATTACHMENT = "kyso.sign_attachment"
MAKE_COPY = "kyso.make_copy"
SEND_MAIL = "kyso.send_notifications"

__all__ = [
    "EXPIRE_JOBS",
    "EXPORT_REGISTER",
    "FINISH_JOB",
    "ISSUE",
    "MAKE_COPY",
    "PREPARE",
    "PREPARE_JOB",
    "RENEW_ARCHIVES",
    "SEND_MAIL",
    "SIGN_ATTACHMENT",
    "SIGN_APPROVAL",
]
