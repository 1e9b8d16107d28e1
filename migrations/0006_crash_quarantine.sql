-- How many times a process died while evaluating this execution's program step (read from
-- the `<db>-inflight` slot file at start-up, `CrashQuarantine`). At 2 the execution is failed
-- with Sluice.Quarantined, so a poison pill cannot keep the server from starting.
ALTER TABLE executions ADD COLUMN crash_count INTEGER NOT NULL DEFAULT 0;
