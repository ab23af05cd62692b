-- Access control: API keys for programs, users (with sessions) for people, and who made each
-- change. Secrets are never stored: a key or session token by its SHA-256 (they are random and
-- long, so a fast hash is enough), a password by its argon2id hash (PHC string).

CREATE TABLE api_keys (
    id            text PRIMARY KEY CONSTRAINT api_key_id_format CHECK (id ~ '^[A-Za-z0-9]{12}$'),
    secret_sha256 bytea NOT NULL CONSTRAINT api_keys_secret_key UNIQUE
                  CONSTRAINT api_key_secret_length CHECK (length(secret_sha256) = 32),
    role          text NOT NULL CONSTRAINT api_key_role_known
                  CHECK (role IN ('admin', 'eshop', 'pos', 'clerk', 'warehouse', 'planner')),
    label         text CONSTRAINT api_key_label_length CHECK (length(label) BETWEEN 1 AND 200),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

CREATE TABLE api_key_locations (
    key_id      text NOT NULL REFERENCES api_keys (id),
    location_id bigint NOT NULL REFERENCES locations (id),
    PRIMARY KEY (key_id, location_id)
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CONSTRAINT users_name_key UNIQUE
                  CONSTRAINT user_name_format CHECK (name ~ '^[A-Za-z0-9._@-]{1,64}$'),
    password_hash text NOT NULL CONSTRAINT user_password_hashed CHECK (password_hash LIKE '$argon2id$%'),
    role          text NOT NULL CONSTRAINT user_role_known
                  CHECK (role IN ('admin', 'eshop', 'pos', 'clerk', 'warehouse', 'planner')),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    disabled_at   timestamptz
);

CREATE TABLE user_locations (
    user_id     bigint NOT NULL REFERENCES users (id),
    location_id bigint NOT NULL REFERENCES locations (id),
    PRIMARY KEY (user_id, location_id)
);

CREATE TABLE sessions (
    token_sha256 bytea PRIMARY KEY CONSTRAINT session_token_length CHECK (length(token_sha256) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    csrf_token   text NOT NULL CONSTRAINT session_csrf_length CHECK (length(csrf_token) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    CONSTRAINT session_expires_after_start CHECK (expires_at > created_at)
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Who did it: `key:<id>`, `user:<name>` or `system:<job>`. Each write transaction names its
-- actor first (`set_config('allot.actor', …, true)`), and the columns take it from there: a
-- write that did not name one fails on NOT NULL instead of going unattributed. Rows from before
-- this migration were written with no access control: 'system:before-access-control'.
ALTER TABLE movements ADD COLUMN actor text NOT NULL DEFAULT 'system:before-access-control';
ALTER TABLE movements ALTER COLUMN actor SET DEFAULT nullif(current_setting('allot.actor', true), '');
ALTER TABLE orders ADD COLUMN placed_by text NOT NULL DEFAULT 'system:before-access-control';
ALTER TABLE orders ALTER COLUMN placed_by SET DEFAULT nullif(current_setting('allot.actor', true), '');
ALTER TABLE transfers
    ADD COLUMN requested_by text NOT NULL DEFAULT 'system:before-access-control',
    ADD COLUMN shipped_by text,
    ADD COLUMN received_by text,
    ADD COLUMN cancelled_by text;
ALTER TABLE transfers ALTER COLUMN requested_by SET DEFAULT nullif(current_setting('allot.actor', true), '');
UPDATE transfers SET shipped_by = 'system:before-access-control' WHERE shipped_at IS NOT NULL;
UPDATE transfers SET received_by = 'system:before-access-control' WHERE received_at IS NOT NULL;
UPDATE transfers SET cancelled_by = 'system:before-access-control' WHERE cancelled_at IS NOT NULL;
ALTER TABLE transfers
    ADD CONSTRAINT transfer_shipped_by_whom CHECK ((shipped_at IS NULL) = (shipped_by IS NULL)),
    ADD CONSTRAINT transfer_received_by_whom CHECK ((received_at IS NULL) = (received_by IS NULL)),
    ADD CONSTRAINT transfer_cancelled_by_whom CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL));
ALTER TABLE plans ADD COLUMN committed_by text;
UPDATE plans SET committed_by = 'system:before-access-control' WHERE status IN ('committing', 'committed');
-- Set when the commit is asked for (a run asked to commit names its committer when it starts).
ALTER TABLE plans ADD CONSTRAINT plan_committed_by_whom
    CHECK (status NOT IN ('committing', 'committed') OR committed_by IS NOT NULL);
