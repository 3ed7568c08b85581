"""Image service throughput per store: upload and download of a 1 GiB image.

Starts a real ``onestack up`` in a temporary state directory, then measures,
on the same disk and in the same run:

- a plain file copy (read + write + fsync) of the image, the baseline;
- for each store (``file``, ``swift``: the cloud's object storage with three
  replicas, ``cinder``: a volume per image), ``PUT /v2/images/{id}/file``
  with ``X-Image-Meta-Store`` streamed from the file (server: MD5 + SHA-512
  + format inspection + the store's write), and ``GET /v2/images/{id}/file``
  streamed to a file (server: the copy checked against its SHA-512 first).

Prints MiB/s and the ratio to the plain copy.  Usage:
``python bench/image.py [--size-mib 1024] [--stores file,swift,cinder]``
(root for cinder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import new_cloud

CHUNK = 1 << 20


def make_file(path: Path, size_mib: int) -> None:
    block = os.urandom(CHUNK)
    with open(path, "wb") as out:
        for index in range(size_mib):
            out.write(block[index % 251 :] + block[: index % 251])


def plain_copy(source: Path, target: Path) -> float:
    began = time.perf_counter()
    with open(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, CHUNK)
        dst.flush()
        os.fsync(dst.fileno())
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument(
        "--stores",
        default="file,swift,cinder",
        help="stores to measure (cinder needs root: volumes attached as loop devices)",
    )
    args = parser.parse_args()
    stores = args.stores.split(",")
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-image-") as work:
        base = Path(work)
        source = base / "image.raw"
        make_file(source, args.size_mib)
        cloud = new_cloud(
            base,
            ONESTACK_IMAGE__ENABLED_BACKENDS=json.dumps(stores),
            ONESTACK_VOLUME__POOL_FILESYSTEM="auto",
        ).start(timeout=120)
        try:
            conn = cloud.connect("admin", "admin")
            token = conn.session.get_token()
            url = cloud.url("image")
            headers = {"X-Auth-Token": token}
            copy_s = plain_copy(source, base / "copy.raw")
            (base / "copy.raw").unlink()
            with httpx.Client(timeout=1200) as client:
                for store in stores:
                    results[store] = _measure(client, url, headers, source, base, store)
        finally:
            cloud.stop()
            pool = base / "volume" / "pool"
            subprocess.run(["umount", str(pool)], check=False, capture_output=True)
    size = args.size_mib
    print(f"image size: {size} MiB")
    print(f"plain copy (read+write+fsync): {copy_s:6.2f} s  {size / copy_s:7.1f} MiB/s")
    for store, (upload_s, download_s) in results.items():
        for label, seconds in ((f"{store}: upload", upload_s), (f"{store}: download", download_s)):
            print(
                f"{label:<30} {seconds:6.2f} s  {size / seconds:7.1f} MiB/s  "
                f"ratio to copy {copy_s / seconds:5.2f}"
            )


def _measure(
    client: httpx.Client, url: str, headers: dict[str, str], source: Path, base: Path, store: str
) -> tuple[float, float]:
    """Upload ``source`` into ``store`` and download it back: the two durations."""
    created = client.post(
        f"{url}/v2/images",
        headers=headers,
        json={"name": f"bench-{store}", "disk_format": "raw", "container_format": "bare"},
    ).json()

    def chunks() -> object:
        with open(source, "rb") as handle:
            while piece := handle.read(CHUNK):
                yield piece

    began = time.perf_counter()
    response = client.put(
        f"{url}/v2/images/{created['id']}/file",
        headers={
            **headers,
            "Content-Type": "application/octet-stream",
            "X-Image-Meta-Store": store,
        },
        content=chunks(),
    )
    upload_s = time.perf_counter() - began
    assert response.status_code == 204, response.text
    target = base / "download.raw"
    began = time.perf_counter()
    with (
        client.stream("GET", f"{url}/v2/images/{created['id']}/file", headers=headers) as stream,
        open(target, "wb") as out,
    ):
        assert stream.status_code == 200, stream.read()
        for piece in stream.iter_bytes(CHUNK):
            out.write(piece)
        out.flush()
        os.fsync(out.fileno())
    download_s = time.perf_counter() - began
    assert target.stat().st_size == source.stat().st_size
    target.unlink()
    client.delete(f"{url}/v2/images/{created['id']}", headers=headers)
    return upload_s, download_s


if __name__ == "__main__":
    main()
