-- 0002-domain: the directory, templates, tasks, reports and the event
-- log (DESIGN 3).  Ids are integers; times INTEGER Unix seconds.

CREATE TABLE org_units (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,	-- the handle used on the command line
	title		TEXT NOT NULL,
	parent_id	INTEGER REFERENCES org_units(id),
	head_user_id	INTEGER REFERENCES users(id),
	tz		TEXT,			-- NULL: CORP_TZ, else UTC
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL,
	CHECK (parent_id IS NULL OR parent_id <> id)
) STRICT;
CREATE INDEX org_units_parent ON org_units(parent_id);

CREATE TABLE users (
	id		INTEGER PRIMARY KEY,
	login		TEXT NOT NULL UNIQUE,
	name		TEXT NOT NULL,
	lang		TEXT,			-- NULL: fallback_lang
	tz		TEXT,			-- NULL: the unit's zone
	org_unit_id	INTEGER REFERENCES org_units(id),
	is_admin	INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
	active		INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX users_unit ON users(org_unit_id);

-- A deputy acts for the principal inside [valid_from, valid_until).
CREATE TABLE delegations (
	id		INTEGER PRIMARY KEY,
	principal_id	INTEGER NOT NULL REFERENCES users(id),
	deputy_id	INTEGER NOT NULL REFERENCES users(id),
	valid_from	INTEGER NOT NULL,
	valid_until	INTEGER NOT NULL,
	revoked_at	INTEGER,
	created_at	INTEGER NOT NULL,
	CHECK (valid_from < valid_until),
	CHECK (principal_id <> deputy_id)
) STRICT;
CREATE INDEX delegations_principal ON delegations(principal_id);
CREATE INDEX delegations_deputy ON delegations(deputy_id);

CREATE TABLE templates (
	id			INTEGER PRIMARY KEY,
	title			TEXT NOT NULL,
	description		TEXT NOT NULL DEFAULT '',
	schedule		TEXT NOT NULL
	    CHECK (schedule IN ('monthly', 'weekly', 'daily', 'once')),
	due_rule		TEXT NOT NULL,	-- see corp-template(1)
	assignee_user_id	INTEGER REFERENCES users(id),
	assignee_org_unit_id	INTEGER REFERENCES org_units(id),
	initiator_user_id	INTEGER NOT NULL REFERENCES users(id),
	starts_at		INTEGER NOT NULL, -- no period before this
	active			INTEGER NOT NULL DEFAULT 1
	    CHECK (active IN (0, 1)),
	created_at		INTEGER NOT NULL,
	updated_at		INTEGER NOT NULL,
	CHECK (assignee_user_id IS NOT NULL OR assignee_org_unit_id IS NOT NULL)
) STRICT;

CREATE TABLE tasks (
	id			INTEGER PRIMARY KEY,
	template_id		INTEGER REFERENCES templates(id),
	period_key		TEXT,
	title			TEXT NOT NULL,
	description		TEXT NOT NULL DEFAULT '',
	state			TEXT NOT NULL CHECK (state IN ('DRAFT', 'OPEN',
	    'WAITING_APPROVAL', 'DONE', 'CANCELLED')),
	version			INTEGER NOT NULL DEFAULT 1,
	initiator_user_id	INTEGER REFERENCES users(id), -- NULL: system
	assignee_user_id	INTEGER REFERENCES users(id),
	assignee_org_unit_id	INTEGER NOT NULL REFERENCES org_units(id),
	due_at			INTEGER,
	created_at		INTEGER NOT NULL,
	updated_at		INTEGER NOT NULL,
	UNIQUE (template_id, period_key)
) STRICT;
CREATE INDEX tasks_state_due ON tasks(state, due_at);
CREATE INDEX tasks_assignee ON tasks(assignee_user_id);
CREATE INDEX tasks_unit ON tasks(assignee_org_unit_id);
CREATE INDEX tasks_initiator ON tasks(initiator_user_id);

CREATE TABLE task_reports (
	id			INTEGER PRIMARY KEY,
	task_id			INTEGER NOT NULL REFERENCES tasks(id),
	version			INTEGER NOT NULL,
	author_user_id		INTEGER NOT NULL REFERENCES users(id),
	on_behalf_of_user_id	INTEGER REFERENCES users(id),
	text			TEXT NOT NULL,
	link			TEXT,
	file_ref		TEXT,
	submitted_at		INTEGER NOT NULL,
	status			TEXT NOT NULL DEFAULT 'submitted'
	    CHECK (status IN ('submitted', 'approved', 'rejected')),
	decided_by_user_id	INTEGER REFERENCES users(id),
	decided_at		INTEGER,
	reason			TEXT,
	UNIQUE (task_id, version)
) STRICT;

-- The append-only event log.  AUTOINCREMENT: an id is never reused, also
-- after deletes and VACUUM.  Task events carry the task's values at the
-- moment of the event; routing evaluates visibility from them.
CREATE TABLE events (
	event_id			INTEGER PRIMARY KEY AUTOINCREMENT,
	event_type			TEXT NOT NULL,
	topic				TEXT,	-- seed 004 topics; never routed
	occurred_at			INTEGER NOT NULL,
	task_id				INTEGER REFERENCES tasks(id),
	task_version			INTEGER,
	state				TEXT,	-- the task's state after it
	report_id			INTEGER REFERENCES task_reports(id),
	actor_user_id			INTEGER REFERENCES users(id),
	on_behalf_of_user_id		INTEGER REFERENCES users(id),
	initiator_user_id		INTEGER REFERENCES users(id),
	assignee_user_id		INTEGER REFERENCES users(id),
	assignee_org_unit_id		INTEGER REFERENCES org_units(id),
	previous_assignee_user_id	INTEGER REFERENCES users(id),
	previous_assignee_org_unit_id	INTEGER REFERENCES org_units(id),
	period_key			TEXT,
	auto				INTEGER NOT NULL DEFAULT 0,
	reason				TEXT,
	title				TEXT,
	due_at				INTEGER,
	template_id			INTEGER REFERENCES templates(id),
	trace_id			TEXT NOT NULL,
	dedupe_key			TEXT NOT NULL UNIQUE,
	source				TEXT,	-- emit: the producer
	recipients			TEXT,	-- emit: [{user_id, role}] JSON
	payload				TEXT	-- JSON object or NULL
) STRICT;
CREATE INDEX events_task ON events(task_id, event_id);
CREATE INDEX events_type ON events(event_type, event_id);
CREATE INDEX events_topic ON events(topic, event_id) WHERE topic IS NOT NULL;

PRAGMA user_version = 2;
