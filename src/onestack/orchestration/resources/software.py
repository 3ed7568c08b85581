"""Software configuration resources: SoftwareConfig, CloudConfig, MultipartMime.

Each stores an immutable software config (the orchestration service's own
``/software_configs``); its physical id is the config's id, which a server's
``user_data`` (``user_data_format: SOFTWARE_CONFIG``) or a MultipartMime part
names.
"""

from __future__ import annotations

import asyncio
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from typing import Any

import yaml

from onestack.orchestration.exceptions import ResourceFailure
from onestack.orchestration.resources.base import Prop, Resource

_IO = Prop("list", schema={"*": Prop("map", schema={"*": Prop("any")})})


class SoftwareConfig(Resource):
    type_name = "OS::Heat::SoftwareConfig"
    description = "An immutable software configuration."
    properties_schema = {
        "group": Prop(
            "string", "Namespace of the tool that applies the config.", default="Heat::Ungrouped"
        ),
        "config": Prop("string", "The configuration script or data.", default=""),
        "options": Prop("map", "Options of the group's tool."),
        "inputs": Prop("list", "Inputs of the config.", schema={"*": Prop("map")}),
        "outputs": Prop("list", "Outputs of the config.", schema={"*": Prop("map")}),
    }
    attributes_schema = {"config": "The config value."}

    def config_body(self) -> dict[str, Any]:
        return {
            "name": self.physical_name(),
            "group": self.properties.get("group") or "Heat::Ungrouped",
            "config": self.properties.get("config") or "",
            "options": self.properties.get("options"),
            "inputs": self.properties.get("inputs") or [],
            "outputs": self.properties.get("outputs") or [],
        }

    async def create(self) -> None:
        software = self.stack.engine.software
        if software is None:
            raise ResourceFailure("Software configs are not available.")
        row = await asyncio.to_thread(
            software.store_config, self.stack.project_id, self.config_body()
        )
        self.physical_id = row

    async def delete(self) -> None:
        software = self.stack.engine.software
        if software is not None and self.physical_id:
            await asyncio.to_thread(software.drop_config, self.physical_id)

    async def refresh(self) -> None:
        self.attrs["config"] = self.config_body()["config"]


class CloudConfig(SoftwareConfig):
    type_name = "OS::Heat::CloudConfig"
    description = "A cloud-config document as a software config."
    properties_schema = {"cloud_config": Prop("map", "The cloud-config data.", default={})}

    def config_body(self) -> dict[str, Any]:
        text = "#cloud-config\n" + yaml.safe_dump(
            self.properties.get("cloud_config") or {}, default_flow_style=False
        )
        return {
            "name": self.physical_name(),
            "group": "Heat::Ungrouped",
            "config": text,
            "options": None,
            "inputs": [],
            "outputs": [],
        }


class MultipartMime(SoftwareConfig):
    type_name = "OS::Heat::MultipartMime"
    description = "A multipart MIME document of several software configs."
    properties_schema = {
        "parts": Prop(
            "list",
            "Parts: config (a config id or text), filename, subtype, type.",
            default=[],
            schema={
                "*": Prop(
                    "map",
                    schema={
                        "config": Prop("string", required=True),
                        "filename": Prop("string"),
                        "type": Prop("string", default="text", allowed=("text", "multipart")),
                        "subtype": Prop("string"),
                    },
                )
            },
        ),
        "group": Prop("string", default="Heat::Ungrouped"),
    }

    def _text(self) -> str:
        software = self.stack.engine.software
        message = MIMEMultipart()
        for part in self.properties.get("parts") or []:
            config = part.get("config") or ""
            if software is not None:
                stored = software.config_text(config)
                if stored is not None:
                    config = stored
            subtype = part.get("subtype") or _subtype(config)
            sub = MIMEText(config, subtype, "us-ascii" if config.isascii() else "utf-8")
            if part.get("filename"):
                sub.add_header("Content-Disposition", "attachment", filename=part["filename"])
            message.attach(sub)
        return message.as_string()

    def config_body(self) -> dict[str, Any]:
        return {
            "name": self.physical_name(),
            "group": self.properties.get("group") or "Heat::Ungrouped",
            "config": self._text(),
            "options": None,
            "inputs": [],
            "outputs": [],
        }


def _subtype(config: str) -> str:
    if config.startswith("#!"):
        return "x-shellscript"
    if config.startswith("#cloud-config"):
        return "cloud-config"
    return "plain"
