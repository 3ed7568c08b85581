"""Image service throughput: upload and download of a 1 GiB image.

Starts a real ``onestack up`` in a temporary state directory, then measures,
on the same disk and in the same run:

- a plain file copy (read + write + fsync) of the image, the baseline;
- ``PUT /v2/images/{id}/file`` streamed from the file (server: MD5 + SHA-512
  + format inspection + write + fsync);
- ``GET /v2/images/{id}/file`` streamed to a file.

Prints MiB/s and the ratio to the plain copy.  Usage:
``python bench/image.py [--size-mib 1024]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-image-") as work:
        base = Path(work)
        source = base / "image.raw"
        make_file(source, args.size_mib)
        cloud = new_cloud(base).start(timeout=120)
        try:
            conn = cloud.connect("admin", "admin")
            token = conn.session.get_token()
            url = cloud.url("image")
            headers = {"X-Auth-Token": token}
            copy_s = plain_copy(source, base / "copy.raw")
            (base / "copy.raw").unlink()
            with httpx.Client(timeout=600) as client:
                created = client.post(
                    f"{url}/v2/images",
                    headers=headers,
                    json={"name": "bench", "disk_format": "raw", "container_format": "bare"},
                ).json()

                def chunks() -> object:
                    with open(source, "rb") as handle:
                        while piece := handle.read(CHUNK):
                            yield piece

                began = time.perf_counter()
                response = client.put(
                    f"{url}/v2/images/{created['id']}/file",
                    headers={**headers, "Content-Type": "application/octet-stream"},
                    content=chunks(),
                )
                upload_s = time.perf_counter() - began
                assert response.status_code == 204, response.text
                target = base / "download.raw"
                began = time.perf_counter()
                with (
                    client.stream(
                        "GET", f"{url}/v2/images/{created['id']}/file", headers=headers
                    ) as stream,
                    open(target, "wb") as out,
                ):
                    for piece in stream.iter_bytes(CHUNK):
                        out.write(piece)
                    out.flush()
                    os.fsync(out.fileno())
                download_s = time.perf_counter() - began
                assert target.stat().st_size == source.stat().st_size
        finally:
            cloud.stop()
    size = args.size_mib
    print(f"image size: {size} MiB")
    print(f"plain copy (read+write+fsync): {copy_s:6.2f} s  {size / copy_s:7.1f} MiB/s")
    for label, seconds in (("upload (PUT /file)", upload_s), ("download (GET /file)", download_s)):
        print(
            f"{label:<30} {seconds:6.2f} s  {size / seconds:7.1f} MiB/s  "
            f"ratio to copy {copy_s / seconds:5.2f}"
        )


if __name__ == "__main__":
    main()
