"""Synthesize the CDK app once and read the result: template, assets, and their links."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from cdk.paths import ROOT, excluded

STACK = "LicensingStack"
#: jsii prints a banner on every start under an end-of-life Node; not our concern here.
QUIET_NODE = {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20"}


def start_synthesis(outdir: Path, log: IO[str]) -> subprocess.Popen[str]:
    """Start ``python cdk/app.py`` as the CLI would, with no AWS configuration at all;
    its output goes to ``log``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AWS_", "CDK_", "LICENSING_"))
    }
    env |= QUIET_NODE | {
        "CDK_OUTDIR": str(outdir),
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(ROOT / "cdk" / "app.py")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )


def references(value: Any) -> Iterator[str]:
    """Logical ids a template value points at through ``Ref`` or ``Fn::GetAtt``."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                yield inner
            elif key == "Fn::GetAtt":
                yield inner[0]
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def resolve(value: Any) -> str:
    """A template value as a string, intrinsics replaced by ``<Id>`` / ``<Id.Attr>``."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(resolve(part) for part in parts)
    raise ValueError(f"cannot resolve {value!r}")


def file_tree(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every file under ``root`` that an asset should hold."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not excluded(path.relative_to(root))
    }


@dataclass(frozen=True)
class CloudAssembly:
    """A synthesized cloud assembly on disk."""

    outdir: Path
    stack: str = STACK

    @cached_property
    def template(self) -> dict[str, Any]:
        template: dict[str, Any] = json.loads(self.template_path.read_text())
        return template

    @property
    def template_path(self) -> Path:
        return self.outdir / f"{self.stack}.template.json"

    @cached_property
    def _file_assets(self) -> dict[str, Any]:
        manifest = json.loads((self.outdir / f"{self.stack}.assets.json").read_text())
        files: dict[str, Any] = manifest["files"]
        return files

    def resources(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of a type."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == resource_type
        }

    def the(self, resource_type: str) -> str:
        """Logical id of the one resource of a type."""
        (logical_id,) = self.resources(resource_type)
        return logical_id

    def properties(self, logical_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = self.template["Resources"][logical_id]["Properties"]
        return properties

    def output_ref(self, output_id: str) -> str:
        """Logical id an output's value references."""
        (logical_id,) = set(references(self.template["Outputs"][output_id]["Value"]))
        return logical_id

    def asset_dir(self, code: Mapping[str, Any]) -> Path:
        """The staged directory of a Lambda ``Code`` / layer ``Content`` asset."""
        asset_hash = code["S3Key"].removesuffix(".zip")
        return self.outdir / self._file_assets[asset_hash]["source"]["path"]

    def route(self, route_key: str) -> dict[str, Any]:
        """Properties of the ``AWS::ApiGatewayV2::Route`` with this route key."""
        (properties,) = (
            resource["Properties"]
            for resource in self.resources("AWS::ApiGatewayV2::Route").values()
            if resource["Properties"]["RouteKey"] == route_key
        )
        return properties

    def function_of(self, route_key: str) -> str:
        """Logical id of the Lambda function a route integrates."""
        (integration_id,) = set(references(self.route(route_key)["Target"]))
        integration = self.properties(integration_id)
        assert integration["IntegrationType"] == "AWS_PROXY"
        (function_id,) = set(references(integration["IntegrationUri"]))
        return function_id

    def code_dir(self, function_id: str) -> Path:
        """The staged code asset of a Lambda function."""
        return self.asset_dir(self.properties(function_id)["Code"])

    def environment(self, function_id: str) -> dict[str, Any]:
        variables: dict[str, Any] = self.properties(function_id)["Environment"]["Variables"]
        return variables

    def role_of(self, function_id: str) -> str:
        (role_id,) = set(references(self.properties(function_id)["Role"]))
        return role_id

    def rule_targets(self, rule_id: str) -> set[str]:
        """Logical ids of the resources an EventBridge rule targets."""
        return {
            target_id
            for target in self.properties(rule_id)["Targets"]
            for target_id in references(target["Arn"])
        }

    def acknowledged(self) -> list[dict[str, Any]]:
        """The cdk-nag findings acknowledged in ``validation-report.json``, for this stack."""
        return [
            violation
            for report in self.validation_report["pluginReports"]
            for violation in report.get("suppressedViolations", [])
            if violation["acknowledgedAt"].startswith(f"{self.stack}/")
        ]

    @cached_property
    def validation_report(self) -> dict[str, Any]:
        report: dict[str, Any] = json.loads((self.outdir / "validation-report.json").read_text())
        return report

    def statements(self, function_id: str) -> list[dict[str, Any]]:
        """Every statement of the policies of a function's role: its own inline ones and
        any policy resource attached to it."""
        role_id = self.role_of(function_id)
        attached = [
            policy["Properties"]
            for policy in self.resources("AWS::IAM::Policy").values()
            if {"Ref": role_id} in policy["Properties"]["Roles"]
        ]
        inline = self.properties(role_id).get("Policies", [])
        return [
            statement
            for policy in (*inline, *attached)
            for statement in policy["PolicyDocument"]["Statement"]
        ]


def actions(statement: Mapping[str, Any], service: str | None = None) -> set[str]:
    """The actions of a policy statement (of one service, when given)."""
    listed = statement["Action"]
    listed = [listed] if isinstance(listed, str) else listed
    return {action for action in listed if service is None or action.startswith(f"{service}:")}


#: Actions AWS offers on no narrower resource than ``*`` (stream consumers need it).
UNSCOPED_ACTIONS = {"dynamodb:ListStreams"}


def grants(assembly: CloudAssembly, function_id: str, service: str) -> dict[str, set[str]]:
    """Resource logical id -> actions of ``service`` the function's role allows on it
    (literal ARNs are not references: see ``statements`` for those)."""
    granted: dict[str, set[str]] = defaultdict(set)
    for statement in assembly.statements(function_id):
        allowed = actions(statement, service)
        if statement["Resource"] == "*":
            allowed -= UNSCOPED_ACTIONS
        if not allowed:
            continue
        assert statement["Effect"] == "Allow"
        assert "*" not in (statement["Resource"], f"{service}:*"), statement
        assert f"{service}:*" not in allowed
        for resource in set(references(statement["Resource"])):
            granted[resource] |= allowed
    return dict(granted)
