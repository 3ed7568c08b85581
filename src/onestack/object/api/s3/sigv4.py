"""AWS Signature Version 4, checked against the identity service's EC2 credentials.

Both forms are accepted: the ``Authorization: AWS4-HMAC-SHA256 Credential=...,
SignedHeaders=..., Signature=...`` header and presigned URLs (``X-Amz-*``
query parameters, with ``X-Amz-Expires``).  The canonical request is built
from the path exactly as sent, the sorted re-encoded query, the signed
headers and the payload hash the client declared (``x-amz-content-sha256``;
a hex digest is verified against the body while it streams, see
``payload``).  Streaming uploads (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``,
aws-chunked framing) carry a signature per chunk, chained from the request's
own signature; each chunk is checked before any of its bytes are passed on,
as is the signature of the trailing headers in the ``-TRAILER`` variant.
SigV2 is in ``sigv2``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from starlette.requests import Request

from onestack.object.exceptions import S3Error

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_PREFIX = "STREAMING-"
SIGNED_CHUNKS = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_CHUNKS_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = 15 * 60
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-fA-F]+)"
)


@dataclass(frozen=True)
class SignedRequest:
    access_key: str
    scope_date: str
    region: str
    service: str
    amz_date: str
    signed_headers: list[str]
    signature: str
    payload_hash: str
    presigned: bool
    expires: int | None = None

    @property
    def scope(self) -> str:
        return f"{self.scope_date}/{self.region}/{self.service}/aws4_request"


def _uri_encode(value: str) -> str:
    return quote(value, safe="-_.~")


def _raw_query_pairs(request: Request) -> list[tuple[str, str]]:
    raw = request.scope.get("query_string", b"").decode("latin-1")
    pairs = []
    for item in raw.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append((unquote(key.replace("+", "%20")), unquote(value.replace("+", "%20"))))
    return pairs


def parse(request: Request) -> SignedRequest | None:
    """The request's SigV4 parameters, or None when it is anonymous."""
    header = request.headers.get("authorization")
    query = dict(_raw_query_pairs(request))
    if header:
        match = _AUTH.match(header.strip())
        if match is None:
            raise S3Error("AuthorizationHeaderMalformed", "The authorization header is malformed.")
        cred = match["cred"]
        signed = match["signed"].split(";")
        signature = match["sig"].lower()
        amz_date = request.headers.get("x-amz-date") or ""
        payload = request.headers.get("x-amz-content-sha256") or UNSIGNED
        presigned = False
        expires = None
    elif query.get("X-Amz-Algorithm"):
        if query["X-Amz-Algorithm"] != ALGORITHM:
            raise S3Error("AuthorizationQueryParametersError", "Unsupported X-Amz-Algorithm.")
        try:
            cred = query["X-Amz-Credential"]
            signed = query["X-Amz-SignedHeaders"].split(";")
            signature = query["X-Amz-Signature"].lower()
            amz_date = query["X-Amz-Date"]
            expires = int(query["X-Amz-Expires"])
        except (KeyError, ValueError):
            raise S3Error(
                "AuthorizationQueryParametersError", "Presigned URL parameters are incomplete."
            ) from None
        payload = UNSIGNED
        presigned = True
    else:
        return None
    parts = cred.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise S3Error("AuthorizationHeaderMalformed", f"Malformed credential {cred!r}.")
    return SignedRequest(
        access_key=parts[0],
        scope_date=parts[1],
        region=parts[2],
        service=parts[3],
        amz_date=amz_date,
        signed_headers=[h.lower() for h in signed],
        signature=signature,
        payload_hash=payload,
        presigned=presigned,
        expires=expires,
    )


def canonical_request(request: Request, signed: SignedRequest) -> str:
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    uri = path.decode("latin-1").split("?", 1)[0] or "/"
    pairs = [
        (k, v)
        for k, v in _raw_query_pairs(request)
        if not (signed.presigned and k == "X-Amz-Signature")
    ]
    query = "&".join(
        f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in sorted(pairs, key=lambda p: (p[0], p[1]))
    )
    headers = []
    for name in signed.signed_headers:
        values = request.headers.getlist(name)
        value = ",".join(" ".join(v.strip().split()) for v in values)
        headers.append(f"{name}:{value}\n")
    return "\n".join(
        [
            request.method,
            uri,
            query,
            "".join(headers),
            ";".join(signed.signed_headers),
            signed.payload_hash,
        ]
    )


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


@dataclass
class ChunkSigner:
    """The chain of signatures of an aws-chunked body, seeded by the request's."""

    key: bytes
    amz_date: str
    scope: str
    previous: str

    def check(self, kind: str, digest: str, signature: str | None) -> None:
        """Verify the next signature in the chain (``kind``: PAYLOAD or TRAILER)."""
        parts = [f"{ALGORITHM}-{kind}", self.amz_date, self.scope, self.previous]
        if kind == "PAYLOAD":
            parts.append(_EMPTY_SHA256)
        parts.append(digest)
        expected = hmac.new(self.key, "\n".join(parts).encode(), hashlib.sha256).hexdigest()
        if signature is None or not hmac.compare_digest(expected, signature.lower()):
            raise S3Error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            )
        self.previous = expected


