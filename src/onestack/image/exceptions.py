"""Image errors, each with Glance's status and message."""

from __future__ import annotations

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OneStackError,
    OverQuota,
    ServiceUnavailable,
)


class ImageNotFound(NotFound):
    msg_fmt = "No image found with ID {image_id}"


class MemberNotFound(NotFound):
    msg_fmt = "{member_id} is not a member of image {image_id}"


class TagNotFound(NotFound):
    msg_fmt = "Tag {tag} not found"


class ReadOnlyAttribute(Forbidden):
    msg_fmt = "Attribute '{name}' is read-only."


class ReservedAttribute(Forbidden):
    msg_fmt = "Attribute '{name}' is reserved."


class ImageProtected(Forbidden):
    msg_fmt = "Image {image_id} is protected and cannot be deleted."


class DuplicateImage(Conflict):
    msg_fmt = "An image with identifier {image_id} already exists"


class InvalidStatus(Conflict):
    msg_fmt = "Image status transition from {current} to {wanted} is not allowed"


class ImageDataInvalid(BadRequest):
    """The uploaded bytes contradict what the image declares (format, size, hash)."""

    msg_fmt = "{reason}"


class ImageQuotaExceeded(OverQuota):
    msg_fmt = (
        "The request returned a 413 Request Entity Too Large. This generally means that "
        "rate limiting or a quota threshold was breached. {resource} is over its limit "
        "of {limit} (in use {used}, requested {requested})."
    )


class LimitExceeded(OverQuota):
    msg_fmt = "{reason}"


class ImageGone(OneStackError):
    code = 410
    title = "Gone"
    msg_fmt = (
        "Image {image_id} could not be found after upload. "
        "The image may have been deleted during the upload."
    )


class StoreNotFound(BadRequest):
    """An upload names a store this cloud does not have."""

    msg_fmt = "Store for identifier {store} not found"


class StoreNotAvailable(Conflict):
    """An import, copy or store deletion names a store that is unknown or disabled."""

    msg_fmt = "The selected store {store} is not available on this node."


class ImageNotInStore(NotFound):
    msg_fmt = "Image {image_id} is not present in store {store}."


class LastStore(Forbidden):
    msg_fmt = (
        "Cannot delete image data from the only store containing it. "
        "Consider deleting the image instead."
    )


class AlreadyInStore(BadRequest):
    msg_fmt = "Image is already present at store '{store}'"


class ImageCorrupt(ServiceUnavailable):
    """Every copy of the data contradicts the hash recorded at upload."""

    msg_fmt = "Corrupt image download. Hash was {actual} expected {expected}"
