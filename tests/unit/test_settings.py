from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import FrozenInstanceError, fields
from pathlib import Path
from typing import get_type_hints

import licensing_core
import pytest
from licensing_core.settings import ConfigurationError, Settings

#: The layer's import root (``licensing_core``'s parent).
LAYER = Path(licensing_core.__file__).parent.parent


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


def _seconds(text: str) -> int:
    return Settings.from_env({"LICENSING_JWKS_CACHE_SECONDS": text}).jwks_cache_seconds


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("-0", 0),
        ("+5", 5),
        ("007", 7),
        (" 5", 5),
        ("5 ", 5),
        ("\t5\n", 5),
        ("\u30005\u00a0", 5),
        ("1_000", 1000),
        ("60.0", 60),
        ("3600.000", 3600),
    ],
)
def test_integers_are_read_as_pydantic_read_them(text: str, value: int) -> None:
    """What pydantic's lax mode accepted (the settings were a model): blanks around,
    a sign, leading zeros, underscores between digits, a fraction of zeros."""
    assert _seconds(text) == value


@pytest.mark.parametrize(
    "text",
    [
        *("", " ", "abc", "true", "inf", "1e3", "0x10", "1.5", "1.", ".0", "+-1", "1 000"),
        *("1__000", "_1", "1_", "\u0663", "\uff15", "\x1c5", "\u200b5"),  # not blanks, digits
    ],
)
def test_what_pydantic_refused_as_an_integer_is_refused(text: str) -> None:
    with pytest.raises(
        ConfigurationError, match="LICENSING_JWKS_CACHE_SECONDS: must be an integer"
    ):
        _seconds(text)


#: Every bounded setting: its lowest and highest accepted value (None: unbounded).
BOUNDS: dict[str, tuple[int, int | None]] = {
    "jwks_cache_seconds": (0, None),
    "jwks_refetch_cooldown_seconds": (0, None),
    "claim_expiry_seconds": (60, 90 * 86_400),
    "claim_retention_seconds": (0, None),
    "self_service_license_days": (1, 36_500),
    "register_window_seconds": (1, 86_400),
    "register_limit_per_email": (1, None),
    "register_limit_per_ip": (1, None),
    "catalog_cache_seconds": (0, 3600),
    "max_body_bytes": (1, None),
    "max_token_bytes": (1, None),
    "leeway_seconds": (0, 300),
}


def test_every_integer_setting_is_bounded_here() -> None:
    types = get_type_hints(Settings)
    assert {field.name for field in fields(Settings) if types[field.name] is int} == set(BOUNDS)


@pytest.mark.parametrize(("name", "bounds"), BOUNDS.items())
def test_integer_settings_keep_their_bounds(name: str, bounds: tuple[int, int | None]) -> None:
    lowest, highest = bounds
    variable = f"LICENSING_{name.upper()}"
    for accepted in (lowest, highest if highest is not None else 10**30):
        assert getattr(Settings.from_env({variable: str(accepted)}), name) == accepted
    for refused in (lowest - 1, *([highest + 1] if highest is not None else [])):
        with pytest.raises(ConfigurationError, match=f"{variable}: must be .* not {refused}$"):
            Settings.from_env({variable: str(refused)})


@pytest.mark.parametrize("signer", ["pem", "kms", "azure"])
def test_the_signer_is_one_of_three(signer: str) -> None:
    assert Settings.from_env({"LICENSING_SIGNER": signer}).signer == signer


@pytest.mark.parametrize("signer", ["PEM", " pem", "pem ", "", "rot13"])
def test_a_signer_is_named_exactly(signer: str) -> None:
    with pytest.raises(
        ConfigurationError, match="LICENSING_SIGNER: must be one of pem, kms, azure"
    ):
        Settings.from_env({"LICENSING_SIGNER": signer})


@pytest.mark.parametrize("name", ["oidc_audiences", "previous_signing_keys", "tenant_claims"])
@pytest.mark.parametrize(
    ("text", "items"),
    [("a, b,,c", ("a", "b", "c")), (" a b ,\t,c ", ("a b", "c")), ("", ()), (" , ", ())],
)
def test_lists_are_comma_separated_items_stripped_blanks_dropped(
    name: str, text: str, items: tuple[str, ...]
) -> None:
    assert getattr(Settings.from_env({f"LICENSING_{name.upper()}": text}), name) == items


def test_text_is_kept_as_written() -> None:
    settings = Settings.from_env({"LICENSING_ISSUER": " x ", "LICENSING_OIDC_ISSUER": ""})
    assert (settings.issuer, settings.oidc_issuer) == (" x ", "")


def test_variable_names_after_the_prefix_are_case_insensitive_and_tables_any_name() -> None:
    settings = Settings.from_env(
        {
            "LICENSING_Signer": "kms",
            "licensing_signer": "azure",  # not the prefix: not ours
            "LICENSING_TABLE_Names": "n",
            "LICENSING_TABLE_": "blank",
        }
    )
    assert settings.signer == "kms"
    assert settings.table_names == {"names": "n", "": "blank"}


@pytest.mark.parametrize("variable", ["LICENSING_", "LICENSING_REGION_", "LICENSING_MODEL_CONFIG"])
def test_unknown_variables_are_refused(variable: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{variable}: unknown variable"):
        Settings.from_env({variable: "x"})


def test_the_error_names_every_problem_one_per_line() -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(
            {"LICENSING_TYPO": "1", "LICENSING_SIGNER": "x", "LICENSING_LEEWAY_SECONDS": "soon"}
        )
    assert str(refused.value).splitlines() == [
        "invalid LICENSING_* configuration:",
        "  LICENSING_TYPO: unknown variable",
        "  LICENSING_SIGNER: must be one of pem, kms, azure, not 'x'",
        "  LICENSING_LEEWAY_SECONDS: must be an integer, not 'soon'",
    ]


@pytest.mark.parametrize(
    ("environ", "region"),
    [
        ({}, "us-east-1"),
        ({"AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-2"),
        ({"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"}, "eu-west-1"),
        ({"AWS_REGION": "eu-west-1", "LICENSING_REGION": "ap-south-1"}, "ap-south-1"),
    ],
)
def test_the_region_defaults_to_aws_own_variables(environ: dict[str, str], region: str) -> None:
    assert Settings.from_env(environ).region == region


def test_the_defaults_are_the_empty_environment_and_settings_are_frozen() -> None:
    settings = Settings()
    assert settings == Settings.from_env({})
    with pytest.raises(FrozenInstanceError):
        settings.signer = "kms"  # type: ignore[misc]


def test_reading_the_settings_imports_no_pydantic() -> None:
    """Every function reads them at its first request (cold start)."""
    code = (
        "import sys, licensing_core.settings as s; s.get_settings(); "
        "print(sorted(m for m in sys.modules if m.startswith('pydantic')))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(LAYER), "PATH": os.environ.get("PATH", "")},
    )
    assert done.stdout.strip() == "[]"
