"""Going live over HTTP: the first run of an empty instance, the body's staff list, seal and
signature pictures (with the stamped block's preview), people's certificates from an
uploaded PEM, a remote-signing credential or ``kyso agent``, the check before a PIN is
asked, who holds which key and "Ready to issue?". Thin: each route calls one act of
:mod:`documents.golive` (or :mod:`api.readiness`) and translates."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response, UploadFile
from pydantic import BaseModel

from certs import load_certificates
from documents import (
    BodyPlan,
    CertificateFacts,
    FirstAdmin,
    PictureKind,
    PictureVersion,
    UnitPlan,
    User,
    administered,
    bodies_of,
    certificate_inventory,
    check_approval_certificate,
    enrol_for_person,
    enrol_own,
    enrol_seal_certificate,
    import_staff_file,
    instance_is_empty,
    picture_versions,
    preview_picture,
    user_for_token,
    visible_document,
)
from documents import (
    first_run as act_first_run,
)
from documents import (
    upload_seal as act_upload_seal,
)
from documents import (
    upload_signature as act_upload_signature,
)
from tokens import provider_from_settings

from ...errors import UnknownRemoteService
from ...exports import inventory_workbook
from ...readiness import readiness_of
from ..deps import ServicesDep, presented_secret
from ..errors import NotAuthenticated

router = APIRouter(prefix="/api/v1", tags=["going live"])


def actor_id(request: Request, svc: ServicesDep) -> int:
    """The caller's account id, from a session of its own that is closed at once (each act
    of :mod:`documents.golive` owns its transaction)."""
    secret = presented_secret(request)
    if not secret:
        raise NotAuthenticated()
    with svc.sessions() as db:
        user = user_for_token(db, secret)
        found = user.id
        db.commit()  # last_used_at
    return found


Actor = Annotated[int, Depends(actor_id)]


def facts_json(facts: CertificateFacts | None) -> dict[str, Any] | None:
    if facts is None:
        return None
    return {"sha256": facts.sha256, "subject": facts.subject, "issuer": facts.issuer,
            "serial": facts.serial, "not_before": facts.not_before.isoformat(),
            "not_after": facts.not_after.isoformat()}


# --- the first run ---------------------------------------------------------------------------

class UnitIn(BaseModel):
    name: str
    abbreviation: str


class AdminIn(BaseModel):
    username: str
    password: str
    display_name: str
    email: str | None = None


class FirstRun(BaseModel):
    name: str
    abbreviation: str
    place_name: str
    organ_id: str
    units: list[UnitIn] = []
    admin: AdminIn


def plan_of(form: FirstRun) -> tuple[BodyPlan, FirstAdmin]:
    plan = BodyPlan(name=form.name, abbreviation=form.abbreviation,
                    place_name=form.place_name, organ_id=form.organ_id,
                    units=[UnitPlan(u.name, u.abbreviation) for u in form.units])
    admin = FirstAdmin(form.admin.username, form.admin.password, form.admin.display_name,
                       form.admin.email)
    return plan, admin


@router.get("/setup")
def setup_state(svc: ServicesDep) -> dict[str, bool]:
    """Whether the instance is empty (the first-run form is open)."""
    return {"empty": instance_is_empty(svc.sessions)}


@router.post("/setup", status_code=201)
def first_run(form: FirstRun, svc: ServicesDep) -> dict[str, Any]:
    """The first body and its administrator; refused once the instance has either."""
    plan, admin = plan_of(form)
    return {"body_id": act_first_run(svc.sessions, plan, admin),
            "administrator": admin.username}


@router.post("/admin/bodies/{body_id}/staff", status_code=201)
async def staff_list(body_id: int, file: UploadFile, actor: Actor,
                     svc: ServicesDep) -> dict[str, Any]:
    """A staff list (XLSX/CSV) as people and accounts; the temporary passwords are in
    this answer only."""
    content = await file.read()
    imported = import_staff_file(svc.sessions, actor, body_id, content,
                                        file.filename or "staff.csv")
    return {"people": [{"id": p.id, "full_name": p.full_name, "position": p.position}
                       for p in imported.people],
            "accounts": [{"username": u, "temporary_password": pw}
                         for u, pw in imported.accounts]}


# --- pictures --------------------------------------------------------------------------------

def version_json(version: PictureVersion) -> dict[str, Any]:
    found = asdict(version)
    found["uploaded_at"] = version.uploaded_at.isoformat()
    return found


@router.post("/admin/bodies/{body_id}/seal", status_code=201)
async def upload_seal(body_id: int, file: UploadFile, actor: Actor, svc: ServicesDep,
                      diameter_mm: Annotated[float, Form()] = 36.0) -> dict[str, Any]:
    return version_json(act_upload_seal(svc.sessions, actor, body_id, await file.read(),
                                           diameter_mm))


@router.get("/admin/bodies/{body_id}/seal")
def seal_versions(body_id: int, actor: Actor, svc: ServicesDep) -> list[dict[str, Any]]:
    return [version_json(v) for v in picture_versions(svc.sessions, actor, body_id)]


@router.post("/admin/bodies/{body_id}/people/{person_id}/signature", status_code=201)
async def upload_signature(body_id: int, person_id: int, file: UploadFile, actor: Actor,
                           svc: ServicesDep) -> dict[str, Any]:
    return version_json(act_upload_signature(svc.sessions, actor, body_id, person_id,
                                                await file.read()))


@router.get("/admin/bodies/{body_id}/people/{person_id}/signature")
def signature_versions(body_id: int, person_id: int, actor: Actor,
                       svc: ServicesDep) -> list[dict[str, Any]]:
    return [version_json(v) for v in picture_versions(svc.sessions, actor, body_id,
                                                             person_id=person_id)]


@router.post("/admin/bodies/{body_id}/preview.png")
async def preview(body_id: int, actor: Actor, svc: ServicesDep,
                  kind: Annotated[str, Form()] = "seal",
                  file: UploadFile | None = None,
                  person_id: Annotated[int | None, Form()] = None,
                  diameter_mm: Annotated[float, Form()] = 36.0) -> Response:
    """The signature block as it will be stamped, with the uploaded picture (checked, not
    kept) or the current ones; a PNG."""
    png = await file.read() if file is not None else None
    picture_kind = PictureKind.SIGNATURE if kind == "signature" else PictureKind.SEAL
    image = preview_picture(svc.sessions, actor, body_id, kind=picture_kind,
                                   png=png or None, person_id=person_id,
                                   diameter_mm=diameter_mm)
    return Response(image, media_type="image/png", headers={"Cache-Control": "no-store"})


# --- certificates ----------------------------------------------------------------------------

class PemIn(BaseModel):
    certificate_pem: str
    chain_pem: str | None = None


class SealCertificateIn(PemIn):
    #: the server-side token (tokens.json) holding the organisation key
    token_name: str
    valid_from: date | None = None


class RemoteIn(BaseModel):
    #: the remote-signing service's entry in tokens.json (backend "csc")
    credential: str


@router.post("/admin/bodies/{body_id}/people/{person_id}/certificate", status_code=201)
def enrol_uploaded(body_id: int, person_id: int, form: PemIn, actor: Actor,
                   svc: ServicesDep) -> dict[str, Any] | None:
    """Register a person's certificate from an uploaded PEM, after the trust check."""
    (cert, *chain) = load_certificates(form.certificate_pem.encode(), "certificate_pem")
    if form.chain_pem:
        chain += load_certificates(form.chain_pem.encode(), "chain_pem")
    return facts_json(enrol_for_person(
        svc.sessions, actor, body_id, person_id, cert, svc.context_for([body_id]),
        chain=chain, source="PEM"))


