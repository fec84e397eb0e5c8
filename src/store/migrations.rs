//! Schema migrations, numbered by `PRAGMA user_version`. Append only: never edit a migration
//! that has shipped; add the next one.

/// Migration `i` takes the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema. Every table is keyed by tenant.
    r#"
    CREATE TABLE tenants (
        id                  TEXT PRIMARY KEY,
        connected           INTEGER NOT NULL DEFAULT 1,
        disconnected_reason TEXT,
        changed_at          INTEGER NOT NULL
    );

    CREATE TABLE cursors (
        tenant     TEXT NOT NULL,
        name       TEXT NOT NULL,
        value      INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
    );

    CREATE TABLE opportunities (
        tenant        TEXT NOT NULL,
        id            TEXT NOT NULL,
        stage_id      TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        email         TEXT,
        posting_id    TEXT,
        updated_at    INTEGER,
        deleted       INTEGER NOT NULL DEFAULT 0,
        next_check_at INTEGER NOT NULL DEFAULT 0,
        failure_count INTEGER NOT NULL DEFAULT 0,
        last_error    TEXT,
        seen_at       INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
    );

    CREATE TABLE postings (
        tenant  TEXT NOT NULL,
        id      TEXT NOT NULL,
        title   TEXT,
        tags    TEXT NOT NULL DEFAULT '[]',
        seen_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, id)
    );

    CREATE TABLE interviews (
        tenant        TEXT NOT NULL,
        key           TEXT NOT NULL,
        title         TEXT NOT NULL,
        current_tag   TEXT NOT NULL,
        open          INTEGER NOT NULL,
        first_seen_at INTEGER NOT NULL,
        last_seen_at  INTEGER NOT NULL,
        PRIMARY KEY (tenant, key)
    );

    -- Every tag ever issued for an interview: the current one and the aliases left by renames.
    CREATE TABLE interview_tags (
        tenant        TEXT NOT NULL,
        interview_key TEXT NOT NULL,
        tag           TEXT NOT NULL,
        issued_at     INTEGER NOT NULL,
        PRIMARY KEY (tenant, interview_key, tag),
        FOREIGN KEY (tenant, interview_key) REFERENCES interviews (tenant, key) ON DELETE CASCADE
    );

    -- The invite journal: one row per (opportunity, interview), ever.
    CREATE TABLE invites (
        tenant          TEXT NOT NULL,
        opportunity_id  TEXT NOT NULL,
        interview_key   TEXT NOT NULL,
        email           TEXT NOT NULL,
        participant_key TEXT,
        state           TEXT NOT NULL
            CHECK (state IN ('planned', 'in_flight', 'done', 'failed', 'ambiguous')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        created_at      INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, interview_key)
    );
    CREATE INDEX invites_by_email ON invites (tenant, interview_key, email);
    CREATE INDEX invites_by_state ON invites (tenant, state);
    CREATE INDEX invites_by_participant ON invites (tenant, participant_key);

    CREATE TABLE participants (
        tenant        TEXT NOT NULL,
        key           TEXT NOT NULL,
        interview_key TEXT NOT NULL,
        email         TEXT,
        state         TEXT,
        changed_at    INTEGER NOT NULL,
        seen_at       INTEGER NOT NULL,
        PRIMARY KEY (tenant, key)
    );

    CREATE TABLE passes (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant      TEXT NOT NULL,
        kind        TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        result      TEXT,
        counts      TEXT NOT NULL DEFAULT '{}',
        error       TEXT
    );
    CREATE INDEX passes_by_tenant ON passes (tenant, id);

    CREATE TABLE attention (
        tenant         TEXT NOT NULL,
        opportunity_id TEXT NOT NULL,
        reason         TEXT NOT NULL,
        detail         TEXT,
        since          INTEGER NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, reason)
    );

    CREATE TABLE oauth_tokens (
        tenant        TEXT PRIMARY KEY,
        access_token  TEXT NOT NULL,
        refresh_token TEXT NOT NULL,
        expires_at    INTEGER NOT NULL,
        scope         TEXT,
        updated_at    INTEGER NOT NULL
    );
    "#,
    // 2: the trigger stage ids a pass resolved from the configured names, with the configured
    // list they came from, so incremental passes and hints need not read `GET /stages` and a
    // changed configuration is never answered with stale ids.
    r#"
    CREATE TABLE trigger_stages (
        tenant      TEXT PRIMARY KEY,
        configured  TEXT NOT NULL,
        stage_ids   TEXT NOT NULL,
        resolved_at INTEGER NOT NULL
    );
    "#,
    // 3: the candidate's name in the opportunity mirror, so `status` can say who a failing or
    // deferred item is about without asking Lever.
    r#"
    ALTER TABLE opportunities ADD COLUMN name TEXT;
    "#,
    // 4: the opportunity's page in Lever (`urls.show`), so operators and recruiters get a link
    // next to every item; and what the daemon has learned about a tenant's accounts (e.g. that
    // Willo ignores the participant filter), as named facts.
    r#"
    ALTER TABLE opportunities ADD COLUMN link TEXT;

    CREATE TABLE tenant_facts (
        tenant     TEXT NOT NULL,
        name       TEXT NOT NULL,
        value      TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
    );
    "#,
    // 5: what a hint's reconcile reads about one person, by index rather than by walking the
    // journal: invites by email (as the daemon compares them, case aside) and participants by
    // interview and email.
    r#"
    CREATE INDEX invites_by_email_nocase ON invites (tenant, email COLLATE NOCASE);
    CREATE INDEX participants_by_interview ON participants (tenant, interview_key, email COLLATE NOCASE);
    CREATE INDEX participants_by_email ON participants (tenant, email COLLATE NOCASE);

    -- When the daemon first saw each participant, and when it last listed each interview
    -- completely (every participant then listed is stored): together they bound what a hint
    -- must read of a large interview to prove an address absent.
    ALTER TABLE participants ADD COLUMN first_seen_at INTEGER;
    ALTER TABLE interviews ADD COLUMN listed_at INTEGER;
    "#,
    // 6: what incremental passes' status checks remember (rule: status-check budget): when
    // each participant was last read on its own, and the interview listings read over several
    // passes, page by page.
    r#"
    ALTER TABLE participants ADD COLUMN checked_at INTEGER;

    CREATE TABLE interview_sweeps (
        tenant        TEXT NOT NULL,
        interview_key TEXT NOT NULL,
        next_page     INTEGER NOT NULL,
        started_at    INTEGER NOT NULL,
        PRIMARY KEY (tenant, interview_key)
    );
    "#,
    // 7: participants' addresses stored as compared (trimmed, none when blank), so a hint's
    // lookup counts the address-less participants of an interview by index instead of reading
    // every row of it; participants stored before version 5 had no first-seen time and were
    // seen before any listing recorded since, so they count as known from the start.
    r#"
    UPDATE participants SET email = NULLIF(trim(email), '')
     WHERE email IS NOT NULL AND (email = '' OR email <> trim(email));
    UPDATE participants SET first_seen_at = 0 WHERE first_seen_at IS NULL;
    "#,
    // 8: completion notes (rule: completion note, docs/behaviour.md). One journal row per
    // (opportunity, interview), ever, like invites: `in_flight` is committed before the POST,
    // so an unknown outcome is settled by finding the note's marker, never by posting again.
    // Participants remember the link to their response when Willo gives one. Tenants that
    // already ran get a start time: completions seen before the upgrade are history, and a
    // burst of notes on old candidates would help no recruiter.
    r#"
    CREATE TABLE notes (
        tenant         TEXT NOT NULL,
        opportunity_id TEXT NOT NULL,
        interview_key  TEXT NOT NULL,
        state          TEXT NOT NULL CHECK (state IN ('planned', 'in_flight', 'done', 'failed')),
        note_id        TEXT,
        attempts       INTEGER NOT NULL DEFAULT 0,
        last_error     TEXT,
        created_at     INTEGER NOT NULL,
        updated_at     INTEGER NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, interview_key)
    );
    CREATE INDEX notes_by_state ON notes (tenant, state);
    ALTER TABLE participants ADD COLUMN response_link TEXT;
    INSERT OR IGNORE INTO tenant_facts (tenant, name, value, updated_at)
    SELECT tenant, 'lever.completion_notes_from',
           CAST(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS TEXT),
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
      FROM (SELECT id AS tenant FROM tenants UNION SELECT tenant FROM participants
            UNION SELECT tenant FROM invites);
    "#,
    // 9: when a hint last proved the store held every participant of an interview (every
    // row at both ends of Willo's listing stored). Apart from `listed_at`, which also dates
    // the states of the interview's participants (status-check budget): a hint reads two
    // pages, not every state.
    //
    // And the opportunities in backoff, which every `/metrics` scrape and `status` count per
    // tenant: without this index a scrape read every opportunity of every tenant.
    r#"
    ALTER TABLE interviews ADD COLUMN complete_at INTEGER;
    CREATE INDEX opportunities_failing ON opportunities (tenant, failure_count DESC, id)
        WHERE failure_count > 0;
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;
