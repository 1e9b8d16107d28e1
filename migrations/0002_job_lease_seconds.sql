-- A job may carry its own lease length: an activity task's HeartbeatSeconds.
ALTER TABLE jobs ADD COLUMN lease_seconds REAL;
