"""Per-document signing time on a SoftHSM RSA-2048 token: Kyso vs bare pyHanko.

    .venv/bin/python bench/sign_bench.py [--runs 50]

Builds a throwaway demo commune, opens one token session, and signs the same
one-page PDF N times per variant. Prints the median, p90 and the ratio to the
baseline (bare pyHanko, no stamp, same PDF and token).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_timing import measure  # after the path is set


def bare_pyhanko(signer: Any, pdf: bytes, field_name: str = "Sig",
                 bytes_reserved: int | None = None, timestamper: Any = None,
                 **metadata: Any) -> bytes:
    """The baseline: bare pyHanko signing ``pdf`` into ``field_name`` (a new invisible
    field, or the prepared one), no stamp, nothing checked before. ``metadata``: more of
    ``PdfSignatureMetadata`` (e.g. ``embed_validation_info``, ``use_pades_lta``)."""
    from pyhanko.sign import signers

    from signer import open_writer

    out = io.BytesIO()
    signers.PdfSigner(signers.PdfSignatureMetadata(field_name=field_name, **metadata),
                      signer=signer, timestamper=timestamper).sign_pdf(
        open_writer(pdf), output=out, bytes_reserved=bytes_reserved)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kyso-bench-"))
    os.environ["SOFTHSM2_CONF"] = str(root / "softhsm" / "softhsm2.conf")

    from api.cli.operations import DEMO_BOX, appearance_for
    from api.datadir import DataDir
    from api.demo.demo import DEMO_PIN, provision, token_settings
    from certs import serving
    from signer import SigningOptions, sign_pdf

    data = DataDir(root).create()
    commune = provision(data.softhsm, data.pki)
    data.save_token_settings(token_settings(commune))
    pdf = (files("api") / "demo" / "assets" / "sample-quyet-dinh.pdf").read_bytes()

    with serving(commune.pki), data.token("chu-tich").signer(DEMO_PIN) as p11:
        appearance = appearance_for(p11.signing_cert, DEMO_BOX, 0)

        def bare() -> bytes:
            return bare_pyhanko(p11, pdf)

        def bare_pyhanko_reserved() -> bytes:
            return bare_pyhanko(p11, pdf, bytes_reserved=16384)

        def kyso_stamp_bb() -> bytes:
            return sign_pdf(pdf, p11, SigningOptions(appearance=appearance))

        def kyso_stamp_bt() -> bytes:
            return sign_pdf(pdf, p11, SigningOptions(appearance=appearance,
                                                     tsa_url=commune.pki.tsa_url))

        variants = [
            ("bare pyHanko, no stamp (baseline)", bare),
            ("bare pyHanko, no stamp, bytes_reserved", bare_pyhanko_reserved),
            ("Kyso, Vietnamese stamp, PAdES B-B", kyso_stamp_bb),
            ("Kyso, Vietnamese stamp, PAdES B-T (local TSA)", kyso_stamp_bt),
        ]
        results = [(name, measure(fn, args.runs)) for name, fn in variants]

    base = statistics.median(results[0][1])
    print(f"Signing one 1-page PDF, SoftHSM RSA-2048, {args.runs} runs each "
          f"(median / p90 in ms)")
    print(f"{'variant':48} {'median':>8} {'p90':>8} {'ratio':>7}")
    for name, times in results:
        med = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1]
        print(f"{name:48} {med:8.1f} {p90:8.1f} {med / base:7.2f}")


if __name__ == "__main__":
    main()
