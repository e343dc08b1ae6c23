"""Encryption at rest for refund account numbers and in-progress conversation data.

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256, from the well-kept `cryptography` package)
prefixed with `enc1:`. The key comes from settings (`HELPDESK_SECRET_KEY`); for local use it is
generated once, together with a new database, into a key file beside it, readable by its
owner only (0600); an existing database whose key file is missing is refused. Losing
the key makes stored account numbers unreadable, so the key file must be backed up with the
database but kept out of any shared place.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from core.errors import HelpdeskError

PREFIX = "enc1:"


class CipherError(HelpdeskError):
    """A stored value that cannot be decrypted with this key."""


class FieldCipher:
    """Encrypts and decrypts single text values."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError) as exc:
            raise CipherError(
                "the secret key must be 32 url-safe base64-encoded bytes "
                "(generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')"
            ) from exc

    def encrypt(self, value: str) -> str:
        """Return the stored form of `value`."""
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """Return the plain value of a stored one (values stored before encryption pass through)."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise CipherError(
                "stored data cannot be decrypted with this key "
                "(wrong HELPDESK_SECRET_KEY or key file)"
            ) from None


def key_file_for(db_path: str | Path) -> Path:
    """The key file that belongs to a database file."""
    path = Path(db_path)
    return path.with_name(path.name + ".key")


def read_key(path: Path) -> bytes | None:
    """The key stored in a key file, or None when there is no such file."""
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        return None


def write_new_key(path: Path) -> bytes:
    """Create a key file (mode 0600) with a new random key and return the key.

    If another process created the file first, its key is returned instead.
    """
    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: if two processes start at once, one creates the file and the other reads it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key
