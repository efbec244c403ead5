"""Field types shared by the plain models (what applications send) and the pydantic ones:
their constraints are plain metadata (``licensing_core.plain``), which pydantic reads too."""

from __future__ import annotations

from typing import Annotated, Literal

from licensing_core.plain import Bounds, Text

Code = Annotated[str, Text(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
#: A region code: ``eu``, ``us-east-1``.
REGION_PATTERN = r"^[a-z]{2}(-[a-z0-9]{1,16}){0,3}$"
Region = Annotated[str, Text(pattern=REGION_PATTERN)]
#: A machine file's lifetime: 1 hour to 366 days.
FileTtl = Annotated[int, Bounds(ge=3600, le=366 * 86_400)]
TokenText = Annotated[str, Text(min_length=1, max_length=65536)]
MachineId = Annotated[str, Text(pattern=r"^[\x21-\x7e]{1,256}$")]
ClientId = Annotated[str, Text(min_length=1, max_length=512)]
TokenType = Literal["jwe", "jws"]
