"""The local server's AWS state, kept across restarts in ``<data-dir>/aws.sqlite3``.

After every request to the embedded moto, still inside its one-at-a-time lock, the
images of the DynamoDB items that request wrote (:class:`local.dynamodb.WriteLog`)
are upserted, or deleted, in one SQLite transaction; after a Cognito request that can
change users, the pool's users and groups are written again (there are few). A
request has reached the file before its answer leaves moto, so whatever a client saw
succeed is there after a crash or Ctrl-C, and stopping has nothing left to write.

At start the tables are created from the models as always, then the stored items are
loaded straight into moto's tables and the users into the new pool (whose ids are
deterministic, see :func:`local.aws.bootstrap_cognito`), keeping their ``sub``: identities,
claims and tokens issued before the restart still match.

The database is opened in exclusive locking mode: a second server on the same data
directory is refused instead of interleaving its writes.
"""

from __future__ import annotations

import base64
import gc
import json
import logging
import sqlite3
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUser,
    CognitoIdpUserPool,
    UserStatus,
)
from moto.dynamodb.models import DynamoDBBackend

from local.dynamodb import WriteLog, Written, load_item

log = logging.getLogger("local.persistence")

STORE_FILE = "aws.sqlite3"
SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    tbl TEXT NOT NULL, key TEXT NOT NULL, item TEXT NOT NULL, PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (name TEXT PRIMARY KEY, body TEXT NOT NULL);
"""
#: Cognito operations that change no user or group (everything else is saved after).
_COGNITO_READS = ("Describe", "List", "Get", "AdminGet", "InitiateAuth", "AdminInitiateAuth")
_COGNITO_TARGET = "AWSCognitoIdentityProviderService."


#: How a binary value (moto holds ``B`` values as bytes) is kept in the JSON of an item.
_BYTES = "$base64"


def _bytes_out(value: object) -> dict[str, str]:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    raise TypeError(f"{type(value).__name__} is not an item value")


def _bytes_in(members: dict[str, Any]) -> Any:
    if len(members) == 1 and isinstance(members.get(_BYTES), str):
        return base64.b64decode(members[_BYTES])
    return members


class StoreError(RuntimeError):
    """The data directory's store cannot be used (in use by another server, damaged)."""


