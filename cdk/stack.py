"""The sample stack: the :class:`cdk.service.LicensingService` construct, an SNS topic for
its alarms, and the outputs a deployment needs.

Environment-agnostic (no account, region or lookups): synth needs no AWS credentials.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from cdk.service import SERVICE_NAME, LicensingService, LicensingServiceProps
from cdk.tables import pascal

__all__ = ["SERVICE_NAME", "LicensingStack"]


class LicensingStack(Stack):
    """Everything the service needs in one account and region.

    ``props`` configure the service (signing key, identity provider, domain, schedules,
    retention...); ``alarm_emails`` subscribe to the alarm topic.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        props: LicensingServiceProps | None = None,
        alarm_emails: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.alarm_topic = sns.Topic(
            self, "AlarmTopic", display_name="Licensing service alarms", enforce_ssl=True
        )
        for email in alarm_emails:
            self.alarm_topic.add_subscription(subscriptions.EmailSubscription(email))
        props = props or LicensingServiceProps()
        if props.alarm_topic is None:
            props = replace(props, alarm_topic=self.alarm_topic)
        self.service = LicensingService(self, "Licensing", props)
        self._outputs()

    def _outputs(self) -> None:
        service = self.service
        identity = service.identity
        outputs: dict[str, tuple[str | None, str]] = {
            "ApiUrl": (service.api.stage.url, "Base URL of the HTTP API"),
            "Issuer": (service.issuer, "iss of the tokens this service signs"),
            "OidcIssuer": (identity.issuer, "Issuer of admin and end-user bearer tokens"),
            "UserPoolId": (identity.user_pool_id, "Cognito user pool"),
            "UserPoolClientId": (
                identity.client.user_pool_client_id if identity.client else None,
                "App client for the admin CLI and end users",
            ),
            "MachineClientId": (
                identity.machine_client.user_pool_client_id if identity.machine_client else None,
                "App client for service accounts (OAuth client credentials)",
            ),
            "TokenEndpoint": (
                identity.token_endpoint,
                "OAuth token endpoint of the machine client",
            ),
            "SigningKeyId": (
                service.signing_key.key.key_id if service.signing_key.key else None,
                "KMS key that signs tokens",
            ),
            "EventBusName": (service.event_bus.event_bus_name, "Bus of the lifecycle events"),
            "EventBusArn": (service.event_bus.event_bus_arn, "Bus of the lifecycle events"),
            "DashboardName": (
                service.monitoring.dashboard.dashboard_name,
                "CloudWatch dashboard of the service",
            ),
            "AlarmTopicArn": (self.alarm_topic.topic_arn, "SNS topic of the alarms"),
            "ConsoleUrl": (
                service.console.url if service.console else None,
                "The vendor console and customer portal",
            ),
            "ConsoleClientId": (
                service.console.client_id if service.console else None,
                "Cognito app client of the console (authorization code with PKCE)",
            ),
            "ApiDomainTarget": (
                service.api.domain_name.regional_domain_name if service.api.domain_name else None,
                "Point the custom domain's CNAME or alias here",
            ),
            **{
                f"{pascal(name)}TableName": (table.table_name, f"DynamoDB table '{name}'")
                for name, table in service.tables.by_name.items()
            },
        }
        for output_id, (value, description) in outputs.items():
            if value is not None:
                CfnOutput(self, output_id, value=value, description=description)
