/// The schema's history, as SQL. A migration is never edited once it has landed: add a new one.
/// `schema.sql` at the repository root is what they produce, and a test keeps the two equal.
public enum Migrations {
    /// `(identifier, SQL)` in the order they apply.
    public static let sqlite: [(String, String)] = [
        ("v1-core", v1Core),
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
}
