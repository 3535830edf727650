-- 0003-queue: routing and the delivery queue (DESIGN 4, 5).

-- The router's watermark: every event up to it has been routed.
CREATE TABLE route_state (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	watermark	INTEGER NOT NULL
) STRICT;
INSERT INTO route_state (id, watermark) VALUES (1, 0);

-- Per event_type x role x channel.  Route uses the first enabled role
-- of a recipient (executor, initiator, supervisor, deputy,
-- previous_executor, admin, then any other role by name).
CREATE TABLE notification_settings (
	event_type	TEXT NOT NULL,
	role		TEXT NOT NULL,
	channel		TEXT NOT NULL,
	enabled		INTEGER NOT NULL CHECK (enabled IN (0, 1)),
	priority	TEXT NOT NULL DEFAULT 'p2p'
	    CHECK (priority IN ('urgent', 'p2p', 'broadcast')),
	template	TEXT NOT NULL,
	notify_self	INTEGER NOT NULL DEFAULT 0 CHECK (notify_self IN (0, 1)),
	PRIMARY KEY (event_type, role, channel)
) STRICT, WITHOUT ROWID;

-- Defaults (DESIGN 4): Telegram, priority p2p, template = lower-case type.
WITH d(event_type, role) AS (VALUES
	('TASK_CREATED', 'initiator'), ('TASK_ASSIGNED', 'initiator'),
	('TASK_DUE_CHANGED', 'initiator'), ('REPORT_SUBMITTED', 'initiator'),
	('APPROVED', 'initiator'), ('REJECTED', 'initiator'),
	('TASK_CANCELLED', 'initiator'), ('TASK_DUE_SOON', 'initiator'),
	('TASK_OVERDUE', 'initiator'),
	('TASK_CREATED', 'executor'), ('TASK_ASSIGNED', 'executor'),
	('APPROVED', 'executor'), ('REJECTED', 'executor'),
	('TASK_CANCELLED', 'executor'), ('TASK_DUE_SOON', 'executor'),
	('TASK_OVERDUE', 'executor'), ('TASK_DUE_CHANGED', 'executor'),
	('TASK_ASSIGNED', 'previous_executor'),
	('TASK_OVERDUE', 'supervisor'),
	-- seed 003's matrix; "- сам" is the actor, excluded as self.
	('booking_created', 'client'), ('booking_created', 'specialist'),
	('booking_created', 'admin'),
	('booking_cancelled', 'client'), ('booking_cancelled', 'specialist'),
	('booking_cancelled', 'admin'),
	('booking_rescheduled', 'client'),
	('booking_rescheduled', 'specialist'),
	('booking_rescheduled', 'admin'),
	('booking_done', 'admin'))
INSERT INTO notification_settings (event_type, role, channel, enabled,
    priority, template)
SELECT event_type, role, 'telegram', 1, 'p2p', lower(event_type) FROM d;

-- Per-user preferences.  Quiet hours are minutes of the local day in
-- the user's zone, [start, end); start > end wraps midnight.
CREATE TABLE user_prefs (
	user_id		INTEGER PRIMARY KEY REFERENCES users(id),
	quiet_start	INTEGER CHECK (quiet_start BETWEEN 0 AND 1439),
	quiet_end	INTEGER CHECK (quiet_end BETWEEN 0 AND 1439)
) STRICT;

CREATE TABLE user_mutes (
	user_id		INTEGER NOT NULL REFERENCES users(id),
	kind		TEXT NOT NULL CHECK (kind IN ('channel', 'event_type')),
	value		TEXT NOT NULL,
	PRIMARY KEY (user_id, kind, value)
) STRICT, WITHOUT ROWID;

-- user x channel -> address.  An inactive bind holds rows waiting.
CREATE TABLE binds (
	user_id		INTEGER NOT NULL REFERENCES users(id),
	channel		TEXT NOT NULL,
	address		TEXT NOT NULL,
	active		INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	PRIMARY KEY (user_id, channel)
) STRICT;
CREATE UNIQUE INDEX binds_address ON binds(channel, address)
    WHERE active = 1;

