-- Margin's current database schema (SQLite), as the migrations in
-- Sources/Comments/Store/Migrations.swift leave it. Regenerate with scripts/dump-schema;
-- a test applies this file and the migrations and compares them. Times are UTC unix milliseconds.

CREATE TABLE sites (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    origins TEXT NOT NULL DEFAULT '[]',
    moderation TEXT NOT NULL DEFAULT 'none' CHECK (moderation IN ('none', 'auto', 'all')),
    require_author INTEGER NOT NULL DEFAULT 0,
    require_email INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
, rate_limit TEXT, moderators TEXT NOT NULL DEFAULT '[]', avatars TEXT NOT NULL DEFAULT 'identicon' CHECK (avatars IN ('identicon', 'gravatar')), vote_rate_limit TEXT);

CREATE TABLE threads (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    title TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (site_id, uri)
);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    thread_id INTEGER NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    parent_id INTEGER REFERENCES comments(id) ON DELETE SET NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'spam', 'deleted')),
    author TEXT,
    email TEXT,
    website TEXT,
    body TEXT NOT NULL,
    html TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    edited_at INTEGER,
    ip TEXT,
    user_agent TEXT,
    spam_score REAL NOT NULL DEFAULT 0,
    spam_reasons TEXT NOT NULL DEFAULT '[]',
    likes INTEGER NOT NULL DEFAULT 0,
    dislikes INTEGER NOT NULL DEFAULT 0,
    notify INTEGER NOT NULL DEFAULT 0,
    edit_key_hash TEXT,
    origin TEXT
, trained_as TEXT CHECK (trained_as IN ('spam', 'ham')), body_digest INTEGER, author_key_hash TEXT);

CREATE INDEX comments_by_thread ON comments (thread_id, created_at, id);

CREATE INDEX comments_by_parent ON comments (parent_id);

CREATE INDEX comments_by_site_status ON comments (site_id, status, created_at);

CREATE UNIQUE INDEX comments_by_origin ON comments (site_id, origin) WHERE origin IS NOT NULL;

