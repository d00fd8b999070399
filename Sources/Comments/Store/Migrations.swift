/// The schema's history, as SQL. A migration is never edited once it has landed: add a new one.
/// `schema.sql` at the repository root is what they produce, and a test keeps the two equal.
public enum Migrations {
    /// `(identifier, SQL)` in the order they apply.
    public static let sqlite: [(String, String)] = [
        ("v1-core", v1Core),
        ("v2-moderation", v2Moderation),
        ("v3-admin-tokens", v3AdminTokens),
        ("v4-spam-fact-indexes", v4SpamFactIndexes),
        ("v5-site-avatars", v5SiteAvatars),
        ("v6-covering-spam-fact-indexes", v6CoveringSpamFactIndexes),
        ("v7-outbox-claims", v7OutboxClaims),
        ("v8-reply-consent-and-author-keys", v8ReplyConsentAndAuthorKeys),
        ("v9-site-vote-rate-limit", v9SiteVoteRateLimit),
        ("v10-moderation-console", v10ModerationConsole),
        ("v11-hooks", v11Hooks),
    ]

    static let v1Core = """
    CREATE TABLE sites (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        origins TEXT NOT NULL DEFAULT '[]',
        moderation TEXT NOT NULL DEFAULT 'none' CHECK (moderation IN ('none', 'auto', 'all')),
        require_author INTEGER NOT NULL DEFAULT 0,
        require_email INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
    );

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
    );
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
    """

    static let v2Moderation = """
    ALTER TABLE sites ADD COLUMN rate_limit TEXT;
    ALTER TABLE sites ADD COLUMN moderators TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE comments ADD COLUMN trained_as TEXT CHECK (trained_as IN ('spam', 'ham'));
    CREATE INDEX comments_by_site_time ON comments (site_id, created_at);
    CREATE INDEX comments_by_email ON comments (email) WHERE email IS NOT NULL;

    CREATE TABLE moderation_log (
        id INTEGER PRIMARY KEY,
        comment_id INTEGER NOT NULL,
        site_id TEXT NOT NULL,
        action TEXT NOT NULL,
        actor TEXT NOT NULL CHECK (actor IN ('cli', 'link', 'admin-api', 'spam-filter', 'author', 'reader')),
        reason TEXT,
        at INTEGER NOT NULL
    );
    CREATE INDEX moderation_log_by_comment ON moderation_log (comment_id, at);

    CREATE TABLE used_links (
        nonce TEXT PRIMARY KEY NOT NULL,
        used_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE blocklist (
        kind TEXT NOT NULL CHECK (kind IN ('ip', 'email', 'domain', 'word', 'author')),
        value TEXT NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (kind, value)
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
    INSERT INTO spam_totals (id) VALUES (1);

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('moderation', 'reply')),
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
        last_error TEXT
    );
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
    """

    static let v3AdminTokens = """
    CREATE TABLE admin_tokens (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
    );
    """

    /// The spam filter's questions about a new comment (the author's approved history, the same
    /// text in the last day) read every comment of the site before this: the email index was
    /// case-sensitive while every lookup is not, names had no index, and the text was compared
    /// row by row. Rows stored before this have no digest; they are older than the one-day window
    /// within days of upgrading.
    static let v4SpamFactIndexes = """
    DROP INDEX comments_by_email;
    CREATE INDEX comments_by_email ON comments (email COLLATE NOCASE) WHERE email IS NOT NULL;
    CREATE INDEX comments_by_author ON comments (site_id, author, ip) WHERE author IS NOT NULL;
    ALTER TABLE comments ADD COLUMN body_digest INTEGER;
    CREATE INDEX comments_by_body ON comments (site_id, body_digest, created_at) WHERE body_digest IS NOT NULL;
    """

    /// A site may show Gravatar pictures; every site keeps the local identicons until its owner
    /// asks, since Gravatar means a request from the reader's browser to another host.
    static let v5SiteAvatars = """
    ALTER TABLE sites ADD COLUMN avatars TEXT NOT NULL DEFAULT 'identicon' CHECK (avatars IN ('identicon', 'gravatar'));
    """

    /// The author's approved history was counted through indexes that lacked the status, so
    /// every earlier comment of a prolific author was a table read inside the write transaction of
    /// each new comment (the largest cost of posting). With the status (and site) in the index
    /// the count reads the index alone.
    static let v6CoveringSpamFactIndexes = """
    DROP INDEX comments_by_email;
    CREATE INDEX comments_by_email ON comments (email COLLATE NOCASE, site_id, status) WHERE email IS NOT NULL;
    DROP INDEX comments_by_author;
    CREATE INDEX comments_by_author ON comments (site_id, author, ip, status) WHERE author IS NOT NULL;
    """

