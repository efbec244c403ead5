"""The dependency layer's lock agrees with ``pyproject.toml``'s runtime dependencies.

``make lock`` writes it; a dependency added, removed or re-ranged in ``pyproject.toml``
without re-locking fails here, before a layer is built from a stale lock.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from cdk.bundling import DependencyLayerBuild, lock_hash, locked_versions, normalize
from cdk.paths import LOCK, PYPROJECT

#: How uv names the project in a ``# via`` annotation.
DIRECT = "rdn-licensing (pyproject.toml)"
#: One pinned entry: its requirement line, its hash lines, its ``# via`` comment lines.
ENTRY = re.compile(
    r"^(?P<pin>[A-Za-z0-9][^\n]*?) \\\n(?P<hashes>(?:    --hash=[^\n]*\n)+)(?P<via>(?:    #[^\n]*\n)*)",
    re.M,
)


def runtime_requirements() -> dict[str, Requirement]:
    with PYPROJECT.open("rb") as file:
        listed = tomllib.load(file)["project"]["dependencies"]
    requirements = [Requirement(line) for line in listed]
    return {normalize(requirement.name): requirement for requirement in requirements}


def lock_entries(text: str) -> dict[str, tuple[str, int, bool]]:
    """Normalized name -> (pinned version, number of hashes, pulled in by pyproject.toml)."""
    entries = {}
    for match in ENTRY.finditer(text):
        requirement = Requirement(match["pin"])
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", match["pin"]
        direct = DIRECT in match["via"]
        entries[normalize(requirement.name)] = (
            specifier.version,
            match["hashes"].count("--hash=sha256:"),
            direct,
        )
    return entries


def disagreements(lock_text: str, requirements: dict[str, Requirement]) -> list[str]:
    """What makes the lock disagree with the requirements (empty when they agree)."""
    entries = lock_entries(lock_text)
    problems = []
    direct = {name for name, (_, _, is_direct) in entries.items() if is_direct}
    problems += [
        f"{name}: in pyproject.toml, not in the lock" for name in requirements.keys() - direct
    ]
    problems += [
        f"{name}: locked as a direct dependency, not in pyproject.toml"
        for name in direct - requirements.keys()
    ]
    for name, requirement in requirements.items():
        if name in entries and not requirement.specifier.contains(
            entries[name][0], prereleases=True
        ):
            problems.append(f"{name}: locked {entries[name][0]} is outside {requirement.specifier}")
    problems += [f"{name}: no hash" for name, (_, hashes, _) in entries.items() if not hashes]
    pins = len(re.findall(r"^[A-Za-z0-9][^\n]*==", lock_text, re.M))
    if pins != len(entries):
        problems.append(f"{pins} pins, {len(entries)} parsed entries")
    return problems


def test_lock_pins_exactly_the_runtime_dependencies_with_hashes() -> None:
    text = LOCK.read_text()
    assert disagreements(text, runtime_requirements()) == []
    assert "make lock" in text.splitlines()[1]  # written by the target that refreshes it
    assert len(locked_versions()) == len(lock_entries(text)) > len(runtime_requirements())


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda reqs: reqs | {"httpx": Requirement("httpx>=0.27")},
            "httpx: in pyproject.toml, not in the lock",
        ),
        (
            lambda reqs: {k: v for k, v in reqs.items() if k != "jwcrypto"},
            "jwcrypto: locked as a direct",
        ),
        (lambda reqs: reqs | {"pydantic": Requirement("pydantic>=99")}, "pydantic: locked"),
    ],
    ids=["added", "removed", "re-ranged"],
)
def test_a_pyproject_change_without_relocking_is_caught(
    edit: Callable[[dict[str, Requirement]], dict[str, Requirement]], expected: str
) -> None:
    problems = disagreements(LOCK.read_text(), edit(runtime_requirements()))
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_entry_without_hashes_is_caught() -> None:
    text = LOCK.read_text()
    first_pin = re.search(r"^jwcrypto==[^\n]* \\\n(    --hash=[^\n]*\n)+", text, re.M)
    assert first_pin
    stripped = text.replace(first_pin[0], first_pin[0].split(" \\")[0] + "\n")
    assert disagreements(stripped, runtime_requirements())


def test_the_layer_hash_is_the_locks_content_platform_and_python(tmp_path: Path) -> None:
    other = tmp_path / "requirements.txt"
    other.write_text(LOCK.read_text() + "# a comment changes the content\n")

    def layer(
        platform: str = "manylinux2014_aarch64", version: str = "3.11", lock: Path = LOCK
    ) -> str:
        return DependencyLayerBuild(platform, version, lock).hash

    assert layer() == layer()
    assert lock_hash(other) != lock_hash(LOCK)
    assert (
        len({layer(), layer(lock=other), layer("manylinux2014_x86_64"), layer(version="3.12")}) == 4
    )
