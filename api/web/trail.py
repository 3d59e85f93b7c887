"""The audit trail as a person reads it: each event one Vietnamese sentence — who, did what,
to which document (by its number, else its subject), when — with the technical details
kept apart (the page folds them away).

The trail names the same official in several ways (the account's login for acts done in
the web pages, the full name for signatures the worker made, the account's display name
elsewhere): :class:`People` knows every name of each member of the body, says them one
way ("Lê Minh Đức (phochutichduc)") and lets a filter on any of them find all."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from common import VN_TZ
from documents import (
    AuditAction,
    AuditEvent,
    Document,
    Membership,
    Organisation,
    Person,
    User,
    VersionKind,
)

#: Actors that are no person.
SYSTEM_ACTORS = {"hệ thống": "Hệ thống Kyso", "system": "Hệ thống Kyso",
                 "công khai": "Một người kiểm tra trên trang công khai",
                 "kyso demo": "Chương trình tạo xã mẫu (demo)"}

#: What each action does, as the verb of the sentence (the object follows).
_VERBS: dict[AuditAction, str] = {
    AuditAction.LOGIN: "đăng nhập",
    AuditAction.UPLOAD: "tải lên dự thảo",
    AuditAction.PREPARE: "chuẩn bị để ký",
    AuditAction.ROUTE: "trình ký",
    AuditAction.APPROVE: "phê duyệt",
    AuditAction.RETURN: "trả lại",
    AuditAction.SIGN: "ký số phê duyệt",
    AuditAction.NUMBER: "cấp số cho",
    AuditAction.SEAL: "ký số của cơ quan (đóng dấu) lên",
    AuditAction.ISSUE: "ban hành",
    AuditAction.ATTACH: "ký số phụ lục của",
    AuditAction.COPY: "tạo bản sao điện tử của",
    AuditAction.CANCEL_NUMBER: "hủy số của",
    AuditAction.DOWNLOAD: "mở",
    AuditAction.VERIFY: "xác minh",
    AuditAction.EXPORT: "xuất sổ đăng ký văn bản đi",
    AuditAction.ADMIN_CHANGE: "thay đổi",
    AuditAction.TOKEN_ERROR: "gặp lỗi thiết bị ký khi ký",
}

#: Objects of administration, in words.
_OBJECTS = {"person": "thông tin cán bộ", "user": "tài khoản", "authority": "thẩm quyền ký",
            "signing_authority": "thẩm quyền ký", "book": "sổ đăng ký",
            "number_book": "sổ đăng ký", "trust_anchor": "danh sách CA tin cậy",
            "picture": "ảnh con dấu hoặc chữ ký", "body": "thông tin cơ quan",
            "organisation": "thông tin cơ quan", "certificate": "chứng thư số",
            "organisation_key": "khóa của cơ quan", "signing_ticket": "địa chỉ ký một lần",
            "file": "tệp", "register": "sổ đăng ký", "job": "việc ký"}

_VERDICTS = {"valid": "hợp lệ", "invalid": "KHÔNG hợp lệ", "indeterminate": "chưa xác định"}


@dataclass
class People:
    """Every name each member of a body goes by in the trail, and the one it is shown by."""

    shown: dict[str, str] = field(default_factory=dict)
    #: the key of each person (their login, else their full name) → all their names
    names: dict[str, set[str]] = field(default_factory=dict)
    #: the key → how the filter lists them
    labels: dict[str, str] = field(default_factory=dict)
    #: a person's id → how they are shown
    by_id: dict[int, str] = field(default_factory=dict)

    def add(self, key: str, label: str, *aliases: str) -> None:
        every = {a for a in (key, *aliases) if a}
        self.names.setdefault(key, set()).update(every)
        self.labels[key] = label
        for alias in every:
            self.shown.setdefault(alias, label)

    def who(self, actor: str) -> str:
        return self.shown.get(actor) or SYSTEM_ACTORS.get(actor.casefold(), actor)

    def aliases(self, wanted: str) -> set[str]:
        """Every name of the person ``wanted`` names (any of their names, any case)."""
        needle = wanted.strip().casefold()
        for key, every in self.names.items():
            if needle == key.casefold() or needle in {a.casefold() for a in every}:
                return every
        return {wanted.strip()}


def people_of(db: Session, body: Organisation) -> People:
    people = People()
    accounts = db.scalars(select(User).join(Membership, Membership.user_id == User.id)
                          .where(Membership.body_id == body.id).distinct()).all()
    linked: set[int] = set()
    for account in accounts:
        person = account.person
        name = person.full_name if person else account.display_name
        people.add(account.username, f"{name} ({account.username})", account.display_name,
                   person.full_name if person else "")
        if person is not None:
            linked.add(person.id)
            people.by_id[person.id] = f"{name} ({account.username})"
    for person in db.scalars(select(Person).where(Person.body_id == body.id)):
        if person.id not in linked:
            people.add(person.full_name, person.full_name)
            people.by_id[person.id] = person.full_name
    return people


def _details(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"": text}
    return value if isinstance(value, dict) else {"": value}


def document_words(document: Document | None, object_id: str) -> str:
    """A document by its number (``Quyết định số 01/QĐ-UBND``), else by its subject."""
    if document is None:
        return f"văn bản {object_id[:8]}…"
    entry = document.register_entry
    if entry is not None:
        return f"{document.doc_type.name} số {entry.number_symbol}"
    return f"dự thảo {document.doc_type.name.lower()} “{document.subject}”"


def _kind(value: Any) -> str:
    try:
        return VersionKind[str(value)].value.lower()
    except KeyError:
        return str(value)


def sentence(event: AuditEvent, people: People, documents: dict[str, Document],
             labels: dict[tuple[str, str], str] | None = None) -> str:
    """One event as a Vietnamese sentence (without the time, shown beside it); ``labels``:
    each version's label by (document id, SHA-256), so that a corrected draft reads as
    "dự thảo đã sửa lần 1" (:func:`documents.numbered`)."""
    who = people.who(event.actor)
    verb = _VERBS.get(event.action, event.action.value.lower())
    details = _details(event.details)
    if event.object_type == "document":
        what = document_words(documents.get(event.object_id), event.object_id)
    elif event.action is AuditAction.VERIFY:
        what = f"tệp “{details.get('file') or event.object_id[:12]}”"
    elif event.action is AuditAction.LOGIN:
        what = ""
    elif event.action is AuditAction.EXPORT:
        what = f"năm {details['year']}" if "year" in details else ""
    else:
        what = _OBJECTS.get(event.object_type, event.object_type)
    text = " ".join(p for p in (who, verb, what) if p)
    label = (labels or {}).get((event.object_id, str(details.get("sha256", ""))))
    document = documents.get(event.object_id) if event.object_type == "document" else None
    if event.action is AuditAction.COPY and document is not None and document.doc_type.is_copy:
        text = f"{who} tạo {what[:1].lower()}{what[1:]}"  # the copy is its own document
    elif event.action is AuditAction.NUMBER and details.get("number_symbol"):
        text = f"{who} cấp số {details['number_symbol']} cho {what}"
    elif event.action is AuditAction.UPLOAD and label and details.get("replaces_returned"):
        text = f"{who} tải lên {label[:1].lower()}{label[1:]} của {what}"
    elif event.action is AuditAction.DOWNLOAD and details.get("kind"):
        text += f" (bản {(label or _kind(details['kind'])).lower()})"
    elif event.action is AuditAction.PREPARE and label:
        text += f" — {label[:1].lower()}{label[1:]}"
    elif event.action is AuditAction.RETURN and details.get("reason"):
        text += f", lý do: “{details['reason']}”"
    elif event.action is AuditAction.VERIFY and details.get("verdict"):
        text += f": {_VERDICTS.get(str(details['verdict']), details['verdict'])}"
    elif event.action is AuditAction.ROUTE and details.get("signers"):
        names = [people.by_id.get(s, "") for s in details["signers"] if isinstance(s, int)]
        if any(names):
            text += " tới " + ", ".join(n for n in names if n)
    return text[:1].upper() + text[1:] + "."


def details_rows(event: AuditEvent) -> list[tuple[str, str]]:
    """The event's technical details, folded away on the page: key and value."""
    rows = [("Mã sự kiện", str(event.seq)), ("Tài khoản/ghi nhận", event.actor),
            ("Hành động", f"{event.action.value} ({event.action.name})"),
            ("Đối tượng", f"{event.object_type} {event.object_id}")]
    for key, value in _details(event.details).items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append((key or "chi tiết", shown))
    return rows


def when(moment: datetime) -> str:
    return moment.astimezone(VN_TZ).strftime("%H:%M ngày %d/%m/%Y")
