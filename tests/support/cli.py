"""The ``openstack`` CLI run in the test process (python-openstackclient's shell).

In-process runs cost a fraction of a subprocess each, so a test can go through every
verb of a client plugin; user stories still run the CLI as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from typing import Any

from tests.support.server import RunningCloud


def _forget_plugin_clients() -> None:
    """Drop the client handles the CLI keeps for its plugins (heat, metric, alarming).

    python-openstackclient hangs each plugin's client on osc-lib's ClientManager *class*,
    made once per process: without this, a second cloud in the same test process
    would be sent to the first cloud's endpoints with the first cloud's token.
    """
    from osc_lib.clientmanager import ClientCache, ClientManager

    for attribute in vars(ClientManager).values():
        if isinstance(attribute, ClientCache):
            attribute._handle = None


class Cli:
    """The ``openstack`` CLI run in this process (python-openstackclient's shell)."""

    def __init__(self, cloud: RunningCloud) -> None:
        self.cloud = cloud

    def __call__(self, *args: str, cloud_name: str = "onestack", check: bool = True) -> str:
        from openstackclient import shell

        _forget_plugin_clients()
        out, err = io.StringIO(), io.StringIO()
        previous = os.environ.get("OS_CLIENT_CONFIG_FILE")
        os.environ["OS_CLIENT_CONFIG_FILE"] = str(self.cloud.clouds_yaml)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = shell.main(["--os-cloud", cloud_name, *args])
        finally:
            if previous is None:
                os.environ.pop("OS_CLIENT_CONFIG_FILE", None)
            else:
                os.environ["OS_CLIENT_CONFIG_FILE"] = previous
        if check:
            assert code == 0, f"openstack {' '.join(args)} failed ({code}): {err.getvalue()}"
        elif code == 0:
            raise AssertionError(f"openstack {' '.join(args)} succeeded: {out.getvalue()}")
        return out.getvalue() if code == 0 else err.getvalue()

    def json(self, *args: str, cloud_name: str = "onestack") -> Any:
        return json.loads(self(*args, "-f", "json", cloud_name=cloud_name))