class LocalStore:
    """``aws.sqlite3``: DynamoDB item images by table and key, and documents (the
    Cognito users). One writer: the serving process, under moto's request lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._db = sqlite3.connect(
                path, timeout=0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA locking_mode = EXCLUSIVE")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")  # durable across a process crash
            self._db.execute("BEGIN EXCLUSIVE")  # takes the lock now; it is kept till close
            self._db.execute("COMMIT")
            self._db.executescript(_SCHEMA)
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.OperationalError as error:
            if "locked" in str(error):
                raise StoreError(f"{path} is in use by another local server") from error
            raise StoreError(f"cannot open {path}: {error}") from error
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{path} is damaged ({error}); start with --fresh") from error
        if version not in (0, SCHEMA_VERSION):
            self._db.close()
            raise StoreError(f"{path} has unknown version {version}; start with --fresh")
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def open(cls, data_dir: Path, *, fresh: bool = False) -> LocalStore:
        """The store of ``data_dir``; ``fresh`` discards what it held."""
        path = data_dir / STORE_FILE
        if fresh:
            for leftover in (
                path,
                path.with_name(path.name + "-wal"),
                path.with_name(path.name + "-shm"),
            ):
                leftover.unlink(missing_ok=True)
        path.touch(mode=0o600, exist_ok=True)  # created private, whatever the umask
        return cls(path)

    def save(self, written: Sequence[Written], documents: Mapping[str, Any] | None = None) -> None:
        """Upsert (or delete) item images and replace documents, all or nothing."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany(
                "INSERT OR REPLACE INTO items (tbl, key, item) VALUES (?, ?, ?)",
                [
                    (w.table, w.key, json.dumps(w.attributes, default=_bytes_out))
                    for w in written
                    if w.attributes is not None
                ],
            )
            db.executemany(
                "DELETE FROM items WHERE tbl = ? AND key = ?",
                [(w.table, w.key) for w in written if w.attributes is None],
            )
            for name, body in (documents or {}).items():
                db.execute(
                    "INSERT OR REPLACE INTO documents (name, body) VALUES (?, ?)",
                    (name, json.dumps(body)),
                )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def items(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(table, item)`` of every stored item."""
        for table, item in self._db.execute("SELECT tbl, item FROM items"):
            yield table, json.loads(item, object_hook=_bytes_in)

    def document(self, name: str) -> Any:
        row = self._db.execute("SELECT body FROM documents WHERE name = ?", (name,)).fetchone()
        return None if row is None else json.loads(row[0])

    def close(self) -> None:
        self._db.close()


# --- Cognito -------------------------------------------------------------------------

COGNITO_DOCUMENT = "cognito"


def cognito_state(pool: CognitoIdpUserPool) -> dict[str, Any]:
    """The pool's groups and users (with their ``sub``, password and status)."""
    return {
        "groups": [
            {
                "name": g.group_name,
                "description": g.description,
                "precedence": g.precedence,
                "role_arn": g.role_arn,
            }
            for g in pool.groups.values()
        ],
        "users": [
            {
                "username": u.username,
                "sub": u.id,
                "password": u.password,
                "status": getattr(u.status, "value", u.status),
                "enabled": u.enabled,
                "attributes": u.attributes,
                "groups": sorted(g.group_name for g in u.groups),
                "created": u.create_date.isoformat(),
                "modified": u.last_modified_date.isoformat(),
            }
            for u in pool.users.values()
        ],
    }


def restore_cognito(cognito: CognitoIdpBackend, pool_id: str, state: Mapping[str, Any]) -> int:
    """Put saved groups and users into the pool; return how many users."""
    pool = cognito.describe_user_pool(pool_id)
    for group in state.get("groups", []):
        if group["name"] not in pool.groups:
            cognito.create_group(
                pool_id, group["name"], group["description"], group["role_arn"], group["precedence"]
            )
    for saved in state.get("users", []):
        user = CognitoIdpUser(
            pool_id,
            saved["username"],
            saved["password"],
            UserStatus(saved["status"]),
            saved["attributes"],
        )
        user.id = saved["sub"]
        user.update_attributes([{"Name": "sub", "Value": saved["sub"]}])
        user.enabled = bool(saved["enabled"])
        user.create_date = datetime.fromisoformat(saved["created"])
        user.last_modified_date = datetime.fromisoformat(saved["modified"])
        for name in saved["groups"]:
            group = pool.groups[name]
            group.users.add(user)
            user.groups.add(group)
        pool.users[user.username] = user
    return len(state.get("users", []))


# --- The embedded AWS, persisted -------------------------------------------------------


class Persistence:
    """Keeps the embedded moto's DynamoDB items and Cognito pool in a :class:`LocalStore`:
    hand :meth:`after_request` to :meth:`local.aws.EmbeddedAws.after_each_request`."""

    def __init__(
        self, store: LocalStore, dynamodb: DynamoDBBackend, cognito: CognitoIdpBackend
    ) -> None:
        self.store = store
        self.dynamodb = dynamodb
        self.cognito = cognito
        self.writes = WriteLog(dynamodb)
        self.writes.install()
        self.pool_id: str | None = None

    def restore_cognito(self, pool_id: str) -> dict[str, int]:
        """Put the stored groups and users into the pool ``pool_id``, whose changes
        are saved from now on."""
        self.pool_id = pool_id
        state = self.store.document(COGNITO_DOCUMENT)
        return {"cognito users": restore_cognito(self.cognito, pool_id, state)} if state else {}

    def restore_items(self) -> dict[str, int]:
        """Load the stored items into the (existing) tables; counts per table."""
        counts: Counter[str] = Counter()
        skipped: Counter[str] = Counter()
        gc.disable()  # only new objects, no garbage: the collector's passes would be waste
        try:
            for name, attributes in self.store.items():
                table = self.dynamodb.tables.get(name)
                if table is None:
                    skipped[name] += 1
                    continue
                load_item(table, attributes)
                counts[name] += 1
        finally:
            gc.enable()
        for name, count in skipped.items():
            log.warning("%d stored items of table %s were not loaded: no such table", count, name)
        return dict(counts)

    def after_request(self, environ: Mapping[str, Any]) -> None:
        """Save the items the request wrote and, if it could change users, the pool."""
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        operation = target.removeprefix(_COGNITO_TARGET)
        documents = None
        if operation != target and self.pool_id and not operation.startswith(_COGNITO_READS):
            pool = self.cognito.describe_user_pool(self.pool_id)
            documents = {COGNITO_DOCUMENT: cognito_state(pool)}
        written = self.writes.drain()
        if written or documents:
            self.store.save(written, documents)