    /// `dueMail` claims what it returns until `claimed_until`, so that two senders (the
    /// PostgreSQL store's several nodes; here a second server on the same file) never both send
    /// one message; a sender that dies mid-send leaves a claim that runs out.
    static let v7OutboxClaims = """
    ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
    """

    /// Reply mail goes only to addresses that confirmed they want it (`reply_consent`, keyed by
    /// site and the SHA-256 of the lowercased address; `suppressed` is "nothing from this blog"),
    /// with a daily cap per recipient counted through `outbox.recipient_hash`; the outbox takes a
    /// third kind of mail, the confirmation (SQLite cannot change a CHECK, so the table is
    /// rebuilt). Trust is tied to a random author key the widget keeps, stored only hashed.
    static let v8ReplyConsentAndAuthorKeys = """
    CREATE TABLE reply_consent (
        site_id TEXT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
        address_hash TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('requested', 'confirmed', 'suppressed')),
        requested_at INTEGER,
        changed_at INTEGER NOT NULL,
        PRIMARY KEY (site_id, address_hash)
    );
    CREATE TABLE outbox_v8 (
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
    INSERT INTO outbox_v8 (id, kind, comment_id, recipients, subject, body, headers, message_id, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, claimed_until)
    SELECT id, kind, comment_id, recipients, subject, body, headers, message_id, created_at, attempts,
        next_attempt_at, sent_at, failed_at, last_error, claimed_until FROM outbox;
    DROP TABLE outbox;
    ALTER TABLE outbox_v8 RENAME TO outbox;
    CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;
    CREATE INDEX outbox_by_recipient ON outbox (recipient_hash, created_at) WHERE recipient_hash IS NOT NULL;
    ALTER TABLE comments ADD COLUMN author_key_hash TEXT;
    CREATE INDEX comments_by_author_key ON comments (author_key_hash, site_id, status) WHERE author_key_hash IS NOT NULL;
    """

    /// A site's own limit on votes per client network (`margin sites update --vote-rate-limit`);
    /// NULL is the server's `vote_rate_limit`.
    static let v9SiteVoteRateLimit = """
    ALTER TABLE sites ADD COLUMN vote_rate_limit TEXT;
    """

    /// The moderation console: who may sign in (`admin_users`; moderators come from the sites),
    /// their sessions (only a hash of each secret), who decided and from which status in the
    /// log (for `restore`), the indexes its listings page through, and word-prefix search over
    /// the text and author name (an FTS5 index over `comments`, filled here and kept in step by
    /// triggers; a bulk path that sets the triggers aside rebuilds it). The blocklist gains a
    /// site (null: every site), one entry per kind, value and site: rebuilt, since a `WITHOUT
    /// ROWID` table's key cannot hold the null of a global entry.
    static let v10ModerationConsole = """
    ALTER TABLE blocklist RENAME TO blocklist_global;
    CREATE TABLE blocklist (
        kind TEXT NOT NULL CHECK (kind IN ('ip', 'email', 'domain', 'word', 'author')),
        value TEXT NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        site_id TEXT REFERENCES sites(id) ON DELETE CASCADE
    );
    INSERT INTO blocklist (kind, value, reason, created_at) SELECT kind, value, reason, created_at FROM blocklist_global;
    DROP TABLE blocklist_global;
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
    ALTER TABLE moderation_log ADD COLUMN moderator TEXT;
    ALTER TABLE moderation_log ADD COLUMN from_status TEXT;
    CREATE INDEX moderation_log_by_site ON moderation_log (site_id, id);
    CREATE INDEX comments_by_status_time ON comments (status, created_at, id);
    CREATE INDEX comments_by_time ON comments (created_at);
    CREATE INDEX comments_by_ip ON comments (ip) WHERE ip IS NOT NULL;
    CREATE VIRTUAL TABLE comments_fts USING fts5(
        body, author, content='comments', content_rowid='id', tokenize="unicode61 remove_diacritics 0"
    );
    INSERT INTO comments_fts (comments_fts) VALUES ('rebuild');
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
    """

    /// Hooks (signed webhooks and chat presets) and their outbox. `events` holds the raw event
    /// names joined by commas with a comma at each end (`,comment.held,comment.spam,`), so
    /// `LIKE '%,comment.held,%'` finds the hooks that hear one. A delivery is written with the
    /// event, in the transaction that changed the comment, one row per hook; `UNIQUE (hook_id,
    /// event_id)` keeps an event from reaching one hook twice. `comment_id` has no foreign key:
    /// a delivery about a deleted comment still goes out.
    static let v11Hooks = """
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
    """
}
