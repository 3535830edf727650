-- Webhook endpoints and exec commands are receivers the operator names
-- in webhooks.conf and exec.conf, not a person's address: any number of
-- users may bind the same one (a CRM receives everyone's events; the
-- line names the user).  Only the other channels keep one active user
-- per address.
DROP INDEX binds_address;
CREATE UNIQUE INDEX binds_address ON binds(channel, address)
    WHERE active = 1 AND channel NOT IN ('webhook', 'exec');

PRAGMA user_version = 6;