CREATE TABLE votes (
    comment_id INTEGER NOT NULL REFERENCES comments(id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    value INTEGER NOT NULL CHECK (value IN (1, -1)),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (comment_id, voter)
) WITHOUT ROWID;

CREATE TABLE signing_keys (
    id TEXT PRIMARY KEY NOT NULL,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);

CREATE TABLE secrets (
    name TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TRIGGER comments_bump_thread_on_insert AFTER INSERT ON comments BEGIN
    UPDATE threads SET version = version + 1 WHERE id = NEW.thread_id;

END;

CREATE TRIGGER comments_bump_thread_on_update AFTER UPDATE ON comments BEGIN
    UPDATE threads SET version = version + 1 WHERE id IN (OLD.thread_id, NEW.thread_id);

END;

CREATE TRIGGER comments_bump_thread_on_delete AFTER DELETE ON comments BEGIN
    UPDATE threads SET version = version + 1 WHERE id = OLD.thread_id;

END;

CREATE TRIGGER threads_bump_on_update AFTER UPDATE OF title, locked ON threads BEGIN
    UPDATE threads SET version = version + 1 WHERE id = NEW.id;

END;

CREATE INDEX comments_by_site_time ON comments (site_id, created_at);

CREATE TABLE moderation_log (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL,
    site_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor TEXT NOT NULL CHECK (actor IN ('cli', 'link', 'admin-api', 'spam-filter', 'author', 'reader')),
    reason TEXT,
    at INTEGER NOT NULL
, moderator TEXT, from_status TEXT);

CREATE INDEX moderation_log_by_comment ON moderation_log (comment_id, at);

CREATE TABLE used_links (
    nonce TEXT PRIMARY KEY NOT NULL,
    used_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE spam_tokens (
    token TEXT PRIMARY KEY NOT NULL,
    spam_count INTEGER NOT NULL DEFAULT 0,
    ham_count INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

CREATE TABLE spam_totals (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    spam_documents INTEGER NOT NULL DEFAULT 0,
    ham_documents INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER
);

CREATE INDEX comments_by_body ON comments (site_id, body_digest, created_at) WHERE body_digest IS NOT NULL;

CREATE INDEX comments_by_email ON comments (email COLLATE NOCASE, site_id, status) WHERE email IS NOT NULL;

CREATE INDEX comments_by_author ON comments (site_id, author, ip, status) WHERE author IS NOT NULL;

CREATE TABLE reply_consent (
    site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
    address_hash TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('requested', 'confirmed', 'suppressed')),
    requested_at INTEGER,
    changed_at INTEGER NOT NULL,
    PRIMARY KEY (site_id, address_hash)
);

CREATE TABLE IF NOT EXISTS "outbox" (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('moderation', 'reply', 'confirmation')),
    comment_id INTEGER,
    recipients TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    headers TEXT NOT NULL DEFAULT '[]',
    message_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at INTEGER,
    failed_at INTEGER,
    last_error TEXT,
    claimed_until INTEGER,
    recipient_hash TEXT
);

CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

CREATE INDEX outbox_by_recipient ON outbox (recipient_hash, created_at) WHERE recipient_hash IS NOT NULL;

CREATE INDEX comments_by_author_key ON comments (author_key_hash, site_id, status) WHERE author_key_hash IS NOT NULL;

CREATE TABLE blocklist (
    kind TEXT NOT NULL CHECK (kind IN ('ip', 'email', 'domain', 'word', 'author')),
    value TEXT NOT NULL,
    reason TEXT,
    created_at INTEGER NOT NULL,
    site_id TEXT REFERENCES sites(id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX blocklist_key ON blocklist (kind, value, coalesce(site_id, ''));

CREATE INDEX blocklist_by_site_id ON blocklist (site_id);

CREATE TABLE admin_users (
    email TEXT PRIMARY KEY NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE console_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    revoked_at INTEGER,
    user_agent TEXT
);

CREATE INDEX console_sessions_by_email ON console_sessions (email);

CREATE INDEX moderation_log_by_site ON moderation_log (site_id, id);

CREATE INDEX comments_by_status_time ON comments (status, created_at, id);

CREATE INDEX comments_by_time ON comments (created_at);

CREATE INDEX comments_by_ip ON comments (ip) WHERE ip IS NOT NULL;

CREATE VIRTUAL TABLE comments_fts USING fts5(
    body, author, content='comments', content_rowid='id', tokenize="unicode61 remove_diacritics 0"
)
/* comments_fts(body,author) */;

CREATE TABLE IF NOT EXISTS 'comments_fts_data'(id INTEGER PRIMARY KEY, block BLOB);

CREATE TABLE IF NOT EXISTS 'comments_fts_idx'(segid, term, pgno, PRIMARY KEY(segid, term)) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS 'comments_fts_docsize'(id INTEGER PRIMARY KEY, sz BLOB);

CREATE TABLE IF NOT EXISTS 'comments_fts_config'(k PRIMARY KEY, v) WITHOUT ROWID;

CREATE TRIGGER comments_fts_on_insert AFTER INSERT ON comments BEGIN
    INSERT INTO comments_fts (rowid, body, author) VALUES (NEW.id, NEW.body, NEW.author);

END;

CREATE TRIGGER comments_fts_on_delete AFTER DELETE ON comments BEGIN
    INSERT INTO comments_fts (comments_fts, rowid, body, author) VALUES ('delete', OLD.id, OLD.body, OLD.author);

END;

CREATE TRIGGER comments_fts_on_update AFTER UPDATE OF body, author ON comments BEGIN
    INSERT INTO comments_fts (comments_fts, rowid, body, author) VALUES ('delete', OLD.id, OLD.body, OLD.author);

    INSERT INTO comments_fts (rowid, body, author) VALUES (NEW.id, NEW.body, NEW.author);

END;

CREATE TABLE hooks (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    site_id TEXT REFERENCES sites(id) ON DELETE CASCADE,
    preset TEXT NOT NULL CHECK (preset IN ('webhook', 'slack', 'mattermost', 'discord', 'telegram', 'matrix', 'ntfy')),
    url TEXT NOT NULL,
    target TEXT,
    secret TEXT,
    events TEXT NOT NULL,
    trusted INTEGER NOT NULL DEFAULT 0,
    allow_private INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX hooks_by_site_id ON hooks (site_id);

CREATE TABLE hook_deliveries (
    id INTEGER PRIMARY KEY,
    hook_id INTEGER NOT NULL REFERENCES hooks(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    type TEXT NOT NULL,
    comment_id INTEGER,
    site_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    claimed_until INTEGER,
    delivered_at INTEGER,
    failed_at INTEGER,
    last_status INTEGER,
    last_error TEXT,
    last_response TEXT,
    UNIQUE (hook_id, event_id)
);

CREATE INDEX hook_deliveries_due ON hook_deliveries (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE INDEX hook_deliveries_by_hook ON hook_deliveries (hook_id, id);

CREATE INDEX hook_deliveries_by_comment ON hook_deliveries (comment_id) WHERE comment_id IS NOT NULL;

INSERT INTO spam_totals (id) VALUES (1);
