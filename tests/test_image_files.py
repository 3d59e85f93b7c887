"""The seal and signature pictures the worker stamps come from the database (the body's and
the person's latest uploaded version); the demo's seeding adds its art as such pictures,
through the same checks as an upload, and never replaces one that is there."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.database import open_database
from api.datadir import DataDir
from api.demo.art import seal
from api.demo.commune import demo_people, install_art, seed
from certs import DemoPki
from documents import (
    BodyPlan,
    FileStore,
    FirstAdmin,
    Person,
    SealPictureMissing,
    SignaturePictureMissing,
    add_picture,
    pictures_of,
    seal_image_for,
    signature_image_for,
    start_body,
)
from documents.issuance import new_draft
from signer import check_seal


def test_the_demo_seeding_adds_its_art_as_pictures_once(tmp_path: Path, data: DataDir,
                                                        sample_pdf: bytes) -> None:
    root = DataDir(tmp_path / "data").create()
    sessions = open_database(root)
    with sessions() as session, session.begin():
        body = seed(session, DemoPki(data.pki))
        document = new_draft(session, FileStore(root.files), body, "quyet-dinh", "Thử",
                             sample_pdf, actor="chuyên viên")
        (first,) = pictures_of(session, body=body)
        assert first.uploaded_by == "kyso demo"
        assert seal_image_for(document) == first.png
        uploaded = add_picture(session, check_seal(seal(), 38), actor="quantri", body=body)
        install_art(session, body)  # what is there stays
        seed(session, DemoPki(data.pki))
        assert [p.id for p in pictures_of(session, body=body)] == [uploaded.id, first.id]
        assert seal_image_for(document) == uploaded.png
        for person in demo_people(session, body).values():
            assert signature_image_for(person).startswith(b"\x89PNG")


def test_a_real_body_without_pictures_is_told_what_to_upload(tmp_path: Path,
                                                              sample_pdf: bytes) -> None:
    root = DataDir(tmp_path / "data").create()
    sessions = open_database(root)
    with sessions() as session, session.begin():
        body = start_body(session, BodyPlan("Ủy ban nhân dân xã Mới", "UBND", "Mới",
                                            "000.01.02.H41"),
                          FirstAdmin("quantri.moi", "mat-khau-rat-dai-2026", "Quản trị"),
                          actor=None)
        document = new_draft(session, FileStore(root.files), body, "quyet-dinh", "Thử",
                             sample_pdf, actor="chuyên viên")
        with pytest.raises(SealPictureMissing, match="Ủy ban nhân dân xã Mới") as refused:
            seal_image_for(document)
        assert "ảnh con dấu" in refused.value.vi and "seal picture" in refused.value.en
        person = Person(body=body, full_name="Nguyễn Văn A", position="Chủ tịch")
        session.add(person)
        session.flush()
        with pytest.raises(SignaturePictureMissing, match="Nguyễn Văn A") as missing:
            signature_image_for(person)
        assert "ảnh chữ ký" in missing.value.vi and "signature picture" in missing.value.en
