-- tests/pg/compat.sql -- the SQLite functions the tests' own SQL uses, for
-- PostgreSQL (make check-pg).  tests/lib.sh loads this into the schema
-- sqlite_compat of every test database and puts that schema last on the
-- search path of the sql helper's sessions only: corp's own connections
-- never see it, and dumps (sql .dump) leave it out.  It holds functions
-- and one view, no table.  Only what the tests call, with SQLite's
-- results (types and text) as the CLI prints them.
CREATE SCHEMA sqlite_compat;
SET search_path = sqlite_compat, pg_catalog;

-- group_concat(X [, SEP]): SEP defaults to ','; NULLs are left out.
CREATE FUNCTION gc_step(acc text, v anyelement, sep text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN v IS NULL THEN acc
	    WHEN acc IS NULL THEN v::text ELSE acc || sep || v::text END
$$;
CREATE FUNCTION gc_step(acc text, v anyelement) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT sqlite_compat.gc_step(acc, v, ',') $$;
CREATE AGGREGATE group_concat(anyelement) (SFUNC = gc_step, STYPE = text);
CREATE AGGREGATE group_concat(anyelement, text) (SFUNC = gc_step, STYPE = text);

-- datetime(T, 'unixepoch') / date(T, 'unixepoch'): UTC text.
CREATE FUNCTION datetime(t bigint, modifier text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN modifier = 'unixepoch' THEN to_char(to_timestamp(t)
	    AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') END
$$;
CREATE FUNCTION date(t bigint, modifier text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN modifier = 'unixepoch' THEN to_char(to_timestamp(t)
	    AT TIME ZONE 'UTC', 'YYYY-MM-DD') END
$$;

-- strftime('%s', TIME): Unix seconds of a UTC time text.  SQLite returns
-- text, which its arithmetic and comparisons take as a number; a bigint
-- does that here.  Only '%s'.
CREATE FUNCTION strftime(fmt text, t text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN fmt = '%s' THEN extract(epoch FROM
	    (t::timestamp AT TIME ZONE 'UTC'))::bigint END
$$;

-- json_extract(JSON, PATH): the value at a $.a.b[0] path, unquoted (a
-- string as its text, a number as its digits), NULL when absent.
CREATE FUNCTION json_extract(j jsonb, path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT jsonb_path_query_first(j, path::jsonpath) #>> '{}'
$$;
CREATE FUNCTION json_extract(j text, path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT sqlite_compat.json_extract(j::jsonb, path)
$$;
CREATE FUNCTION json_extract(j json, path text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT sqlite_compat.json_extract(j::jsonb, path)
$$;

-- json_array_length(JSON) on text and jsonb (PostgreSQL has it on json).
CREATE FUNCTION json_array_length(j text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pg_catalog.json_array_length(j::json) $$;
CREATE FUNCTION json_array_length(j jsonb) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT pg_catalog.jsonb_array_length(j) $$;

-- json_group_array(X): a compact JSON array as SQLite prints it ([1,2]).
CREATE FUNCTION jga_step(acc text, v anyelement) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE WHEN acc IS NULL THEN '' ELSE acc || ',' END ||
	    coalesce(to_jsonb(v)::text, 'null')
$$;
CREATE FUNCTION jga_final(acc text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '[' || coalesce(acc, '') || ']' $$;
CREATE AGGREGATE json_group_array(anyelement) (SFUNC = jga_step,
    STYPE = text, FINALFUNC = jga_final);

-- randomblob(N) and hex(X): random bytes, upper-case hex.
CREATE FUNCTION randomblob(n integer) RETURNS bytea
LANGUAGE sql VOLATILE STRICT AS $$
	SELECT decode(coalesce(string_agg(lpad(to_hex(floor(random() * 256)::int),
	    2, '0'), ''), ''), 'hex') FROM generate_series(1, n)
$$;
CREATE FUNCTION hex(b bytea) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT upper(encode(b, 'hex')) $$;
CREATE FUNCTION hex(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT upper(encode(convert_to(t, 'UTF8'), 'hex'))
$$;
CREATE FUNCTION hex(n bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sqlite_compat.hex(n::text) $$;

-- sqlite_master: a count of the schema's objects (tables, views,
-- indexes, sequences) outside the system schemas and this one; enough
-- for "no table went missing".
CREATE VIEW sqlite_master AS
	SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'table'
	    WHEN 'v' THEN 'view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence'
	    ELSE c.relkind::text END AS type,
	    c.relname::text AS name, coalesce(t.relname, c.relname)::text AS tbl_name
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	LEFT JOIN pg_index x ON x.indexrelid = c.oid
	LEFT JOIN pg_class t ON t.oid = x.indrelid
	WHERE c.relkind IN ('r', 'p', 'v', 'i', 'S')
	AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'sqlite_compat')
	AND n.nspname NOT LIKE 'pg\_%';

-- sync_sequences(): what SQLite does for an INTEGER PRIMARY KEY after an
-- insert with explicit ids (fixtures insert users 10..14): the next id
-- is past the largest.  Moves each column-owned sequence up to its
-- column's max, never down.  The sql helper calls it after any INSERT.
CREATE FUNCTION sync_sequences() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	m bigint;
	cur bigint;
BEGIN
	FOR r IN
		SELECT s.oid::regclass AS seq, t.oid::regclass AS tbl,
		    a.attname AS col
		FROM pg_class s
		JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
		    AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		JOIN pg_class t ON t.oid = d.refobjid
		JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
		WHERE s.relkind = 'S'
	LOOP
		EXECUTE format('SELECT max(%I)::bigint FROM %s', r.col, r.tbl) INTO m;
		EXECUTE format('SELECT CASE WHEN is_called THEN last_value
		    ELSE last_value - 1 END FROM %s', r.seq) INTO cur;
		IF m IS NOT NULL AND m > cur THEN
			PERFORM setval(r.seq, m, true);
		END IF;
	END LOOP;
END
$$;
