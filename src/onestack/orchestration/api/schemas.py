"""Request shapes of the orchestration API.

Heat's bodies are free-form documents (templates, environments and files are
themselves documents); the managers check them field by field with Heat's
messages (``stacks.StackManager.parse``), so this module only names the fields a
stack request may carry.
"""

from __future__ import annotations

STACK_CREATE_FIELDS = (
    "stack_name",
    "template",
    "template_url",
    "parameters",
    "environment",
    "environment_files",
    "files",
    "disable_rollback",
    "timeout_mins",
    "tags",
    "adopt_stack_data",
)
STACK_UPDATE_FIELDS = (
    "template",
    "template_url",
    "parameters",
    "environment",
    "environment_files",
    "files",
    "disable_rollback",
    "timeout_mins",
    "tags",
    "clear_parameters",
    "existing",
    "converge",
)
