-- 0005-analysis: seed 004's analysis runs over stored Telegram messages
-- (tg_messages of 0004), the batches they hand to a proposer, the task
-- proposals that come back, and the invalid ones (DESIGN 8).

-- A run: one chat, the messages whose date is in [window_start,
-- window_end), the pre-filter settings (JSON), and the proposer it ran
-- with.  The counters are kept equal to a count of its proposals (corp-db
-- check: analysis_counters).  lease_until/lease_token: the foreground
-- worker's lease while running; a running run whose lease expired is
-- failed "worker lost" by the next command that touches runs.
CREATE TABLE analysis_runs (
	id			INTEGER PRIMARY KEY,
	chat_id			INTEGER NOT NULL,
	window_start		INTEGER NOT NULL,
	window_end		INTEGER NOT NULL,
	filter			TEXT NOT NULL,		-- JSON object
	status			TEXT NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'running', 'completed', 'reviewed',
	    'closed', 'failed', 'cancelled')),
	proposer		TEXT,			-- set by start
	created_by		INTEGER NOT NULL REFERENCES users(id),
	created_at		INTEGER NOT NULL,
	started_at		INTEGER,
	completed_at		INTEGER,
	failed_at		INTEGER,
	reviewed_at		INTEGER,
	closed_at		INTEGER,
	cancelled_at		INTEGER,
	lease_until		INTEGER,
	lease_token		TEXT,
	messages_total		INTEGER NOT NULL DEFAULT 0,
	batches_total		INTEGER NOT NULL DEFAULT 0,
	batches_done		INTEGER NOT NULL DEFAULT 0,
	proposals_total		INTEGER NOT NULL DEFAULT 0,
	proposals_pending	INTEGER NOT NULL DEFAULT 0,
	proposals_approved	INTEGER NOT NULL DEFAULT 0,
	proposals_rejected	INTEGER NOT NULL DEFAULT 0,
	proposals_merged	INTEGER NOT NULL DEFAULT 0,
	errors_total		INTEGER NOT NULL DEFAULT 0,
	error			TEXT,			-- why it failed
	accuracy		REAL,			-- set by close
	CHECK (window_end > window_start)
) STRICT;
-- The blocking rule: one unfinished run per chat (the seed's 409).
CREATE UNIQUE INDEX analysis_runs_open ON analysis_runs(chat_id)
    WHERE status IN ('pending', 'running', 'completed', 'reviewed');
CREATE INDEX analysis_runs_running ON analysis_runs(lease_until)
    WHERE status = 'running';

-- Batches handed to the proposer and finished: a row per finished batch,
-- written with its proposals.
CREATE TABLE analysis_batches (
	run_id		INTEGER NOT NULL REFERENCES analysis_runs(id),
	seq		INTEGER NOT NULL,	-- 1, 2, ... in handing order
	window_start	INTEGER NOT NULL,	-- the 10-minute window
	messages	INTEGER NOT NULL,
	proposals	INTEGER NOT NULL,
	errors		INTEGER NOT NULL,
	done_at		INTEGER NOT NULL,
	PRIMARY KEY (run_id, seq)
) STRICT;

CREATE TABLE proposals (
	id			INTEGER PRIMARY KEY,
	run_id			INTEGER NOT NULL REFERENCES analysis_runs(id),
	batch_seq		INTEGER NOT NULL,
	status			TEXT NOT NULL DEFAULT 'pending'
	    CHECK (status IN ('pending', 'approved', 'rejected', 'merged')),
	title			TEXT NOT NULL CHECK (title <> ''),
	description		TEXT,
	assignee_user_id	INTEGER REFERENCES users(id),
	due_at			INTEGER,
	messages		TEXT NOT NULL,	-- JSON array of message ids
	task_id			INTEGER REFERENCES tasks(id), -- approve, merge
	decided_by		INTEGER REFERENCES users(id),
	decided_at		INTEGER,
	reason			TEXT,
	created_at		INTEGER NOT NULL,
	updated_at		INTEGER NOT NULL,
	CHECK ((status = 'pending') = (decided_at IS NULL)),
	CHECK ((status IN ('approved', 'merged')) = (task_id IS NOT NULL))
) STRICT;
CREATE INDEX proposals_run ON proposals(run_id, id);

-- What a proposer answered that was not a valid proposal: kept for the
-- operator, counted in analysis_runs.errors_total, never a proposal.
CREATE TABLE proposal_errors (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES analysis_runs(id),
	batch_seq	INTEGER NOT NULL,
	error		TEXT NOT NULL,
	line		TEXT NOT NULL,
	created_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX proposal_errors_run ON proposal_errors(run_id, id);

PRAGMA user_version = 5;
