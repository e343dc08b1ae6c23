"""Typed failures of the core use cases; channels turn them into replies or CLI errors."""

from __future__ import annotations

from datetime import timedelta


class HelpdeskError(Exception):
    """Base class for every expected, explainable failure."""


class NotFound(HelpdeskError):
    """A customer, service or request id that does not exist."""


class ImportRejected(HelpdeskError):
    """An import file that was refused whole; `problems` names each record and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("import refused, nothing was changed:\n" + "\n".join(problems))


class ImportStopped(HelpdeskError):
    """An import stopped part-way (see `Customers.import_checked`): earlier batches are stored."""


class NotEligible(HelpdeskError):
    """A service that cannot be cancelled in self-service at this moment."""

    def __init__(self, service_id: str, reasons: tuple[object, ...]) -> None:
        self.service_id = service_id
        self.reasons = reasons
        super().__init__(f"service {service_id} is not eligible: {reasons}")


class AlreadyOpen(HelpdeskError):
    """The service already has an open request."""

    def __init__(self, number: str) -> None:
        self.number = number
        super().__init__(f"an open request already exists: {number}")


class IllegalTransition(HelpdeskError):
    """A request state change that the review workflow does not allow."""


class InvalidLinkCode(HelpdeskError):
    """A link code that is unknown, used or expired (deliberately indistinguishable)."""


class LinkThrottled(HelpdeskError):
    """Too many wrong link codes from one chat: refused until `retry_after` has passed."""

    def __init__(self, retry_after: timedelta) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many wrong link codes; retry in {retry_after}")


class InvalidInput(HelpdeskError, ValueError):
    """Required text (a request's message, a rejection's reason) that is missing or blank."""


class InvalidAccount(HelpdeskError):
    """Refund account details that cannot be accepted in self-service."""


class StorageError(HelpdeskError):
    """The database cannot be used as it is; the message says what the operator should do."""


class DatabaseMissing(StorageError):
    """A command that only reads was pointed at a path with no database."""


class KeyFileMissing(StorageError):
    """An existing database whose encryption key file is gone."""


class DatabaseReplaced(StorageError):
    """The database file was deleted or replaced while the program was using it."""


class SecretKeyRequired(StorageError):
    """A server database opened without HELPDESK_SECRET_KEY (it has no key file beside it)."""


class AlreadyRunning(StorageError):
    """Another process holds a lock that only one process may hold (long polling)."""


class CopyRefused(StorageError):
    """`helpdesk db copy` found the target unfit (not empty, another key, the source itself)."""


class NestedTransaction(RuntimeError):
    """A transaction opened inside another on the same database (a programming error)."""


class ConversationConflict(HelpdeskError):
    """Another writer moved the chat's conversation on during this turn; apply it again."""
