"""Verification time per signature: Kyso's verify_pdf vs bare pyHanko on the same files.

    .venv/bin/python bench/verify_bench.py [--runs 20]

Builds a throwaway demo commune (SoftHSM tokens, certomancer TSA/OCSP served on
127.0.0.1 by this process), signs a B-T approval and an issued two-signature document,
then verifies those and the seven real files of tests/data/real/. "Bare pyHanko" is
``validate_pdf_signature`` on every signature with a fresh context of the same trust
(online for the demo files, whose OCSP is local; offline for the real files, whose
CAs cannot be reached). Kyso adds the byte-range and trailing-data checks, its own
change analysis, the validation at the timestamp's time when a certificate has
expired (online a second one; offline the only one), and the report.

Each is measured twice: with a fresh context per signature that fetches its OCSP
response and CRL itself ("fresh"), and with contexts sharing one
:class:`certs.SharedFetchers` (what a batch worker does; "cached"), both tools alike.
Prints medians per signature in ms and the Kyso / pyHanko ratio of each.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from importlib.resources import files
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_timing import measure  # after the path is set

REAL = Path(__file__).resolve().parent.parent / "tests" / "data" / "real"


def bare_verify(content: bytes, context: Callable[[], Any]) -> None:
    """The baseline: bare pyHanko's ``validate_pdf_signature`` on every signature, each
    with a fresh context from ``context``."""
    from pyhanko.sign.validation import validate_pdf_signature

    from signer import open_reader

    reader = open_reader(content)
    for embedded in reader.embedded_regular_signatures:
        # 07 has no signer certificate: pyHanko raises, which still costs time
        with contextlib.suppress(Exception):
            validate_pdf_signature(embedded, context())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kyso-vbench-"))
    os.environ["SOFTHSM2_CONF"] = str(root / "softhsm" / "softhsm2.conf")

    from api.cli.operations import sign_document
    from api.datadir import DataDir
    from api.demo.demo import DEMO_PIN, provision, token_settings
    from certs import SharedFetchers, serving, validation_context
    from signer import (
        NUMBER_FIELD,
        ORGANISATION_FIELD,
        PERSON_FIELD,
        FieldFill,
        SigningOptions,
        locate,
        open_reader,
        plan_fields,
        prepare_draft,
        sign_pdf,
        verify_pdf,
    )

    data = DataDir(root).create()
    commune = provision(data.softhsm, data.pki)
    data.save_token_settings(token_settings(commune))
    pdf = (files("api") / "demo" / "assets" / "sample-quyet-dinh.pdf").read_bytes()
    store = data.trust_store()

    with serving(commune.pki):
        tsa = commune.pki.tsa_url
        approval = sign_document(data, pdf, "chu-tich", DEMO_PIN, pki=commune.pki, page=0)
        prepared = prepare_draft(pdf, plan_fields(locate(pdf)))
        with data.token("pho-chu-tich").signer(DEMO_PIN) as person:
            approved = sign_pdf(prepared, person, SigningOptions(field_name=PERSON_FIELD,
                                                                 tsa_url=tsa))
        with data.token("ubnd").signer(DEMO_PIN) as body:
            issued = sign_pdf(approved, body, SigningOptions(
                field_name=ORGANISATION_FIELD, tsa_url=tsa,
                fills=(FieldFill(NUMBER_FIELD, "05"),)))
        cases: list[tuple[str, bytes, bool]] = [
            ("demo B-T approval (1 sig)", approval, True),
            ("demo issued (2 sigs)", issued, True),
        ]
        cases += [(path.name[:40], path.read_bytes(), False)
                  for path in sorted(REAL.glob("*.pdf"))]

        rows: list[tuple[str, int, float, float, float, float]] = []
        for name, content, online in cases:
            count = len(open_reader(content).embedded_regular_signatures)
            cache = SharedFetchers()

            def context(shared: bool, online: bool = online,
                        cache: SharedFetchers = cache) -> Any:
                return validation_context(store, online=online,
                                          shared=cache if shared else None)

            def kyso(shared: bool, content: bytes = content, name: str = name) -> object:
                return verify_pdf(content, lambda: context(shared), name, store)

            def bare(shared: bool, content: bytes = content) -> object:
                bare_verify(content, lambda: context(shared))
                return None

            kf, bf, kc, bc = (statistics.median(measure(partial(f, s), args.runs)) / count
                              for s in (False, True) for f in (kyso, bare))
            rows.append((name, count, kf, bf, kc, bc))

    print(f"Verification per signature, median of {args.runs} runs (ms)")
    print(f"{'':47} {'fresh contexts':^24} {'shared fetch cache':^24}")
    print(f"{'file':42} {'sigs':>4} {'Kyso':>8} {'pyHanko':>8} {'ratio':>6} "
          f"{'Kyso':>8} {'pyHanko':>8} {'ratio':>6}")
    for name, count, kf, bf, kc, bc in rows:
        print(f"{name:42} {count:4d} {kf:8.1f} {bf:8.1f} {kf / bf:6.2f} "
              f"{kc:8.1f} {bc:8.1f} {kc / bc:6.2f}")
    columns: list[list[float]] = [[r[2] for r in rows], [r[3] for r in rows],
                                  [r[4] for r in rows], [r[5] for r in rows]]
    kf, bf, kc, bc = (statistics.median(column) for column in columns)
    print(f"{'median over files':42} {'':4} {kf:8.1f} {bf:8.1f} {kf / bf:6.2f} "
          f"{kc:8.1f} {bc:8.1f} {kc / bc:6.2f}")


if __name__ == "__main__":
    main()
