"""The SQLite schema, as numbered migrations; `PRAGMA user_version` records how many ran.

A migration is never edited once released: a change is a new entry at the end. Money columns are
INTEGER with a type check, so a REAL can never be stored.
"""

from __future__ import annotations

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
    # 4: withdrawn requests (the customer takes a submitted request back), inquiries that carry the
    # refund the customer could not file (reason, message, an account encrypted like requests'),
    # an append-only trail of inquiry decisions, conversation acts in the FAQ log, and indexes for
    # the agents' queries and the outbox at volume. SQLite cannot alter a CHECK: the two tables
    # are rebuilt (foreign keys are off while migrations run).
    """
    CREATE TABLE refund_requests_v4 (
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
        status TEXT NOT NULL
            CHECK (status IN ('submitted', 'approved', 'rejected', 'refunded', 'withdrawn')),
        channel TEXT NOT NULL,
        chat_id TEXT,
        submission_key TEXT UNIQUE,
        decision_note TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK (payment_method = 'mycash' OR
               (bank IS NOT NULL AND account_number IS NOT NULL AND account_holder IS NOT NULL))
    );
    INSERT INTO refund_requests_v4 SELECT * FROM refund_requests;
    DROP TABLE refund_requests;
    ALTER TABLE refund_requests_v4 RENAME TO refund_requests;
    CREATE UNIQUE INDEX one_open_request_per_service
        ON refund_requests(service_id) WHERE status IN ('submitted', 'approved');
    CREATE INDEX requests_by_customer ON refund_requests(customer_id);
    CREATE INDEX requests_by_status ON refund_requests(status, created_at, number);
    CREATE INDEX requests_by_time ON refund_requests(created_at, number);
    CREATE INDEX request_events_by_request ON request_events(request_number, id);
    CREATE INDEX request_events_by_time ON request_events(at);
    ALTER TABLE inquiries ADD COLUMN refund_reason TEXT;
    ALTER TABLE inquiries ADD COLUMN refund_message TEXT;
    ALTER TABLE inquiries ADD COLUMN bank TEXT;
    ALTER TABLE inquiries ADD COLUMN account_number TEXT;
    ALTER TABLE inquiries ADD COLUMN account_holder TEXT;
    CREATE INDEX inquiries_by_time ON inquiries(created_at, number);
    CREATE TABLE inquiry_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        inquiry_number TEXT NOT NULL REFERENCES inquiries(number),
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX inquiry_events_by_inquiry ON inquiry_events(inquiry_number, id);
    CREATE TRIGGER inquiry_events_append_only_update BEFORE UPDATE ON inquiry_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TRIGGER inquiry_events_append_only_delete BEFORE DELETE ON inquiry_events
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
    CREATE TABLE faq_events_v4 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at TEXT NOT NULL,
        chat_id TEXT,
        kind TEXT NOT NULL
            CHECK (kind IN ('answer', 'clarify', 'fallback', 'feedback', 'act')),
        intent TEXT,
        text TEXT NOT NULL,
        normalized TEXT NOT NULL,
        helpful INTEGER CHECK (helpful IN (0, 1))
    );
    INSERT INTO faq_events_v4 SELECT * FROM faq_events;
    DROP TABLE faq_events;
    ALTER TABLE faq_events_v4 RENAME TO faq_events;
    CREATE INDEX faq_events_by_time ON faq_events(at);
    CREATE INDEX faq_events_by_kind ON faq_events(kind, at);
    CREATE INDEX outbox_pending_by_chat ON outbox(chat_id, id)
        WHERE sent_at IS NULL AND failed_at IS NULL;
    """,
    # 5: the agents' staff chat (a Telegram forum): which topic and summary card each case
    # (request or inquiry) has there, and what the bot waits for in it. A case can be handled in
    # another case's topic (`topic_of`: the customer wrote again); that topic's state is kept on
    # the case that owns it. Written in plain SQL that PostgreSQL runs unchanged: ids and times
    # are TEXT, message ids BIGINT, flags 0/1 integers.
    """
    CREATE TABLE staff_topics (
        chat_id TEXT NOT NULL,
        case_number TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('request', 'inquiry')),
        customer_id TEXT NOT NULL REFERENCES customers(id),
        topic_of TEXT,
        thread_id BIGINT,
        card_message_id BIGINT,
        files_sent INTEGER NOT NULL DEFAULT 0,
        topic_closed INTEGER NOT NULL DEFAULT 0 CHECK (topic_closed IN (0, 1)),
        reject_by TEXT,
        reject_asked_at TEXT,
        relay_acked INTEGER NOT NULL DEFAULT 0 CHECK (relay_acked IN (0, 1)),
        reminded_at TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (chat_id, case_number)
    );
    CREATE INDEX staff_topics_by_thread ON staff_topics(chat_id, thread_id);
    CREATE INDEX staff_topics_by_customer ON staff_topics(chat_id, customer_id, created_at);
    """,
)
