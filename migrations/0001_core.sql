-- Sluice core schema: definitions, executions, the job queue, history, queues, heartbeats.
-- Times are Unix epoch seconds as REAL (millisecond precision and better).

CREATE TABLE definitions (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    dialect     TEXT    NOT NULL,          -- 'builtin', 'tasklist', 'asl'
    source      TEXT    NOT NULL,          -- the raw text the user sent, kept as is
    compiled    TEXT    NOT NULL,          -- the engine's form (JSON)
    checksum    TEXT    NOT NULL,          -- of source: a changed file becomes a new version
    created_at  REAL    NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE executions (
    id              INTEGER PRIMARY KEY,
    uid             TEXT    NOT NULL UNIQUE,   -- external id (UUIDv7: time-ordered, cheap to index)
    definition_id   INTEGER NOT NULL REFERENCES definitions(id),
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending','running','succeeded','failed','cancelled','timed_out')),
    queue           TEXT    NOT NULL DEFAULT 'default',
    namespace       TEXT,
    idempotency_key TEXT    UNIQUE,
    parent_id       INTEGER REFERENCES executions(id),
    input           TEXT    NOT NULL DEFAULT '{}',
    output          TEXT,
    error           TEXT,
    cause           TEXT,
    state           TEXT,                      -- the interpreter's state (JSON)
    attempts        INTEGER NOT NULL DEFAULT 0, -- task attempts whose body started
    created_at      REAL    NOT NULL,
    started_at      REAL,                      -- first task body start
    finished_at     REAL,
    updated_at      REAL    NOT NULL
);
CREATE INDEX executions_status ON executions (status);
CREATE INDEX executions_parent ON executions (parent_id) WHERE parent_id IS NOT NULL;

-- The queue. A job is one unit of work: a task attempt or a timer.
-- scheduled: run_at in the future (timers, retry backoff); ready: claimable;
-- running: leased by lease_owner until lease_expires_at; done/failed/cancelled: finished.
CREATE TABLE jobs (
    id               INTEGER PRIMARY KEY,
    execution_id     INTEGER NOT NULL REFERENCES executions(id),
    execution_uid    TEXT    NOT NULL,              -- copied so a claim needs no join
    kind             TEXT    NOT NULL CHECK (kind IN ('task','timer')),
    queue            TEXT    NOT NULL DEFAULT 'default',
    priority         INTEGER NOT NULL DEFAULT 0,   -- higher runs first
    run_at           REAL    NOT NULL,
    state            TEXT    NOT NULL
                     CHECK (state IN ('scheduled','ready','running','done','failed','cancelled')),
    step             TEXT    NOT NULL,              -- the state (task) this job belongs to
    task_type        TEXT,
    payload          TEXT    NOT NULL DEFAULT '{}', -- the task's effective parameters (JSON)
    attempt          INTEGER NOT NULL DEFAULT 0,    -- attempts claimed so far
    max_attempts     INTEGER NOT NULL DEFAULT 1,
    lease_owner      TEXT,
    lease_expires_at REAL,
    created_at       REAL    NOT NULL,
    finished_at      REAL
);
-- Claim order: per queue, priority first, then FIFO. Partial, so finished rows cost nothing.
CREATE INDEX jobs_ready     ON jobs (queue, priority DESC, id) WHERE state = 'ready';
CREATE INDEX jobs_scheduled ON jobs (run_at)                   WHERE state = 'scheduled';
CREATE INDEX jobs_running   ON jobs (lease_expires_at)         WHERE state = 'running';
CREATE INDEX jobs_execution ON jobs (execution_id);

-- Append-only record of each execution.
CREATE TABLE history (
    id            INTEGER PRIMARY KEY,
    execution_id  INTEGER NOT NULL REFERENCES executions(id),
    at            REAL    NOT NULL,
    type          TEXT    NOT NULL,   -- ExecutionSubmitted, TaskScheduled, TaskSucceeded, …
    step          TEXT,
    attempt       INTEGER,
    details       TEXT                -- JSON: the task's recorded result, error and cause, …
);
CREATE INDEX history_execution ON history (execution_id, id);

-- Named queues. Pause is stored so every process on the file obeys it.
CREATE TABLE queues (
    name        TEXT    PRIMARY KEY,
    paused      INTEGER NOT NULL DEFAULT 0,
    concurrency INTEGER,              -- default for pools that do not set their own
    updated_at  REAL    NOT NULL
);
INSERT INTO queues (name, paused, updated_at) VALUES ('default', 0, 0);

-- Liveness: each component beats; a beat older than ttl means it is down.
CREATE TABLE heartbeats (
    component  TEXT PRIMARY KEY,      -- e.g. 'dispatcher', 'pool:default'
    owner      TEXT NOT NULL,         -- host:pid:token of the process
    beat_at    REAL NOT NULL,
    ttl        REAL NOT NULL,
    info       TEXT
);

-- Dedupe markers: a trigger or an idempotent submit inserts one in the same transaction
-- as the execution it starts.
CREATE TABLE markers (
    scope        TEXT NOT NULL,
    key          TEXT NOT NULL,
    execution_id INTEGER REFERENCES executions(id),
    created_at   REAL NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
