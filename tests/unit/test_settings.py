from __future__ import annotations

import pytest
from licensing_core.settings import ConfigurationError, Settings


def test_from_env_reads_prefixed_variables_and_table_names() -> None:
    settings = Settings.from_env(
        {
            "LICENSING_OIDC_AUDIENCES": "a, b,,c",
            "LICENSING_TABLE_PRODUCTS": "prod-table",
            "LICENSING_TABLE_PREFIX": "dev-",
            "AWS_REGION": "eu-west-1",
            "UNRELATED": "x",
        }
    )
    assert settings.oidc_audiences == ("a", "b", "c")
    assert settings.region == "eu-west-1"
    assert settings.table_name("products") == "prod-table"
    assert settings.table_name("uniques") == "dev-uniques"


@pytest.mark.parametrize(
    "environ",
    [{"LICENSING_SIGNER": "rot13"}, {"LICENSING_MAX_BODY_BYTES": "0"}, {"LICENSING_TYPO": "1"}],
)
def test_invalid_configuration_is_refused_with_a_clear_error(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError, match="LICENSING_"):
        Settings.from_env(environ)