-- Seed 000's task_event_recipients: who an event reached, with roles.
CREATE TABLE event_recipients (
	event_id	INTEGER NOT NULL REFERENCES events(event_id),
	user_id		INTEGER NOT NULL REFERENCES users(id),
	roles		TEXT NOT NULL,		-- "executor,deputy:initiator"
	PRIMARY KEY (event_id, user_id)
) STRICT, WITHOUT ROWID;

-- One decision per recipient and channel; only 'created' has a row in
-- deliveries.
CREATE TABLE route_decisions (
	event_id	INTEGER NOT NULL,
	user_id		INTEGER NOT NULL REFERENCES users(id),
	channel		TEXT NOT NULL,
	decision	TEXT NOT NULL CHECK (decision IN ('created',
	    'muted_channel', 'muted_type', 'disabled', 'self', 'no_bind',
	    'refused')),
	role		TEXT,			-- the role whose setting decided
	roles		TEXT,
	decided_at	INTEGER NOT NULL,
	PRIMARY KEY (event_id, user_id, channel)
) STRICT, WITHOUT ROWID;

-- Seed 000's task_event_deliveries: the single source of truth.
CREATE TABLE deliveries (
	id		INTEGER PRIMARY KEY,
	event_id	INTEGER NOT NULL REFERENCES events(event_id),
	user_id		INTEGER NOT NULL REFERENCES users(id),
	channel		TEXT NOT NULL,
	role		TEXT NOT NULL,
	roles		TEXT NOT NULL,
	priority	TEXT NOT NULL
	    CHECK (priority IN ('urgent', 'p2p', 'broadcast')),
	template	TEXT NOT NULL,
	status		TEXT NOT NULL DEFAULT 'PENDING'
	    CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
	readiness	TEXT NOT NULL DEFAULT 'ready'
	    CHECK (readiness IN ('ready', 'waiting_bind')),
	waiting_since	INTEGER,	-- when it last became waiting_bind
	not_before	INTEGER NOT NULL DEFAULT 0,
	attempts	INTEGER NOT NULL DEFAULT 0,
	lease_expiries	INTEGER NOT NULL DEFAULT 0,
	lease_token	TEXT,
	lease_until	INTEGER,
	worker		TEXT,
	sent_at		INTEGER,
	provider_message_id TEXT,
	error		TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (event_id, user_id, channel),
	CHECK ((lease_token IS NULL) = (lease_until IS NULL))
) STRICT;
-- Claims walk ready PENDING rows in (event_id, user_id) order: O(batch)
-- however many SENT rows there are.
CREATE INDEX deliveries_ready ON deliveries(channel, event_id, user_id,
    not_before) WHERE status = 'PENDING' AND readiness = 'ready';
CREATE INDEX deliveries_leased ON deliveries(channel, user_id, lease_until)
    WHERE lease_token IS NOT NULL;
CREATE INDEX deliveries_waiting ON deliveries(user_id, channel)
    WHERE status = 'PENDING' AND readiness = 'waiting_bind';
CREATE INDEX deliveries_status ON deliveries(status, channel);
CREATE INDEX deliveries_user ON deliveries(user_id, status);

-- Every ack, kept also across requeue.
CREATE TABLE delivery_attempts (
	id		INTEGER PRIMARY KEY,
	delivery_id	INTEGER NOT NULL REFERENCES deliveries(id),
	at		INTEGER NOT NULL,
	worker		TEXT,
	result		TEXT NOT NULL,
	attempted	INTEGER NOT NULL CHECK (attempted IN (0, 1)),
	stored		TEXT NOT NULL,
	error		TEXT,
	provider_message_id TEXT,
	not_before	INTEGER
) STRICT;
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id);

PRAGMA user_version = 3;
