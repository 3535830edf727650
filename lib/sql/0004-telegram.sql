-- 0004-telegram: the Telegram binding (DESIGN 6) and the messages kept
-- for seed 004 (DESIGN 8).  Tokens are never stored: a bot is named by
-- the first 16 hex digits of SHA-256(token).

-- Deep-link codes of corp-bind code: only the SHA-256 of a code is kept.
-- A code is usable while used_at and superseded_at are NULL and
-- expires_at is in the future.
CREATE TABLE tg_codes (
	code_sha256	TEXT PRIMARY KEY,
	user_id		INTEGER NOT NULL REFERENCES users(id),
	created_at	INTEGER NOT NULL,
	expires_at	INTEGER NOT NULL,
	used_at		INTEGER,
	used_chat_id	INTEGER,
	superseded_at	INTEGER
) STRICT;
CREATE INDEX tg_codes_user ON tg_codes(user_id);

-- getUpdates offset per bot: the next update_id to ask for.
CREATE TABLE tg_offsets (
	bot		TEXT PRIMARY KEY,
	next_offset	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
) STRICT;

-- Updates already handled (polled or spooled), so that an update
-- handled twice has its effects once.  Kept 8 days: Telegram picks
-- update ids at random after a week without updates.
CREATE TABLE tg_updates (
	update_id	INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL,
	handled_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX tg_updates_handled ON tg_updates(handled_at);

-- Wrong codes per chat (the last hour matters) and chats ignored after
-- five of them within an hour.
CREATE TABLE tg_code_failures (
	chat_id		INTEGER NOT NULL,
	failed_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX tg_code_failures_chat ON tg_code_failures(chat_id, failed_at);
CREATE TABLE tg_chat_blocks (
	chat_id		INTEGER PRIMARY KEY,
	blocked_until	INTEGER NOT NULL
) STRICT;

-- Bot replies: written with the update's effects, sent after the commit
-- through the shared limiter.  Not delivery rows.
CREATE TABLE tg_outbox (
	id		INTEGER PRIMARY KEY,
	chat_id		INTEGER NOT NULL,
	key		TEXT NOT NULL,		-- the catalog key
	lang		TEXT NOT NULL,		-- the language rendered
	text		TEXT NOT NULL,		-- Telegram HTML
	update_id	INTEGER,
	status		TEXT NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'sent', 'failed')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	error		TEXT,
	provider_message_id TEXT,
	created_at	INTEGER NOT NULL,
	sent_at		INTEGER
) STRICT;
CREATE INDEX tg_outbox_pending ON tg_outbox(id) WHERE status = 'pending';

-- Messages of any chat, once per (chat, message id) (DESIGN 8).  text is
-- the text or the caption; raw is the last Update object seen for it.
CREATE TABLE tg_messages (
	id		INTEGER PRIMARY KEY,
	chat_id		INTEGER NOT NULL,
	message_id	INTEGER NOT NULL,
	chat_type	TEXT NOT NULL,
	chat_title	TEXT,
	from_id		INTEGER,
	from_username	TEXT,
	from_name	TEXT,
	date		INTEGER NOT NULL,
	edit_date	INTEGER,
	text		TEXT,
	reply_to_message_id INTEGER,
	entities	TEXT,			-- JSON array or NULL
	raw		TEXT NOT NULL,
	update_id	INTEGER NOT NULL,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (chat_id, message_id)
) STRICT;
CREATE INDEX tg_messages_chat_date ON tg_messages(chat_id, date, message_id);

-- Earlier versions of edited messages: the text before each edit.
CREATE TABLE tg_message_edits (
	id		INTEGER PRIMARY KEY,
	message_row_id	INTEGER NOT NULL REFERENCES tg_messages(id),
	text		TEXT,
	entities	TEXT,
	edit_date	INTEGER,		-- of the previous version
	replaced_at	INTEGER NOT NULL,	-- date of the edit that replaced it
	update_id	INTEGER NOT NULL
) STRICT;
CREATE INDEX tg_message_edits_row ON tg_message_edits(message_row_id);

-- Callback queries: acknowledged and stored, not answered (DESIGN 11).
CREATE TABLE tg_callbacks (
	id		TEXT PRIMARY KEY,
	from_id		INTEGER,
	chat_id		INTEGER,
	message_id	INTEGER,
	data		TEXT,
	raw		TEXT NOT NULL,
	update_id	INTEGER NOT NULL,
	received_at	INTEGER NOT NULL
) STRICT;

PRAGMA user_version = 4;
