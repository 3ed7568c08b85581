"""The volume service's errors, with Cinder's messages and status codes.

Cinder renders each as ``{"<fault>": {"code": N, "message": "..."}}``
(``badRequest``, ``itemNotFound``, ``overLimit``, ...): ErrorStyle.NOVA.
"""

from __future__ import annotations

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    OneStackError,
    OverQuota,
    ServiceUnavailable,
)


class VolumeNotFound(NotFound):
    msg_fmt = "Volume {volume_id} could not be found."


class SnapshotNotFound(NotFound):
    msg_fmt = "Snapshot {snapshot_id} could not be found."


class BackupNotFound(NotFound):
    msg_fmt = "Backup {backup_id} could not be found."


class VolumeTypeNotFound(NotFound):
    msg_fmt = "Volume type {volume_type_id} could not be found."


class VolumeTypeNotFoundByName(NotFound):
    msg_fmt = "Volume type with name {volume_type_name} could not be found."


class VolumeTypeExtraSpecsNotFound(NotFound):
    msg_fmt = "Volume Type {volume_type_id} has no extra specs with key {extra_specs_key}."


class VolumeTypeAccessNotFound(NotFound):
    msg_fmt = "Volume type access not found for {volume_type_id} / {project_id} combination."


class QoSSpecsNotFound(NotFound):
    msg_fmt = "No such QoS spec {specs_id}."


class QoSSpecsKeyNotFound(NotFound):
    msg_fmt = "QoS spec {specs_id} has no spec with key {specs_key}."


class VolumeTypeEncryptionNotFound(NotFound):
    msg_fmt = "Volume type encryption for type {type_id} does not exist."


class HostNotFound(NotFound):
    msg_fmt = "Host {host} could not be found."


class AttachmentNotFound(NotFound):
    msg_fmt = "Volume attachment could not be found with filter: attachment_id = {attachment_id}."


class TransferNotFound(NotFound):
    msg_fmt = "Transfer {transfer_id} could not be found."


class MetadataNotFound(NotFound):
    msg_fmt = "Metadata item was not found for key {key}."


class ServiceNotFound(NotFound):
    msg_fmt = "Service {service_id} could not be found."


class InvalidInput(BadRequest):
    msg_fmt = "Invalid input received: {reason}"


class InvalidVolume(BadRequest):
    msg_fmt = "Invalid volume: {reason}"


class InvalidSnapshot(BadRequest):
    msg_fmt = "Invalid snapshot: {reason}"


class InvalidBackup(BadRequest):
    msg_fmt = "Invalid backup: {reason}"


class InvalidVolumeType(BadRequest):
    msg_fmt = "Invalid volume type: {reason}"


class InvalidAttachment(BadRequest):
    msg_fmt = "Invalid attachment: {reason}"


class InvalidAuthKey(BadRequest):
    msg_fmt = "Invalid auth key: {reason}"


class UnknownQuotaKey(BadRequest):
    msg_fmt = "Bad key(s) in quota set: {key}"


class InvalidQuotaValue(BadRequest):
    msg_fmt = "Quota limit {value} for {name} must be an integer >= -1."


class VolumeTypeInUse(BadRequest):
    msg_fmt = (
        "Volume Type {volume_type_id} deletion is not allowed with volumes present with the type."
    )


class InvalidQoSSpecs(BadRequest):
    msg_fmt = "Invalid QoS specs: {reason}"


class QoSSpecsInUse(BadRequest):
    msg_fmt = "QoS Specs {specs_id} is still associated with entities."


class VolumeTypeEncryptionExists(BadRequest):
    msg_fmt = "Volume type encryption for type {type_id} already exists."


class QoSSpecsExists(Conflict):
    msg_fmt = "QoS Specs {specs_id} already exists."


class VolumeTypeExists(Conflict):
    msg_fmt = "Volume Type {id} already exists."


class VolumeTypeAccessExists(Conflict):
    msg_fmt = "Volume type access for {volume_type_id} / {project_id} combination already exists."


class TransferExists(Conflict):
    msg_fmt = "Volume {volume_id} already has a transfer."


class VolumeOverQuota(OverQuota):
    """Cinder's VolumeSizeExceedsAvailableQuota / *LimitExceeded (413 overLimit)."""

    title = "Request Entity Too Large"

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        resource = str(kwargs.get("resource", ""))
        requested, used, limit = kwargs.get("requested"), kwargs.get("used"), kwargs.get("limit")
        if message is None:
            if resource == "backup_gigabytes" or resource.split("_")[0] == "gigabytes":
                what = "backup" if resource == "backup_gigabytes" else "volume or snapshot"
                message = (
                    f"Requested {what} exceeds allowed {resource} quota. Requested "
                    f"{requested}G, quota is {limit}G and {used}G has been consumed."
                )
            elif resource == "per_volume_gigabytes":
                message = (
                    f"Requested volume size {requested}G is larger than maximum allowed "
                    f"limit {limit}G."
                )
            else:
                kind = {"volumes": "volumes", "snapshots": "snapshots", "backups": "backups"}
                message = (
                    f"Maximum number of {kind.get(resource.split('_')[0], resource)} allowed "
                    f"({limit}) "
                    f"exceeded for quota '{resource}'."
                )
        super().__init__(message, **kwargs)


class CommandFailed(OneStackError):
    """A host tool a backend runs (losetup, cp, qemu-img, mkfs, mount) failed."""

    code = 500
    msg_fmt = "{command} failed: {stderr}"


class BackupStoreUnavailable(ServiceUnavailable):
    msg_fmt = "The backup store is unavailable: {reason}"
