-- 0017-counters: what the queue did, counted since the database was made
-- (issue 21 item 4, corp-deliver.1 stats).  Counted in the transaction
-- of the ack or claim that did it, never derived from deliveries or
-- delivery_attempts: prune deletes those rows, a count stays.
-- result: an ack's stored outcome (sent, retried, held, unbound,
-- failed) or dead_lettered (every row the queue moved to FAILED).
-- last_at: the time of the last count (for sent: the last send).
CREATE TABLE delivery_counters (
	channel TEXT NOT NULL,
	result TEXT NOT NULL CHECK (result IN ('sent', 'retried', 'held',
	    'unbound', 'failed', 'dead_lettered')),
	n INTEGER NOT NULL DEFAULT 0 CHECK (n >= 0),
	last_at INTEGER,
	PRIMARY KEY (channel, result)
) STRICT, WITHOUT ROWID;

-- A database made before: the counts start from the rows still kept.
INSERT INTO delivery_counters (channel, result, n, last_at)
SELECT channel, 'sent', count(*), max(sent_at) FROM deliveries
WHERE status = 'SENT' GROUP BY channel;
INSERT INTO delivery_counters (channel, result, n, last_at)
SELECT channel, 'dead_lettered', count(*), max(updated_at) FROM deliveries
WHERE status = 'FAILED' GROUP BY channel;

-- When route last routed an event (null: never).
ALTER TABLE route_state ADD COLUMN routed_at INTEGER;

PRAGMA user_version = 17;