def verify(
    request: Request, signed: SignedRequest, secret: str, now: datetime | None = None
) -> ChunkSigner | None:
    """Raise SignatureDoesNotMatch, RequestTimeTooSkewed or AccessDenied (expired).

    Returns the signer of the body's chunks when the payload is signed per chunk.
    """
    now = now or datetime.now(UTC)
    try:
        when = datetime.strptime(signed.amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise S3Error("AccessDenied", "The request has no valid X-Amz-Date.") from None
    if signed.presigned:
        assert signed.expires is not None
        if not 1 <= signed.expires <= 604800:
            raise S3Error("AuthorizationQueryParametersError", "X-Amz-Expires must be 1-604800.")
        if (now - when).total_seconds() > signed.expires:
            raise S3Error("AccessDenied", "Request has expired")
    elif abs((now - when).total_seconds()) > MAX_SKEW:
        raise S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
    if "host" not in signed.signed_headers:
        raise S3Error("AccessDenied", "The host header must be signed.")
    canonical = canonical_request(request, signed)
    to_sign = "\n".join(
        [
            ALGORITHM,
            signed.amz_date,
            signed.scope,
            hashlib.sha256(canonical.encode()).hexdigest(),
        ]
    )
    key = signing_key(secret, signed.scope_date, signed.region, signed.service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signed.signature):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    if signed.payload_hash in (SIGNED_CHUNKS, SIGNED_CHUNKS_TRAILER):
        return ChunkSigner(key, signed.amz_date, signed.scope, signed.signature)
    return None


async def payload(
    request: Request, payload_hash: str | None, signer: ChunkSigner | None = None
) -> AsyncIterator[bytes]:
    """The request body, decoded from aws-chunked framing and checked against its hash
    (or, with ``signer``, against each chunk's signature)."""
    source = request.stream()
    if payload_hash and payload_hash.startswith(STREAMING_PREFIX):
        if payload_hash in (SIGNED_CHUNKS, SIGNED_CHUNKS_TRAILER) and signer is None:
            raise S3Error("AccessDenied", "A signed aws-chunked body needs a SigV4 signature.")
        async for chunk in _dechunk(source, signer):
            yield chunk
        return
    digest = hashlib.sha256() if payload_hash and payload_hash != UNSIGNED else None
    async for chunk in source:
        if digest is not None:
            digest.update(chunk)
        if chunk:
            yield chunk
    if digest is not None and digest.hexdigest() != payload_hash:
        raise S3Error(
            "XAmzContentSHA256Mismatch",
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )


async def _dechunk(
    source: AsyncIterator[bytes], signer: ChunkSigner | None
) -> AsyncIterator[bytes]:
    buffer = bytearray()
    iterator = source.__aiter__()

    async def fill() -> bool:
        try:
            buffer.extend(await iterator.__anext__())
            return True
        except StopAsyncIteration:
            return False

    async def line() -> bytes:
        while b"\r\n" not in buffer:
            if not await fill():
                raise S3Error("IncompleteBody", "The aws-chunked body ended early.")
        text, _, _rest = bytes(buffer).partition(b"\r\n")
        del buffer[: len(text) + 2]
        return text

    while True:
        size_text, _, extension = (await line()).partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise S3Error("InvalidRequest", "Malformed aws-chunked body.") from None
        while len(buffer) < size + 2:
            if not await fill():
                raise S3Error("IncompleteBody", "The aws-chunked body ended early.")
        data = bytes(buffer[:size])
        if size and buffer[size : size + 2] != b"\r\n":
            raise S3Error("InvalidRequest", "Malformed aws-chunked body.")
        if signer is not None:
            name, _, signature = extension.decode("latin-1").partition("=")
            signer.check(
                "PAYLOAD",
                hashlib.sha256(data).hexdigest(),
                signature.strip() if name.strip() == "chunk-signature" else None,
            )
        if size == 0:
            break
        del buffer[: size + 2]
        yield data
    # trailing headers (checksums), then an empty line; signed in the -TRAILER variant
    trailers: list[str] = []
    trailer_signature = None
    while buffer or await fill():
        text = (await line()).decode("latin-1")
        if not text:
            break
        name, _, value = text.partition(":")
        if name.strip().lower() == "x-amz-trailer-signature":
            trailer_signature = value.strip()
        else:
            trailers.append(f"{name.strip().lower()}:{value.strip()}\n")
    if signer is not None and trailers:
        signer.check(
            "TRAILER", hashlib.sha256("".join(trailers).encode()).hexdigest(), trailer_signature
        )
