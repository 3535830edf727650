-- 0024-in-checks: the IN-list CHECKs left on the tables route and the
-- ack write per row, as equalities (issue 18), edited in place as 0023
-- edited deliveries' status (its comment says how and why):
-- deliveries' priority and route_decisions' decision (every row route
-- inserts, and fallback's UPDATE of a decision) and delivery_counters'
-- result (one upsert per channel and result in each ack transaction).
-- SQLite codes an IN list of three or more constants in a CHECK as an
-- ephemeral table, filled each time the CHECK runs; two constants
-- (readiness, delivery_attempts' attempted, the 0/1 flags) are compared
-- in place and stay as they are.  Each list of equalities accepts the
-- same values: corp-event route went from 3 886 M to 3 023 M
-- instructions on 32 000 rows (-22 %), an ack of one line per
-- transaction from 518 k to 484 k (tests/bench/PROFILE 12).
--
-- A table whose text differs (none corp made) is left as it is.
-- PostgreSQL keeps its CHECKs (= ANY (ARRAY[...]), evaluated in place):
-- its step only sets the version.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (priority IN (''urgent'', ''p2p'', ''broadcast''))',
    'CHECK (priority = ''urgent'' OR priority = ''p2p''
	    OR priority = ''broadcast'')')
WHERE type = 'table' AND name = 'deliveries';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (decision IN (''created'',
	    ''muted_channel'', ''muted_type'', ''disabled'', ''self'', ''no_bind'',
	    ''refused'', ''fallback'', ''digested''))',
    'CHECK (decision = ''created''
	    OR decision = ''muted_channel'' OR decision = ''muted_type''
	    OR decision = ''disabled'' OR decision = ''self''
	    OR decision = ''no_bind'' OR decision = ''refused''
	    OR decision = ''fallback'' OR decision = ''digested'')')
WHERE type = 'table' AND name = 'route_decisions';
UPDATE sqlite_schema SET sql = replace(sql,
    'CHECK (result IN (''sent'', ''retried'', ''held'',
	    ''unbound'', ''failed'', ''dead_lettered''))',
    'CHECK (result = ''sent'' OR result = ''retried''
	    OR result = ''held'' OR result = ''unbound'' OR result = ''failed''
	    OR result = ''dead_lettered'')')
WHERE type = 'table' AND name = 'delivery_counters';
PRAGMA writable_schema = OFF;

PRAGMA user_version = 24;
