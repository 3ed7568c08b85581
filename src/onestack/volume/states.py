"""Statuses as Cinder reports them, and which operations each allows."""

from __future__ import annotations

# volume status
CREATING = "creating"
AVAILABLE = "available"
RESERVED = "reserved"
ATTACHING = "attaching"
IN_USE = "in-use"
DETACHING = "detaching"
EXTENDING = "extending"
BACKING_UP = "backing-up"
RESTORING = "restoring-backup"
UPLOADING = "uploading"
DELETING = "deleting"
ERROR = "error"
ERROR_DELETING = "error_deleting"
ERROR_EXTENDING = "error_extending"
ERROR_RESTORING = "error_restoring"
AWAITING_TRANSFER = "awaiting-transfer"

VOLUME_STATUSES = frozenset(
    {
        CREATING,
        AVAILABLE,
        RESERVED,
        ATTACHING,
        IN_USE,
        DETACHING,
        EXTENDING,
        BACKING_UP,
        RESTORING,
        UPLOADING,
        DELETING,
        ERROR,
        ERROR_DELETING,
        ERROR_EXTENDING,
        ERROR_RESTORING,
        AWAITING_TRANSFER,
        "downloading",
        "maintenance",
    }
)

#: a volume may be deleted (without force) only in these
DELETABLE = frozenset({AVAILABLE, ERROR, ERROR_RESTORING, ERROR_EXTENDING})
#: ... and force-deleted (admin) in any status but these
NOT_FORCE_DELETABLE = frozenset({DELETING})
#: a new attachment may be reserved in these (in-use only when multiattach)
ATTACHABLE = frozenset({AVAILABLE, "downloading"})

# attach_status of the volume and of an attachment
DETACHED = "detached"
ATTACHED = "attached"
ATTACHMENT_RESERVED = "reserved"
ATTACHMENT_ATTACHING = "attaching"
ATTACHMENT_DETACHING = "detaching"
ATTACHMENT_ERROR = "error_attaching"
ATTACH_STATUSES = frozenset(
    {DETACHED, ATTACHED, ATTACHMENT_RESERVED, ATTACHMENT_ATTACHING, ATTACHMENT_DETACHING}
)

# snapshot status
SNAPSHOT_STATUSES = frozenset(
    {CREATING, AVAILABLE, DELETING, ERROR, ERROR_DELETING, "backing-up", "restoring"}
)

# backup status
BACKUP_STATUSES = frozenset({CREATING, AVAILABLE, DELETING, ERROR, "restoring"})
BACKUP_RESTORING = "restoring"