@router.post("/admin/bodies/{body_id}/organisation-certificate", status_code=201)
def enrol_seal(body_id: int, form: SealCertificateIn, actor: Actor,
               svc: ServicesDep) -> dict[str, Any] | None:
    """Register the body's organisation certificate (PEM) after the trust check, bound
    to the server token that holds its key."""
    (cert, *chain) = load_certificates(form.certificate_pem.encode(), "certificate_pem")
    if form.chain_pem:
        chain += load_certificates(form.chain_pem.encode(), "chain_pem")
    return facts_json(enrol_seal_certificate(
        svc.sessions, actor, body_id, cert, form.token_name, svc.context_for([body_id]),
        chain=chain, valid_from=form.valid_from))


@router.post("/admin/bodies/{body_id}/people/{person_id}/certificate/remote",
             status_code=201)
def enrol_remote(body_id: int, person_id: int, form: RemoteIn, actor: Actor,
                 svc: ServicesDep) -> dict[str, Any] | None:
    """Register a person's certificate as their remote-signing (CSC) credential lists it."""
    # the caller administers the body before the remote service is asked anything (or
    # told apart from an unknown one)
    with svc.sessions() as db:
        administered(db, actor, body_id)
    configured = svc.settings.data.token_settings()
    if form.credential not in configured:
        raise UnknownRemoteService(form.credential)
    provider, credential_id = provider_from_settings(form.credential,
                                                     configured[form.credential])
    remote = provider.credential(credential_id)
    return facts_json(enrol_for_person(
        svc.sessions, actor, body_id, person_id, remote.certificate,
        svc.context_for([body_id]), chain=list(remote.chain),
        source=f"remote:{form.credential}"))


