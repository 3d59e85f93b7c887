"""The seal and signature images the worker stamps: files of the data directory, written by
the demo's seeding from its art, never the demo's art read by production."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from api.database import open_database
from api.datadir import DataDir
from api.demo.art import handwritten_signature, seal
from api.demo.commune import demo_people, install_art, seed
from api.errors import ImageMissing
from api.images import Images
from certs import DemoPki
from documents import Document, Organisation, Person


def test_a_missing_image_is_refused_with_where_to_put_it(tmp_path: Path) -> None:
    images = Images.of(DataDir(tmp_path))
    with pytest.raises(ImageMissing) as missing:
        images.seal_for(Document(body_id=7))
    assert missing.value.path == str(tmp_path / "images" / "seals" / "7.png")
    assert "con dấu" in missing.value.vi and "seal image for body 7" in missing.value.en
    with pytest.raises(ImageMissing, match="Nguyễn Văn A"):
        images.signature_for(Person(id=3, body_id=7, full_name="Nguyễn Văn A", position="x"))
    again = pickle.loads(pickle.dumps(missing.value))
    assert (again.vi, again.en, again.path) == (missing.value.vi, missing.value.en,
                                               missing.value.path)


def test_what_is_saved_is_what_the_signatures_show(tmp_path: Path) -> None:
    images = Images.of(DataDir(tmp_path))
    images.save_seal(7, b"seal-7")
    images.save_signature(3, b"signature-3")
    images.save_signature(3, b"signature-3-again")
    assert images.seal_for(Document(body_id=7)) == b"seal-7"
    person = Person(id=3, body_id=7, full_name="Nguyễn Văn A", position="x")
    assert images.signature_for(person) == b"signature-3-again"
    assert sorted(p.name for p in (tmp_path / "images").rglob("*")) == [
        "3.png", "7.png", "seals", "signatures"]


def test_the_demo_seeding_writes_its_art_once(tmp_path: Path, data: DataDir) -> None:
    root = DataDir(tmp_path / "data").create()
    images = Images.of(root)
    sessions = open_database(root)
    with sessions() as session, session.begin():
        body = seed(session, DemoPki(data.pki))
        install_art(images, session, body)
        people = [p.id for p in demo_people(session, body).values()]
        body_id = body.id
    assert images.seal_path(body_id).read_bytes() == seal()
    for person_id in people:
        assert images.signature_path(person_id).read_bytes() == \
            handwritten_signature(seed=person_id)
    # what is there stays (an uploaded image, later): the art is written where none is
    images.save_seal(body_id, b"uploaded seal")
    images.save_signature(people[0], b"uploaded signature")
    with sessions() as session, session.begin():
        install_art(images, session, session.get_one(Organisation, body_id))
    assert images.seal_path(body_id).read_bytes() == b"uploaded seal"
    assert images.signature_path(people[0]).read_bytes() == b"uploaded signature"
