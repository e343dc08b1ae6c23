"""SQLite storage on aiosqlite: the only module that speaks SQL.

One `Database` wraps one connection. SQLite serialises writers anyway, so every use case runs in
`async with db.transaction() as tx:` which takes an in-process lock (aiosqlite shares one
connection between coroutines, whose statements would otherwise interleave) and then
`BEGIN IMMEDIATE` (so a second process waits for the write lock up front instead of failing half
way). The schema is created and migrated by the code itself; `PRAGMA user_version` is the schema
version. Money columns are INTEGER with a type check: a REAL can never be stored.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import aiosqlite
from cryptography.fernet import Fernet

from core.crypto import FieldCipher, key_file_for, load_or_create_key
from core.models import (
    Attachment,
    AuditEvent,
    Customer,
    Inquiry,
    OutboxItem,
    PaymentMethod,
    Reason,
    RefundAccount,
    RefundRequest,
    RequestStatus,
    Service,
    ServiceStatus,
)

BUSY_TIMEOUT_MS = 10_000
BEGIN_ATTEMPTS = 3

MIGRATIONS: tuple[str, ...] = (
    # 1: customers, services, requests + audit trail, link codes, chat links, dialogue state
    """
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL CHECK (length(name) > 0),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE services (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        issued_on TEXT NOT NULL,
        service_fee INTEGER NOT NULL CHECK (typeof(service_fee) = 'integer' AND service_fee >= 0),
        sms_charge INTEGER NOT NULL CHECK (typeof(sms_charge) = 'integer' AND sms_charge >= 0),
        sms_sent INTEGER NOT NULL CHECK (typeof(sms_sent) = 'integer' AND sms_sent >= 0),
        payment_method TEXT NOT NULL CHECK (payment_method IN ('mycash', 'bank_transfer')),
        status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX services_by_customer ON services(customer_id);
    CREATE TABLE refund_requests (
        number TEXT PRIMARY KEY,
        service_id TEXT NOT NULL REFERENCES services(id),
        customer_id TEXT NOT NULL REFERENCES customers(id),
        reason TEXT NOT NULL,
        message TEXT NOT NULL CHECK (length(trim(message)) > 0),
        service_fee INTEGER NOT NULL CHECK (typeof(service_fee) = 'integer'),
        sms_charge INTEGER NOT NULL CHECK (typeof(sms_charge) = 'integer'),
        total INTEGER NOT NULL
            CHECK (typeof(total) = 'integer' AND total = service_fee + sms_charge),
        payment_method TEXT NOT NULL CHECK (payment_method IN ('mycash', 'bank_transfer')),
        bank TEXT,
        account_number TEXT,
        account_holder TEXT,
        status TEXT NOT NULL CHECK (status IN ('submitted', 'approved', 'rejected', 'refunded')),
        channel TEXT NOT NULL,
        chat_id TEXT,
        submission_key TEXT UNIQUE,
        decision_note TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK (payment_method = 'mycash' OR
               (bank IS NOT NULL AND account_number IS NOT NULL AND account_holder IS NOT NULL))
    );
    CREATE UNIQUE INDEX one_open_request_per_service
        ON refund_requests(service_id) WHERE status IN ('submitted', 'approved');
    CREATE INDEX requests_by_customer ON refund_requests(customer_id);
    CREATE TABLE request_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_number TEXT NOT NULL REFERENCES refund_requests(number),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER request_events_append_only_update BEFORE UPDATE ON request_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TRIGGER request_events_append_only_delete BEFORE DELETE ON request_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TABLE request_counters (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
    CREATE TABLE link_codes (
        code_hash TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT,
        used_by TEXT
    );
    CREATE TABLE chat_links (
        chat_id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        linked_at TEXT NOT NULL
    );
    CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE conversations (
        chat_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # 2: notifications outbox, customer-centre inquiries, FAQ events (answers, misses, feedback)
    """
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chat_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_until TEXT,
        sent_at TEXT,
        failed_at TEXT,
        last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE sent_at IS NULL
        AND failed_at IS NULL;
    CREATE TABLE inquiries (
        number TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        service_id TEXT,
        topic TEXT NOT NULL,
        context TEXT NOT NULL,
        message TEXT NOT NULL CHECK (length(trim(message)) > 0),
        transcript TEXT NOT NULL,
        attachments TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('open', 'answered', 'closed')),
        answer TEXT,
        handled_by TEXT,
        channel TEXT NOT NULL,
        chat_id TEXT,
        submission_key TEXT UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX inquiries_by_status ON inquiries(status, created_at);
    CREATE TABLE faq_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        chat_id TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('answer', 'clarify', 'fallback', 'feedback')),
        intent TEXT,
        text TEXT NOT NULL,
        normalized TEXT NOT NULL,
        helpful INTEGER CHECK (helpful IN (0, 1))
    );
    CREATE INDEX faq_events_by_time ON faq_events(at);
    """,
    # 3: failed link-code attempts, to slow down and then refuse guessing
    """
    CREATE TABLE link_failures (chat_id TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX link_failures_by_chat ON link_failures(chat_id, at);
    """,
)


class Database:
    """One aiosqlite connection with serialised transactions and a migrated schema."""

    def __init__(self, conn: aiosqlite.Connection, path: str, cipher: FieldCipher) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self.path = path
        self.cipher = cipher

    @classmethod
    async def open(
        cls,
        path: str | Path,
        secret_key: bytes | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> Database:
        """Open (creating if needed) and migrate the database at `path`.

        Account numbers are encrypted with `secret_key`, or else with the key file beside the
        database (created on first use).
        """
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        if secret_key is None:
            secret_key = (
                Fernet.generate_key()
                if path == ":memory:"
                else load_or_create_key(key_file_for(path))
            )
        cipher = FieldCipher(secret_key)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so that every use case is exactly
        # one transaction, never one implicitly opened by the driver.
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        db = cls(conn, path, cipher)
        try:
            await conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA foreign_keys = ON")
            await conn.execute("PRAGMA synchronous = NORMAL")
            await db._migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()

    async def _migrate(self) -> None:
        async with self._lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                async with self._conn.execute("PRAGMA user_version") as cur:
                    row = await cur.fetchone()
                version = int(row[0]) if row else 0
                if version > len(MIGRATIONS):
                    raise RuntimeError(
                        f"database schema version {version} is newer than this program "
                        f"({len(MIGRATIONS)}); upgrade the program"
                    )
                for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                    for statement in _split_script(script):
                        await self._conn.execute(statement)
                    await self._conn.execute(f"PRAGMA user_version = {number}")
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._conn.execute("ROLLBACK")
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """Run a block as one write transaction: all of it is stored, or none of it."""
        async with self._lock:
            await self._begin_immediate()
            try:
                yield Tx(self._conn, self.cipher)
            except BaseException:
                # SQLite may already have rolled back (e.g. disk full); a second ROLLBACK
                # would hide the real error behind "no transaction is active".
                if self._conn.in_transaction:
                    await self._conn.execute("ROLLBACK")
                raise
            else:
                await self._conn.execute("COMMIT")

    async def _begin_immediate(self) -> None:
        # SQLite's busy handler already waits busy_timeout for another writer; a writer that
        # holds the lock longer than that (a long import, a backup) gets a few more chances
        # before the caller sees "database is locked".
        for attempt in range(1, BEGIN_ATTEMPTS + 1):
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                transient = "locked" in str(exc) or "busy" in str(exc)
                if not transient or attempt == BEGIN_ATTEMPTS:
                    raise
                await asyncio.sleep(0.05 * attempt)

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Tx]:
        """Run read-only queries against one consistent snapshot."""
        async with self._lock:
            await self._conn.execute("BEGIN")
            try:
                yield Tx(self._conn, self.cipher)
            finally:
                await self._conn.execute("ROLLBACK")


def _split_script(script: str) -> list[str]:
    # sqlite3.complete_statement lets triggers (which contain ';') stay whole.
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def _iso(instant: datetime) -> str:
    # Always UTC, so that timestamps stored as text also sort in time order.
    return instant.astimezone(UTC).isoformat()


class Tx:
    """The queries available inside one transaction."""

    def __init__(self, conn: aiosqlite.Connection, cipher: FieldCipher) -> None:
        self._conn = conn
        self._cipher = cipher

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            return await cur.fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement and return the number of rows it changed."""
        async with self._conn.execute(sql, params) as cur:
            return cur.rowcount

    # customers and services -------------------------------------------------------------

    async def has_customers(self) -> bool:
        """Whether the customers table has any row."""
        return await self._one("SELECT 1 FROM customers LIMIT 1") is not None

    async def get_customer(self, customer_id: str) -> Customer | None:
        """Return the customer with this id, or None."""
        row = await self._one("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        return Customer(id=row["id"], name=row["name"]) if row else None

    async def upsert_customer(self, customer: Customer, now: datetime) -> str:
        """Insert or update a customer; return 'added', 'updated' or 'unchanged'."""
        existing = await self.get_customer(customer.id)
        if existing is None:
            await self.execute(
                "INSERT INTO customers (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                (customer.id, customer.name, _iso(now), _iso(now)),
            )
            return "added"
        if existing == customer:
            return "unchanged"
        await self.execute(
            "UPDATE customers SET name = ?, updated_at = ? WHERE id = ?",
            (customer.name, _iso(now), customer.id),
        )
        return "updated"

    async def get_service(self, service_id: str) -> Service | None:
        """Return the service with this id, or None."""
        row = await self._one("SELECT * FROM services WHERE id = ?", (service_id,))
        return _service(row) if row else None

    async def list_services(self, customer_id: str) -> list[Service]:
        """Return the customer's services, oldest issue first."""
        rows = await self._all(
            "SELECT * FROM services WHERE customer_id = ? ORDER BY issued_on, id", (customer_id,)
        )
        return [_service(r) for r in rows]

    async def upsert_service(self, service: Service, now: datetime) -> str:
        """Insert or update a service; return 'added', 'updated' or 'unchanged'."""
        existing = await self.get_service(service.id)
        values = (
            service.customer_id,
            service.issued_on.isoformat(),
            service.service_fee,
            service.sms_charge,
            service.sms_sent,
            service.payment_method.value,
            service.status.value,
        )
        if existing is None:
            await self.execute(
                "INSERT INTO services (customer_id, issued_on, service_fee, sms_charge, sms_sent,"
                " payment_method, status, id, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, service.id, _iso(now), _iso(now)),
            )
            return "added"
        if existing == service:
            return "unchanged"
        await self.execute(
            "UPDATE services SET customer_id = ?, issued_on = ?, service_fee = ?, sms_charge = ?,"
            " sms_sent = ?, payment_method = ?, status = ?, updated_at = ? WHERE id = ?",
            (*values, _iso(now), service.id),
        )
        return "updated"

    async def set_service_status(
        self, service_id: str, status: ServiceStatus, now: datetime
    ) -> None:
        """Change a service's lifecycle status."""
        await self.execute(
            "UPDATE services SET status = ?, updated_at = ? WHERE id = ?",
            (status.value, _iso(now), service_id),
        )

    # refund requests --------------------------------------------------------------------

    async def open_request_number(self, service_id: str) -> str | None:
        """Return the number of the service's open request, if any."""
        row = await self._one(
            "SELECT number FROM refund_requests WHERE service_id = ?"
            " AND status IN ('submitted', 'approved')",
            (service_id,),
        )
        return row["number"] if row else None

    async def next_request_number(self, day: date) -> str:
        """Allocate the next readable request number for `day` (KST), e.g. R-20261124-0007."""
        return await self._next_number("R", day)

    async def next_inquiry_number(self, day: date) -> str:
        """Allocate the next readable inquiry number for `day` (KST), e.g. Q-20261124-0002."""
        return await self._next_number("Q", day)

    async def _next_number(self, prefix: str, day: date) -> str:
        digits = day.strftime("%Y%m%d")
        # Requests keep the bare date as their counter key (schema 1); other kinds prefix it.
        key = digits if prefix == "R" else f"{prefix}{digits}"
        await self.execute(
            "INSERT INTO request_counters (day, last) VALUES (?, 1)"
            " ON CONFLICT(day) DO UPDATE SET last = last + 1",
            (key,),
        )
        row = await self._one("SELECT last FROM request_counters WHERE day = ?", (key,))
        assert row is not None
        return f"{prefix}-{digits}-{int(row['last']):04d}"

    async def insert_request(self, request: RefundRequest, submission_key: str | None) -> None:
        """Store a new request."""
        account = request.account
        await self.execute(
            "INSERT INTO refund_requests (number, service_id, customer_id, reason, message,"
            " service_fee, sms_charge, total, payment_method, bank, account_number,"
            " account_holder, status, channel, chat_id, submission_key, decision_note,"
            " created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                request.number,
                request.service_id,
                request.customer_id,
                request.reason.value,
                request.message,
                request.service_fee,
                request.sms_charge,
                request.total,
                request.payment_method.value,
                account.bank if account else None,
                self._cipher.encrypt(account.number) if account else None,
                account.holder if account else None,
                request.status.value,
                request.channel,
                request.chat_id,
                submission_key,
                request.decision_note,
                _iso(request.created_at),
                _iso(request.updated_at),
            ),
        )

    async def get_request(self, number: str) -> RefundRequest | None:
        """Return the request with this number, or None."""
        row = await self._one("SELECT * FROM refund_requests WHERE number = ?", (number,))
        return self._request(row) if row else None

    async def request_by_submission_key(self, key: str) -> RefundRequest | None:
        """Return the request filed with this submission key (a replayed confirm), or None."""
        row = await self._one("SELECT * FROM refund_requests WHERE submission_key = ?", (key,))
        return self._request(row) if row else None

    async def list_requests(
        self, status: RequestStatus | None = None, customer_id: str | None = None
    ) -> list[RefundRequest]:
        """Return requests, oldest first, optionally filtered."""
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status.value)
        if customer_id is not None:
            clauses.append("customer_id = ?")
            params.append(customer_id)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = await self._all(
            f"SELECT * FROM refund_requests{where} ORDER BY created_at, number", params
        )
        return [self._request(r) for r in rows]

    async def update_request_status(
        self, number: str, status: RequestStatus, note: str | None, now: datetime
    ) -> None:
        """Move a request to `status`, keeping the decision note when one is given."""
        await self.execute(
            "UPDATE refund_requests SET status = ?, decision_note = COALESCE(?, decision_note),"
            " updated_at = ? WHERE number = ?",
            (status.value, note, _iso(now), number),
        )

    async def append_event(self, event: AuditEvent) -> None:
        """Append one audit event (the table refuses updates and deletes)."""
        await self.execute(
            "INSERT INTO request_events (request_number, at, actor, action, detail)"
            " VALUES (?, ?, ?, ?, ?)",
            (event.request_number, _iso(event.at), event.actor, event.action, event.detail),
        )

    async def events(self, number: str) -> list[AuditEvent]:
        """Return a request's audit trail in order."""
        rows = await self._all(
            "SELECT * FROM request_events WHERE request_number = ? ORDER BY id", (number,)
        )
        return [_event(r) for r in rows]

    def _request(self, row: sqlite3.Row) -> RefundRequest:
        account = None
        if row["account_number"] is not None:
            account = RefundAccount(
                bank=row["bank"],
                number=self._cipher.decrypt(row["account_number"]),
                holder=row["account_holder"],
            )
        return RefundRequest(
            number=row["number"],
            service_id=row["service_id"],
            customer_id=row["customer_id"],
            reason=Reason(row["reason"]),
            message=row["message"],
            service_fee=int(row["service_fee"]),
            sms_charge=int(row["sms_charge"]),
            total=int(row["total"]),
            payment_method=PaymentMethod(row["payment_method"]),
            account=account,
            status=RequestStatus(row["status"]),
            channel=row["channel"],
            chat_id=row["chat_id"],
            decision_note=row["decision_note"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
        )

    # linking ----------------------------------------------------------------------------

    async def insert_link_code(
        self, code_hash: str, customer_id: str, now: datetime, expires_at: datetime
    ) -> None:
        """Store a link code by its hash (the code itself is never stored)."""
        await self.execute(
            "INSERT INTO link_codes (code_hash, customer_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (code_hash, customer_id, _iso(now), _iso(expires_at)),
        )

    async def consume_link_code(self, code_hash: str, chat_id: str, now: datetime) -> str | None:
        """Mark an unused, unexpired code used and return its customer id, else None."""
        row = await self._one(
            "SELECT customer_id, expires_at, used_at FROM link_codes WHERE code_hash = ?",
            (code_hash,),
        )
        if row is None or row["used_at"] is not None:
            return None
        if datetime.fromisoformat(row["expires_at"]) <= now:
            return None
        changed = await self.execute(
            "UPDATE link_codes SET used_at = ?, used_by = ?"
            " WHERE code_hash = ? AND used_at IS NULL",
            (_iso(now), chat_id, code_hash),
        )
        return row["customer_id"] if changed == 1 else None

    async def record_link_failure(self, chat_id: str, now: datetime) -> None:
        """Remember a wrong link code from this chat."""
        await self.execute(
            "INSERT INTO link_failures (chat_id, at) VALUES (?, ?)", (chat_id, _iso(now))
        )

    async def link_failures_since(self, chat_id: str, since: datetime) -> list[datetime]:
        """This chat's wrong link codes after `since`, oldest first."""
        rows = await self._all(
            "SELECT at FROM link_failures WHERE chat_id = ? AND at > ? ORDER BY at",
            (chat_id, _iso(since)),
        )
        return [datetime.fromisoformat(r["at"]) for r in rows]

    async def link_chat(self, chat_id: str, customer_id: str, now: datetime) -> None:
        """Link a chat to a customer, replacing any earlier link of that chat."""
        await self.execute(
            "INSERT INTO chat_links (chat_id, customer_id, linked_at) VALUES (?, ?, ?)"
            " ON CONFLICT(chat_id) DO UPDATE SET customer_id = excluded.customer_id,"
            " linked_at = excluded.linked_at",
            (chat_id, customer_id, _iso(now)),
        )

    async def unlink_chat(self, chat_id: str) -> bool:
        """Remove a chat's link; return whether there was one."""
        return await self.execute("DELETE FROM chat_links WHERE chat_id = ?", (chat_id,)) > 0

    async def linked_customer_id(self, chat_id: str) -> str | None:
        """Return the customer id the chat is linked to, or None."""
        row = await self._one("SELECT customer_id FROM chat_links WHERE chat_id = ?", (chat_id,))
        return row["customer_id"] if row else None

    # small operational values (e.g. the bot's username learnt from getMe) ---------------

    async def get_value(self, key: str) -> str | None:
        """Return a stored operational value, or None."""
        row = await self._one("SELECT value FROM kv WHERE key = ?", (key,))
        return row["value"] if row else None

    async def set_value(self, key: str, value: str) -> None:
        """Store an operational value."""
        await self.execute(
            "INSERT INTO kv (key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    async def linked_chats(self, customer_id: str) -> list[str]:
        """Return the chats linked to a customer, most recently linked first."""
        rows = await self._all(
            "SELECT chat_id FROM chat_links WHERE customer_id = ? ORDER BY linked_at DESC",
            (customer_id,),
        )
        return [r["chat_id"] for r in rows]

    # outbox -----------------------------------------------------------------------------

    async def enqueue(self, chat_id: str, kind: str, payload: dict[str, Any], now: datetime) -> int:
        """Queue a notification for a chat; delivered by the running channel."""
        async with self._conn.execute(
            "INSERT INTO outbox (chat_id, kind, payload, created_at, next_attempt_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (chat_id, kind, json.dumps(payload, ensure_ascii=False), _iso(now), _iso(now)),
        ) as cur:
            return int(cur.lastrowid or 0)

    async def claim_due(
        self,
        chat_prefix: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        *,
        exact: bool = False,
    ) -> list[OutboxItem]:
        """Claim due, unsent notifications of one channel until `lease_until`.

        The lease keeps a second bot process from sending the same message meanwhile; a
        process that dies mid-send lets the lease run out and the message is sent later.
        """
        rows = await self._all(
            "SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
            " AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)"
            " AND (CASE WHEN ? THEN chat_id = ? ELSE substr(chat_id, 1, ?) = ? END)"
            # A chat's notifications go out in order: none while an earlier one is pending.
            " AND NOT EXISTS (SELECT 1 FROM outbox AS earlier WHERE earlier.chat_id ="
            " outbox.chat_id AND earlier.id < outbox.id AND earlier.sent_at IS NULL"
            " AND earlier.failed_at IS NULL)"
            " ORDER BY id LIMIT ?",
            (_iso(now), _iso(now), exact, chat_prefix, len(chat_prefix), chat_prefix, limit),
        )
        for row in rows:
            await self.execute(
                "UPDATE outbox SET claimed_until = ?, attempts = attempts + 1 WHERE id = ?",
                (_iso(lease_until), row["id"]),
            )
        return [
            OutboxItem(
                id=int(r["id"]),
                chat_id=r["chat_id"],
                kind=r["kind"],
                payload=json.loads(r["payload"]),
                attempts=int(r["attempts"]) + 1,
                claimed_until=_iso(lease_until),
            )
            for r in rows
        ]

    # The claim (claimed_until as written by claim_due) must still be ours: a process whose
    # lease ran out must not overwrite what the process that took over recorded.

    async def mark_sent(self, item_id: int, now: datetime, claim: str | None) -> None:
        """Record a delivered notification."""
        await self.execute(
            "UPDATE outbox SET sent_at = ?, claimed_until = NULL, last_error = NULL"
            " WHERE id = ? AND claimed_until IS ?",
            (_iso(now), item_id, claim),
        )

    async def mark_retry(
        self, item_id: int, error: str, next_at: datetime, claim: str | None
    ) -> None:
        """Record a failed attempt and when to try again."""
        await self.execute(
            "UPDATE outbox SET next_attempt_at = ?, claimed_until = NULL, last_error = ?"
            " WHERE id = ? AND claimed_until IS ?",
            (_iso(next_at), error[:500], item_id, claim),
        )

    async def mark_failed(self, item_id: int, error: str, now: datetime, claim: str | None) -> None:
        """Give up on a notification that can never be delivered (e.g. the bot was blocked)."""
        await self.execute(
            "UPDATE outbox SET failed_at = ?, claimed_until = NULL, last_error = ?"
            " WHERE id = ? AND claimed_until IS ?",
            (_iso(now), error[:500], item_id, claim),
        )

    async def outbox_rows(self) -> list[dict[str, Any]]:
        """Every outbox row, oldest first (for operators and tests)."""
        return [dict(r) for r in await self._all("SELECT * FROM outbox ORDER BY id")]

    # inquiries --------------------------------------------------------------------------

    async def insert_inquiry(self, inquiry: Inquiry, submission_key: str | None) -> None:
        """Store a new inquiry."""
        await self.execute(
            "INSERT INTO inquiries (number, customer_id, service_id, topic, context, message,"
            " transcript, attachments, status, answer, handled_by, channel, chat_id,"
            " submission_key, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                inquiry.number,
                inquiry.customer_id,
                inquiry.service_id,
                inquiry.topic,
                inquiry.context,
                inquiry.message,
                json.dumps(list(inquiry.transcript), ensure_ascii=False),
                json.dumps([a.model_dump() for a in inquiry.attachments], ensure_ascii=False),
                inquiry.status,
                inquiry.answer,
                inquiry.handled_by,
                inquiry.channel,
                inquiry.chat_id,
                submission_key,
                _iso(inquiry.created_at),
                _iso(inquiry.updated_at),
            ),
        )

    async def get_inquiry(self, number: str) -> Inquiry | None:
        """Return the inquiry with this number, or None."""
        row = await self._one("SELECT * FROM inquiries WHERE number = ?", (number,))
        return _inquiry(row) if row else None

    async def inquiry_by_submission_key(self, key: str) -> Inquiry | None:
        """Return the inquiry filed with this key (a replayed submission), or None."""
        row = await self._one("SELECT * FROM inquiries WHERE submission_key = ?", (key,))
        return _inquiry(row) if row else None

    async def list_inquiries(self, status: str | None = None) -> list[Inquiry]:
        """Return inquiries oldest first, optionally of one status."""
        if status:
            rows = await self._all(
                "SELECT * FROM inquiries WHERE status = ? ORDER BY created_at, number", (status,)
            )
        else:
            rows = await self._all("SELECT * FROM inquiries ORDER BY created_at, number")
        return [_inquiry(r) for r in rows]

    async def update_inquiry(
        self, number: str, status: str, answer: str | None, agent: str, now: datetime
    ) -> None:
        """Answer or close an inquiry."""
        await self.execute(
            "UPDATE inquiries SET status = ?, answer = COALESCE(?, answer), handled_by = ?,"
            " updated_at = ? WHERE number = ?",
            (status, answer, agent, _iso(now), number),
        )

    # FAQ events -------------------------------------------------------------------------

    async def log_faq_event(
        self,
        *,
        at: datetime,
        chat_id: str | None,
        kind: str,
        intent: str | None,
        text: str,
        normalized: str,
        helpful: bool | None = None,
    ) -> None:
        """Record an FAQ answer, clarify, fallback or a 👍/👎."""
        await self.execute(
            "INSERT INTO faq_events (at, chat_id, kind, intent, text, normalized, helpful)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                _iso(at),
                chat_id,
                kind,
                intent,
                text,
                normalized,
                None if helpful is None else int(helpful),
            ),
        )

    async def faq_events(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """FAQ events in [since, until), oldest first."""
        rows = await self._all(
            "SELECT * FROM faq_events WHERE at >= ? AND at < ? ORDER BY id",
            (_iso(since), _iso(until)),
        )
        return [dict(r) for r in rows]

    async def request_events_between(self, since: datetime, until: datetime) -> list[AuditEvent]:
        """Audit events in [since, until), oldest first."""
        rows = await self._all(
            "SELECT * FROM request_events WHERE at >= ? AND at < ? ORDER BY id",
            (_iso(since), _iso(until)),
        )
        return [_event(r) for r in rows]

    # dialogue state ---------------------------------------------------------------------

    async def load_conversation(
        self, chat_id: str
    ) -> tuple[str, dict[str, Any], int, datetime] | None:
        """Return (state, data, version, updated_at) of a chat's conversation, or None."""
        row = await self._one("SELECT * FROM conversations WHERE chat_id = ?", (chat_id,))
        if row is None:
            return None
        return (
            row["state"],
            json.loads(self._cipher.decrypt(row["data"])),
            int(row["version"]),
            datetime.fromisoformat(row["updated_at"]),
        )

    async def save_conversation(
        self, chat_id: str, state: str, data: dict[str, Any], expected_version: int, now: datetime
    ) -> bool:
        """Store a chat's conversation if nobody changed it since `expected_version`.

        Returns False on a version conflict (another process moved the conversation on), so the
        caller can reload and re-apply instead of silently overwriting it.
        """
        # Encrypted whole: mid-flow it holds the refund account the customer is typing in.
        payload = self._cipher.encrypt(json.dumps(data, ensure_ascii=False, sort_keys=True))
        if expected_version == 0:
            changed = await self.execute(
                "INSERT INTO conversations (chat_id, state, data, version, updated_at)"
                " VALUES (?, ?, ?, 1, ?) ON CONFLICT(chat_id) DO NOTHING",
                (chat_id, state, payload, _iso(now)),
            )
        else:
            changed = await self.execute(
                "UPDATE conversations SET state = ?, data = ?, version = version + 1,"
                " updated_at = ? WHERE chat_id = ? AND version = ?",
                (state, payload, _iso(now), chat_id, expected_version),
            )
        return changed == 1


def _service(row: sqlite3.Row) -> Service:
    return Service(
        id=row["id"],
        customer_id=row["customer_id"],
        issued_on=date.fromisoformat(row["issued_on"]),
        service_fee=int(row["service_fee"]),
        sms_charge=int(row["sms_charge"]),
        sms_sent=int(row["sms_sent"]),
        payment_method=PaymentMethod(row["payment_method"]),
        status=ServiceStatus(row["status"]),
    )


def _event(row: sqlite3.Row) -> AuditEvent:
    return AuditEvent(
        request_number=row["request_number"],
        at=datetime.fromisoformat(row["at"]),
        actor=row["actor"],
        action=row["action"],
        detail=row["detail"],
    )


def _inquiry(row: sqlite3.Row) -> Inquiry:
    return Inquiry(
        number=row["number"],
        customer_id=row["customer_id"],
        service_id=row["service_id"],
        topic=row["topic"],
        context=row["context"],
        message=row["message"],
        transcript=tuple(json.loads(row["transcript"])),
        attachments=tuple(Attachment(**a) for a in json.loads(row["attachments"])),
        status=row["status"],
        answer=row["answer"],
        handled_by=row["handled_by"],
        channel=row["channel"],
        chat_id=row["chat_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
