"""Fetch real Delphes output for tests/test_delphes.py: coffea's test sample, checked by sha256.

``make test`` runs this before pytest (the file is 5.3 MB, so it is not committed):
``pip download`` coffea's source distribution from the package index, take
``tests/samples/delphes.root`` out of it, check its sha256 and write it atomically.

    python scripts/fetch_delphes_sample.py tests/fixtures/delphes/delphes.root
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

COFFEA = "coffea==2026.9.0"  # BSD-3-Clause; its licence is tests/fixtures/delphes/LICENSE-coffea
MEMBER = "tests/samples/delphes.root"
SHA256 = "af2ea9ad3982751f6fec7b39b6be8a35dbae9a4244cfb56fbd35ae5b9d5bd7ea"


def fetch(target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                COFFEA,
                "-d",
                tmp,
            ],
            check=True,
        )
        (archive,) = Path(tmp).glob("coffea-*.tar.gz")
        with tarfile.open(archive) as tar:
            member = next(m for m in tar.getmembers() if m.name.endswith("/" + MEMBER))
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        sys.exit(f"{COFFEA} {MEMBER}: sha256 {digest}, expected {SHA256}; not written")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.replace(partial, target)
    print(f"wrote {target} ({len(data):,} bytes, sha256 {digest[:12]}…) from {COFFEA}")


if __name__ == "__main__":
    fetch(Path(sys.argv[1]))
