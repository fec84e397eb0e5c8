//! The PostgreSQL schema, numbered like SQLite's (`migrations.rs`) and kept in a
//! `schema_version` table. Append only, like SQLite's list: a change to the schema is the next
//! migration in both lists, at the same version.
//!
//! The same tables and columns with the same meaning, with these translations:
//! - integers are `BIGINT` (SQLite's are 64-bit), booleans stay 0/1 integers;
//! - text is `COLLATE "C"`, so `ORDER BY` sorts by byte as SQLite's `BINARY` does, whatever
//!   the database's locale;
//! - SQLite's `COLLATE NOCASE` indexes are `lower(...)` expression indexes, and the queries that
//!   use them compare `lower(...)`;
//! - `passes.id` is an identity column (SQLite's `AUTOINCREMENT`).
//!
//! Only PostgreSQL has `leases`: several instances share one database, and a tenant is owned
//! by at most one of them at a time (`store/leases.rs`).

/// `(version, sql)`: the script that takes the schema to `version` from the one before it.
/// Version 9 is the first PostgreSQL schema: it equals SQLite's after its migration 9.
pub(super) const MIGRATIONS: &[(u32, &str)] = &[(
    9,
    r#"
    CREATE TABLE tenants (
        id                  TEXT COLLATE "C" PRIMARY KEY,
        connected           BIGINT NOT NULL DEFAULT 1,
        disconnected_reason TEXT COLLATE "C",
        changed_at          BIGINT NOT NULL
    );

    CREATE TABLE cursors (
        tenant     TEXT COLLATE "C" NOT NULL,
        name       TEXT COLLATE "C" NOT NULL,
        value      BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, name)
    );

    CREATE TABLE opportunities (
        tenant        TEXT COLLATE "C" NOT NULL,
        id            TEXT COLLATE "C" NOT NULL,
        stage_id      TEXT COLLATE "C",
        tags          TEXT COLLATE "C" NOT NULL DEFAULT '[]',
        email         TEXT COLLATE "C",
        posting_id    TEXT COLLATE "C",
        updated_at    BIGINT,
        deleted       BIGINT NOT NULL DEFAULT 0,
        next_check_at BIGINT NOT NULL DEFAULT 0,
        failure_count BIGINT NOT NULL DEFAULT 0,
        last_error    TEXT COLLATE "C",
        seen_at       BIGINT NOT NULL,
        name          TEXT COLLATE "C",
        link          TEXT COLLATE "C",
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX opportunities_failing ON opportunities (tenant, failure_count DESC, id)
        WHERE failure_count > 0;

    CREATE TABLE postings (
        tenant  TEXT COLLATE "C" NOT NULL,
        id      TEXT COLLATE "C" NOT NULL,
        title   TEXT COLLATE "C",
        tags    TEXT COLLATE "C" NOT NULL DEFAULT '[]',
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, id)
    );

    CREATE TABLE interviews (
        tenant        TEXT COLLATE "C" NOT NULL,
        key           TEXT COLLATE "C" NOT NULL,
        title         TEXT COLLATE "C" NOT NULL,
        current_tag   TEXT COLLATE "C" NOT NULL,
        open          BIGINT NOT NULL,
        first_seen_at BIGINT NOT NULL,
        last_seen_at  BIGINT NOT NULL,
        listed_at     BIGINT,
        complete_at   BIGINT,
        PRIMARY KEY (tenant, key)
    );

    CREATE TABLE interview_tags (
        tenant        TEXT COLLATE "C" NOT NULL,
        interview_key TEXT COLLATE "C" NOT NULL,
        tag           TEXT COLLATE "C" NOT NULL,
        issued_at     BIGINT NOT NULL,
        PRIMARY KEY (tenant, interview_key, tag),
        FOREIGN KEY (tenant, interview_key) REFERENCES interviews (tenant, key) ON DELETE CASCADE
    );

    CREATE TABLE invites (
        tenant          TEXT COLLATE "C" NOT NULL,
        opportunity_id  TEXT COLLATE "C" NOT NULL,
        interview_key   TEXT COLLATE "C" NOT NULL,
        email           TEXT COLLATE "C" NOT NULL,
        participant_key TEXT COLLATE "C",
        state           TEXT COLLATE "C" NOT NULL
            CHECK (state IN ('planned', 'in_flight', 'done', 'failed', 'ambiguous')),
        attempts        BIGINT NOT NULL DEFAULT 0,
        last_error      TEXT COLLATE "C",
        created_at      BIGINT NOT NULL,
        updated_at      BIGINT NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, interview_key)
    );
    CREATE INDEX invites_by_email ON invites (tenant, interview_key, email);
    CREATE INDEX invites_by_state ON invites (tenant, state);
    CREATE INDEX invites_by_participant ON invites (tenant, participant_key);
    CREATE INDEX invites_by_email_nocase ON invites (tenant, lower(email));

    CREATE TABLE participants (
        tenant        TEXT COLLATE "C" NOT NULL,
        key           TEXT COLLATE "C" NOT NULL,
        interview_key TEXT COLLATE "C" NOT NULL,
        email         TEXT COLLATE "C",
        state         TEXT COLLATE "C",
        changed_at    BIGINT NOT NULL,
        seen_at       BIGINT NOT NULL,
        first_seen_at BIGINT,
        checked_at    BIGINT,
        response_link TEXT COLLATE "C",
        PRIMARY KEY (tenant, key)
    );
    CREATE INDEX participants_by_interview ON participants (tenant, interview_key, lower(email));
    CREATE INDEX participants_by_email ON participants (tenant, lower(email));

    CREATE TABLE passes (
        id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        tenant      TEXT COLLATE "C" NOT NULL,
        kind        TEXT COLLATE "C" NOT NULL,
        started_at  BIGINT NOT NULL,
        finished_at BIGINT,
        result      TEXT COLLATE "C",
        counts      TEXT COLLATE "C" NOT NULL DEFAULT '{}',
        error       TEXT COLLATE "C"
    );
    CREATE INDEX passes_by_tenant ON passes (tenant, id);

    CREATE TABLE attention (
        tenant         TEXT COLLATE "C" NOT NULL,
        opportunity_id TEXT COLLATE "C" NOT NULL,
        reason         TEXT COLLATE "C" NOT NULL,
        detail         TEXT COLLATE "C",
        since          BIGINT NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, reason)
    );

    CREATE TABLE oauth_tokens (
        tenant        TEXT COLLATE "C" PRIMARY KEY,
        access_token  TEXT COLLATE "C" NOT NULL,
        refresh_token TEXT COLLATE "C" NOT NULL,
        expires_at    BIGINT NOT NULL,
        scope         TEXT COLLATE "C",
        updated_at    BIGINT NOT NULL
    );

    CREATE TABLE trigger_stages (
        tenant      TEXT COLLATE "C" PRIMARY KEY,
        configured  TEXT COLLATE "C" NOT NULL,
        stage_ids   TEXT COLLATE "C" NOT NULL,
        resolved_at BIGINT NOT NULL
    );

    CREATE TABLE tenant_facts (
        tenant     TEXT COLLATE "C" NOT NULL,
        name       TEXT COLLATE "C" NOT NULL,
        value      TEXT COLLATE "C" NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, name)
    );

    CREATE TABLE interview_sweeps (
        tenant        TEXT COLLATE "C" NOT NULL,
        interview_key TEXT COLLATE "C" NOT NULL,
        next_page     BIGINT NOT NULL,
        started_at    BIGINT NOT NULL,
        PRIMARY KEY (tenant, interview_key)
    );

    CREATE TABLE notes (
        tenant         TEXT COLLATE "C" NOT NULL,
        opportunity_id TEXT COLLATE "C" NOT NULL,
        interview_key  TEXT COLLATE "C" NOT NULL,
        state          TEXT COLLATE "C" NOT NULL
            CHECK (state IN ('planned', 'in_flight', 'done', 'failed')),
        note_id        TEXT COLLATE "C",
        attempts       BIGINT NOT NULL DEFAULT 0,
        last_error     TEXT COLLATE "C",
        created_at     BIGINT NOT NULL,
        updated_at     BIGINT NOT NULL,
        PRIMARY KEY (tenant, opportunity_id, interview_key)
    );
    CREATE INDEX notes_by_state ON notes (tenant, state);

    -- Who owns each tenant. `fence` grows by one at every change of owner; every write a
    -- reconciler commits checks that its owner still holds the fence it started with, in the
    -- same transaction. Times are the database's clock (ms), so instances' clocks never
    -- disagree about an expiry.
    CREATE TABLE leases (
        tenant     TEXT COLLATE "C" PRIMARY KEY,
        owner      TEXT COLLATE "C" NOT NULL,
        fence      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        taken_at   BIGINT NOT NULL
    );

    -- The instances alive, so each can compute its fair share of the tenants.
    CREATE TABLE instances (
        id         TEXT COLLATE "C" PRIMARY KEY,
        seen_at    BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    );

    -- The database's clock in ms: leases expire by one clock, whatever the instances' say.
    CREATE FUNCTION wls_now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS
        $f$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT $f$;

    -- The fence. A transaction of a lease holder names its instance and the fence of each
    -- tenant it holds (`wls.owner`, `wls.fences`, set for the transaction only); every row it
    -- writes of a tenant must then belong to a lease it still holds, unexpired, with that
    -- fence. The lease row is read FOR SHARE, so no takeover can commit before this
    -- transaction ends. Writers that hold no lease (`connect`, `migrate-store`) set neither.
    CREATE FUNCTION wls_fence() RETURNS trigger LANGUAGE plpgsql AS $f$
    DECLARE
        v_me     TEXT := current_setting('wls.owner', true);
        v_tenant TEXT;
        v_fence  BIGINT;
    BEGIN
        IF v_me IS NULL OR v_me = '' THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'DELETE' THEN
            v_tenant := to_jsonb(OLD) ->> TG_ARGV[0];
        ELSE
            v_tenant := to_jsonb(NEW) ->> TG_ARGV[0];
        END IF;
        -- Once per tenant and transaction: the lock taken below lasts until it ends.
        IF current_setting('wls.checked', true) = v_tenant THEN
            RETURN NULL;
        END IF;
        v_fence := (current_setting('wls.fences', true)::jsonb ->> v_tenant)::BIGINT;
        PERFORM 1 FROM leases l
         WHERE l.tenant = v_tenant AND l.owner = v_me AND l.fence = v_fence
           AND l.expires_at > wls_now_ms()
           FOR SHARE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'instance % holds no lease on tenant % with fence %', v_me, v_tenant, v_fence
                USING ERRCODE = 'WL001';
        END IF;
        PERFORM set_config('wls.checked', v_tenant, true);
        RETURN NULL;
    END
    $f$;

    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON tenants
        FOR EACH ROW EXECUTE FUNCTION wls_fence('id');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON cursors
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON opportunities
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON postings
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON interviews
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON interview_tags
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON invites
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON participants
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON passes
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON attention
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON oauth_tokens
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON trigger_stages
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON tenant_facts
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON interview_sweeps
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    CREATE TRIGGER fence AFTER INSERT OR UPDATE OR DELETE ON notes
        FOR EACH ROW EXECUTE FUNCTION wls_fence('tenant');
    "#,
)];