@router.post("/enrolment/agent", status_code=201)
def enrol_from_agent(form: PemIn, actor: Actor, svc: ServicesDep) -> dict[str, Any] | None:
    """``kyso agent`` hands over the certificate it read on the caller's own token; it is
    checked against the trust store before it is registered."""
    (cert, *chain) = load_certificates(form.certificate_pem.encode(), "certificate_pem")
    if form.chain_pem:
        chain += load_certificates(form.chain_pem.encode(), "chain_pem")
    with svc.sessions() as db:
        bodies = [b.id for b in bodies_of(db, db.get_one(User, actor))]
    return facts_json(enrol_own(svc.sessions, actor, cert, svc.context_for(bodies),
                                       chain=chain))


@router.get("/documents/{document_id}/certificate-check")
def certificate_check(document_id: str, actor: Actor,
                      svc: ServicesDep) -> dict[str, Any]:
    """Before the signer is asked for a PIN: 200 when their certificate may sign now (or
    Kyso has not seen it yet), else the refusal (expired, revoked, untrusted)."""
    with svc.sessions() as db:  # an unknown id, or one of another body: 404
        body_id = visible_document(db, db.get_one(User, actor), document_id).body_id
    facts = check_approval_certificate(svc.sessions, actor, document_id,
                                              svc.context_for([body_id]))
    return {"ok": True, "certificate": facts_json(facts)}


# --- who holds which key, ready to issue ----------------------------------------------------

def key_json(row: Any) -> dict[str, Any]:
    found = {k: v for k, v in vars(row).items() if not k.startswith("_")}
    for key, value in found.items():
        if hasattr(value, "isoformat"):
            found[key] = value.isoformat()
        elif hasattr(value, "value"):
            found[key] = value.value if not isinstance(value, int) else int(value)
    return found


@router.get("/admin/bodies/{body_id}/keys")
def keys(body_id: int, actor: Actor, svc: ServicesDep) -> list[dict[str, Any]]:
    """Every certificate in use in the body: holder, role, where the key is, issuer,
    serial, validity, last use and the expiry warning (60/30/7 days)."""
    return [key_json(r) for r in certificate_inventory(svc.sessions, actor, body_id)]


@router.get("/admin/bodies/{body_id}/keys.xlsx")
def keys_xlsx(body_id: int, actor: Actor, svc: ServicesDep) -> Response:
    name, content = inventory_workbook(svc.sessions, actor, body_id)
    return Response(content, media_type="application/vnd.openxmlformats-officedocument."
                                        "spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/admin/bodies/{body_id}/readiness")
def ready_to_issue(body_id: int, actor: Actor, svc: ServicesDep) -> dict[str, Any]:
    """"Ready to issue?": each check, whether it holds and what to do next."""
    checks = readiness_of(svc, actor, body_id)
    return {"ready": all(c["ok"] for c in checks), "checks": checks}


