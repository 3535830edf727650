-- PostgreSQL only: the Telegram limiter shared by every host (DESIGN 9):
-- its times come from the server's clock_timestamp(), the one SQL that
-- reads a clock (lib/ratelimit.c; with SQLite the limiter is a file of
-- one machine).  A key is named "KIND-HASH", HASH the first 16 hex
-- digits of SHA-256(token); the token is never stored.  Times are Unix
-- milliseconds of the server's clock.
CREATE TABLE rate_limits (
	key_hash	TEXT COLLATE "C" PRIMARY KEY,
	pause_until_ms	BIGINT NOT NULL DEFAULT 0	-- a 429's pause
);
-- The sliding window of one key: sends past and reserved, at_ms their
-- slot; chat is '' for a send without a per-chat limit.  A reservation
-- deletes what no window can hold any more.
CREATE TABLE rate_limit_sends (
	key_hash	TEXT COLLATE "C" NOT NULL REFERENCES rate_limits(key_hash),
	at_ms		BIGINT NOT NULL,
	chat		TEXT COLLATE "C" NOT NULL
);
CREATE INDEX rate_limit_sends_key ON rate_limit_sends(key_hash, at_ms);
