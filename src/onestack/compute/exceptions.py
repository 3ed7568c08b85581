"""Compute errors, each with Nova's message and status."""

from __future__ import annotations

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    NotSupported,
    OneStackError,
    OverQuota,
)


class InstanceNotFound(NotFound):
    msg_fmt = "Instance {instance_id} could not be found."


class FlavorNotFound(NotFound):
    msg_fmt = "Flavor {flavor_id} could not be found."


class FlavorAccessNotFound(NotFound):
    msg_fmt = "Flavor access not found for {flavor_id} / {project_id} combination."


class FlavorExtraSpecNotFound(NotFound):
    msg_fmt = "Flavor {flavor_id} has no extra specs with key {key}."


class KeypairNotFound(NotFound):
    msg_fmt = "Keypair {name} not found for user {user_id}"


class ServerGroupNotFound(NotFound):
    msg_fmt = "Instance group {group_id} could not be found."


class ActionNotFound(NotFound):
    msg_fmt = "Action {request_id} not found"


class ServiceNotFound(NotFound):
    msg_fmt = "Service {service_id} could not be found."


class ComputeHostNotFound(NotFound):
    msg_fmt = "Compute host {host} could not be found."


class HypervisorNotFound(NotFound):
    msg_fmt = "Hypervisor with ID '{hypervisor_id}' could not be found."


class MetadataItemNotFound(NotFound):
    msg_fmt = "Metadata item was not found"


class TagNotFound(NotFound):
    msg_fmt = "Tag {tag} could not be found."


class VolumeBDMNotFound(NotFound):
    msg_fmt = "Instance {instance_id} is not attached to volume {volume_id}"


class InvalidBDM(BadRequest):
    msg_fmt = "Block Device Mapping is Invalid: {details}"


class InvalidDevicePath(BadRequest):
    msg_fmt = "The supplied device path ({path}) is invalid."


class MultiattachOldMicroversion(BadRequest):
    msg_fmt = "Multiattach volumes are only supported starting with compute API version 2.60."


class ImageNotFoundForServer(BadRequest):
    msg_fmt = "Can not find requested image"


class FlavorNotFoundForServer(BadRequest):
    msg_fmt = "Flavor {flavor_id} could not be found."


class FlavorTooSmall(BadRequest):
    msg_fmt = "{what} is too small for requested image."


class InvalidState(Conflict):
    msg_fmt = "Cannot '{action}' instance {instance_id} while it is in {attr} {state}"


class InstanceLocked(Conflict):
    msg_fmt = "Instance {instance_id} is locked"


class DuplicateFlavor(Conflict):
    msg_fmt = "Flavor with {field} {value} already exists."


class DuplicateKeypair(Conflict):
    msg_fmt = "Key pair '{name}' already exists."


class DuplicateAccess(Conflict):
    msg_fmt = (
        "Flavor access already exists for flavor {flavor_id} and project {project_id} combination."
    )


class KeypairQuotaExceeded(Forbidden):
    fault_name = "overLimit"
    msg_fmt = "Quota exceeded, too many key pairs."


class QuotaExceeded(OverQuota):
    """403, as Nova answers an exceeded quota, in an ``overLimit`` body."""

    code = 403
    title = "Forbidden"
    fault_name = "overLimit"
    msg_fmt = (
        "Quota exceeded for {resource}: Requested {requested}, but already used {used} "
        "of {limit} {resource}"
    )


class NoValidHost(OneStackError):
    code = 500
    title = "No Valid Host"
    msg_fmt = "No valid host was found. {reason}"


class DriverNotSupported(NotSupported):
    msg_fmt = "{operation} is not supported by the {driver} compute driver."


class DriverError(OneStackError):
    """A driver operation failed on the host; the message says what."""

    code = 500
    title = "Compute Error"
    msg_fmt = "{reason}"


class ImageDataInvalid(OneStackError):
    """An image's bytes did not arrive as the image service describes them."""

    code = 500
    title = "Compute Error"
    msg_fmt = "The data of image {image_id} is not valid: {reason}"


class ConsoleTypeUnavailable(BadRequest):
    msg_fmt = "Unavailable console type {console_type}."
