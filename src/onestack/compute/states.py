"""Nova's vm_state, task_state and power_state, and the status the API shows.

The API status of a server is derived from (vm_state, task_state) exactly as
Nova's ``_STATE_MAP``; every action names the vm_states it is allowed from
(``ALLOWED``), and a request in any other state is a 409.
"""

from __future__ import annotations

import enum

# vm_states
ACTIVE = "active"
BUILDING = "building"
PAUSED = "paused"
SUSPENDED = "suspended"
STOPPED = "stopped"
RESCUED = "rescued"
RESIZED = "resized"
SOFT_DELETED = "soft-delete"
DELETED = "deleted"
ERROR = "error"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# task_states
SCHEDULING = "scheduling"
NETWORKING = "networking"
SPAWNING = "spawning"
IMAGE_SNAPSHOT = "image_snapshot"
IMAGE_UPLOADING = "image_uploading"
IMAGE_BACKUP = "image_backup"
DELETING = "deleting"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
REBUILDING = "rebuilding"
REBUILD_SPAWNING = "rebuild_spawning"
RESIZE_PREP = "resize_prep"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
RESCUING = "rescuing"
SHELVING = "shelving"
SHELVING_IMAGE_UPLOADING = "shelving_image_uploading"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
UNRESCUING = "unrescuing"


class PowerState(enum.IntEnum):
    """What the hypervisor says of an instance (Nova's ``power_state`` values).

    Stored and shown as the integer (``OS-EXT-STS:power_state``).
    """

    NOSTATE = 0
    RUNNING = 1
    PAUSED = 3
    SHUTDOWN = 4
    CRASHED = 6
    SUSPENDED = 7

    @property
    def label(self) -> str:
        """Nova's display name (``Running``, ``Shutdown``; ``NOSTATE`` unchanged)."""
        return "NOSTATE" if self is PowerState.NOSTATE else self.name.capitalize()

    @classmethod
    def of(cls, value: int | None) -> PowerState:
        """The state for a stored integer; unknown values are NOSTATE."""
        try:
            return cls(value or 0)
        except ValueError:
            return cls.NOSTATE


_DEFAULT = "default"
_STATE_MAP: dict[str, dict[str | None, str]] = {
    ACTIVE: {
        _DEFAULT: "ACTIVE",
        REBOOTING: "REBOOT",
        REBOOTING_HARD: "HARD_REBOOT",
        REBUILDING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
        RESIZE_PREP: "RESIZE",
        RESIZE_FINISH: "RESIZE",
    },
    BUILDING: {_DEFAULT: "BUILD"},
    STOPPED: {
        _DEFAULT: "SHUTOFF",
        RESIZE_PREP: "RESIZE",
        RESIZE_FINISH: "RESIZE",
        REBUILDING: "REBUILD",
        REBUILD_SPAWNING: "REBUILD",
    },
    RESIZED: {_DEFAULT: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {_DEFAULT: "PAUSED", REBOOTING_HARD: "HARD_REBOOT"},
    SUSPENDED: {_DEFAULT: "SUSPENDED", REBOOTING_HARD: "HARD_REBOOT"},
    RESCUED: {_DEFAULT: "RESCUE"},
    ERROR: {_DEFAULT: "ERROR", REBUILDING: "REBUILD", REBUILD_SPAWNING: "REBUILD"},
    DELETED: {_DEFAULT: "DELETED"},
    SOFT_DELETED: {_DEFAULT: "SOFT_DELETED"},
    SHELVED: {_DEFAULT: "SHELVED"},
    SHELVED_OFFLOADED: {_DEFAULT: "SHELVED_OFFLOADED"},
}


def status(vm_state: str, task_state: str | None) -> str:
    """The API's ``status`` for a (vm_state, task_state) pair."""
    by_task = _STATE_MAP.get(vm_state, {_DEFAULT: "UNKNOWN"})
    return by_task.get(task_state, by_task[_DEFAULT])


def vm_states_for_status(name: str) -> list[str]:
    """The vm_states a ``status`` list filter selects (Nova's states_from_status)."""
    name = name.upper()
    return [vm for vm, tasks in _STATE_MAP.items() if tasks[_DEFAULT] == name]


KNOWN_STATUSES = frozenset(v for tasks in _STATE_MAP.values() for v in tasks.values()) | {"UNKNOWN"}

#: The vm_states each action may start from (task_state must be None unless noted).
ALLOWED: dict[str, tuple[str, ...]] = {
    "stop": (ACTIVE, RESIZED, ERROR),
    "start": (STOPPED,),
    "reboot": (ACTIVE, STOPPED, PAUSED, SUSPENDED, ERROR),
    "pause": (ACTIVE,),
    "unpause": (PAUSED,),
    "suspend": (ACTIVE,),
    "resume": (SUSPENDED,),
    "rebuild": (ACTIVE, STOPPED, ERROR),
    "resize": (ACTIVE, STOPPED),
    "confirmResize": (RESIZED,),
    "revertResize": (RESIZED,),
    "createImage": (ACTIVE, STOPPED, PAUSED, SUSPENDED),
    "createBackup": (ACTIVE, STOPPED, PAUSED, SUSPENDED),
    "rescue": (ACTIVE, STOPPED, ERROR),
    "unrescue": (RESCUED,),
    "shelve": (ACTIVE, STOPPED, PAUSED, SUSPENDED),
    "shelveOffload": (SHELVED,),
    "unshelve": (SHELVED, SHELVED_OFFLOADED),
}

#: The task_state an action sets while the agent works.
TASK_OF: dict[str, str] = {
    "stop": POWERING_OFF,
    "start": POWERING_ON,
    "pause": PAUSING,
    "unpause": UNPAUSING,
    "suspend": SUSPENDING,
    "resume": RESUMING,
    "rebuild": REBUILDING,
    "resize": RESIZE_PREP,
    "confirmResize": RESIZE_CONFIRMING,
    "revertResize": RESIZE_REVERTING,
    "createImage": IMAGE_SNAPSHOT,
    "createBackup": IMAGE_BACKUP,
    "rescue": RESCUING,
    "unrescue": UNRESCUING,
    "shelve": SHELVING,
    "shelveOffload": SHELVING_OFFLOADING,
    "unshelve": UNSHELVING,
}

#: Instance action names (os-instance-actions) per server action.
ACTION_NAME: dict[str, str] = {
    "stop": "stop",
    "start": "start",
    "reboot": "reboot",
    "pause": "pause",
    "unpause": "unpause",
    "suspend": "suspend",
    "resume": "resume",
    "rebuild": "rebuild",
    "resize": "resize",
    "confirmResize": "confirmResize",
    "revertResize": "revertResize",
    "createImage": "createImage",
    "createBackup": "createBackup",
    "lock": "lock",
    "unlock": "unlock",
    "rescue": "rescue",
    "unrescue": "unrescue",
    "shelve": "shelve",
    "shelveOffload": "shelveOffload",
    "unshelve": "unshelve",
}
