"""Image statuses and the transitions between them (Glance's status machine).

::

    queued --upload--> saving --ok--> active <--> deactivated
      ^                  |  failure (bad data, disconnect): back to queued
      +------------------+
    queued --stage--> uploading --import--> importing --> active
    any --delete--> deleted (the record is gone)

``killed`` is kept for compatibility with Glance's vocabulary: onestack puts a
failed upload back to ``queued`` (as Glance does since Liberty) so that the
client can simply retry.
"""

from __future__ import annotations

QUEUED = "queued"
SAVING = "saving"
UPLOADING = "uploading"
IMPORTING = "importing"
ACTIVE = "active"
KILLED = "killed"
DEACTIVATED = "deactivated"
PENDING_DELETE = "pending_delete"
DELETED = "deleted"

ALL = (QUEUED, SAVING, UPLOADING, IMPORTING, ACTIVE, KILLED, DEACTIVATED, PENDING_DELETE, DELETED)

#: statuses in which an image holds data in the store
HAS_DATA = (ACTIVE, DEACTIVATED)

VISIBILITIES = ("public", "private", "shared", "community")
MEMBER_STATUSES = ("pending", "accepted", "rejected")

DISK_FORMATS = ("ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop")
CONTAINER_FORMATS = ("ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed")
