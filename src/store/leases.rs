//! Tenant leases on a shared PostgreSQL store (issue 14): which instance owns each tenant, until
//! when, under which fence; and the instances alive. Times are the database's clock
//! (`wls_now_ms()`). SQLite has no leases: one instance holds its lock file and owns everything.

use std::collections::BTreeMap;

use super::db::{DbError, Dialect, params};
use super::postgresql::PgStore;
use super::{Ctx, Reader, StoreError};

/// One tenant's lease as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    pub tenant: String,
    pub owner: String,
    pub fence: i64,
    pub expires_at: i64,
    pub taken_at: i64,
}

/// A lease this instance just took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub tenant: String,
    pub fence: i64,
    /// The instance that held it before, when this was a takeover of a lapsed lease.
    pub from: Option<String>,
}

impl Reader<'_> {
    /// Every lease, by tenant; none on SQLite.
    pub fn leases(&self) -> Result<Vec<LeaseRow>, StoreError> {
        if self.conn.dialect() != Dialect::Postgres {
            return Ok(Vec::new());
        }
        self.conn
            .prepare_cached(
                "SELECT tenant, owner, fence, expires_at, taken_at FROM leases ORDER BY tenant",
            )
            .ctx("prepare leases")?
            .query_map(params![], |r| {
                Ok(LeaseRow {
                    tenant: r.get(0)?,
                    owner: r.get(1)?,
                    fence: r.get(2)?,
                    expires_at: r.get(3)?,
                    taken_at: r.get(4)?,
                })
            })
            .ctx("read leases")?
            .collect::<Result<_, _>>()
            .ctx("read leases")
    }

    /// The database's clock, ms (the clock leases expire by); the caller's `fallback` on
    /// SQLite.
    pub fn store_now(&self, fallback: i64) -> Result<i64, StoreError> {
        if self.conn.dialect() != Dialect::Postgres {
            return Ok(fallback);
        }
        self.conn
            .query_row("SELECT wls_now_ms()", params![], |r| r.get(0))
            .ctx("read the database clock")
    }
}

impl PgStore {
    /// Says this instance is alive for `lease_ms` more; returns how many instances are alive
    /// (this one included). Instances gone for ten leases are forgotten.
    pub(crate) fn heartbeat(&self, me: &str, lease_ms: i64) -> Result<usize, StoreError> {
        self.unfenced(|db| {
            db.execute(
                "INSERT INTO instances (id, seen_at, expires_at)
                     VALUES (?1, wls_now_ms(), wls_now_ms() + ?2)
                     ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at,
                                                    expires_at = excluded.expires_at",
                params![me, lease_ms],
            )
            .ctx("heartbeat")?;
            db.execute(
                "DELETE FROM instances WHERE expires_at < wls_now_ms() - 10 * ?1",
                params![lease_ms],
            )
            .ctx("forget dead instances")?;
            let n: i64 = db
                .query_row(
                    "SELECT COUNT(*) FROM instances WHERE expires_at > wls_now_ms()",
                    params![],
                    |r| r.get(0),
                )
                .ctx("count instances")?;
            Ok(usize::try_from(n).unwrap_or(1).max(1))
        })
    }

    /// Extends the leases `me` holds with these fences; returns those it still holds (a lease
    /// another instance took, or that was released, is not among them).
    pub(crate) fn renew(
        &self,
        me: &str,
        held: &BTreeMap<String, i64>,
        lease_ms: i64,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        if held.is_empty() {
            return Ok(BTreeMap::new());
        }
        let tenants: Vec<String> = held.keys().cloned().collect();
        self.unfenced(|db| {
            let rows: Vec<(String, i64)> = db
                .prepare_cached(
                    "UPDATE leases SET expires_at = wls_now_ms() + ?2
                     WHERE owner = ?1 AND tenant IN (SELECT value FROM json_each(?3))
                     RETURNING tenant, fence",
                )
                .and_then(|mut st| {
                    st.query_map(params![me, lease_ms, super::to_json_list(&tenants)], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                })
                .and_then(|rows| rows.collect())
                .ctx("renew leases")?;
            Ok(rows
                .into_iter()
                .filter(|(t, f)| held.get(t) == Some(f))
                .collect())
        })
    }

    /// Takes `tenant`'s lease for `me` if nobody holds it, or its holder let it lapse. The
    /// previous holder's unfinished passes are recorded as interrupted in the same
    /// transaction. Gives up (`None`) rather than wait for a holder's open transaction.
    pub(crate) fn take(
        &self,
        me: &str,
        tenant: &str,
        lease_ms: i64,
    ) -> Result<Option<Taken>, StoreError> {
        self.unfenced(|db| {
            db.execute("SET LOCAL lock_timeout = '2s'", params![])
                .ctx("lock timeout")?;
            let current: Option<(String, i64, bool)> = db
                .query_opt(
                    "SELECT owner, fence, expires_at > wls_now_ms() FROM leases
                     WHERE tenant = ?1 FOR UPDATE",
                    params![tenant],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .ctx("read lease")?;
            let fence = match &current {
                Some((_, _, true)) => return Ok(None),
                Some((_, fence, false)) => fence + 1,
                None => 1,
            };
            db.execute(
                "INSERT INTO leases (tenant, owner, fence, expires_at, taken_at)
                     VALUES (?1, ?2, ?3, wls_now_ms() + ?4, wls_now_ms())
                     ON CONFLICT (tenant) DO UPDATE SET owner = excluded.owner,
                       fence = excluded.fence, expires_at = excluded.expires_at,
                       taken_at = excluded.taken_at",
                params![tenant, me, fence, lease_ms],
            )
            .ctx("take lease")?;
            db.execute(
                "UPDATE passes SET result = 'interrupted',
                       error = COALESCE(error, 'its instance stopped renewing the lease')
                     WHERE tenant = ?1 AND result IS NULL",
                params![tenant],
            )
            .ctx("interrupt the previous owner's passes")?;
            Ok(Some(Taken {
                tenant: tenant.to_owned(),
                fence,
                from: current
                    .map(|(owner, _, _)| owner)
                    .filter(|owner| owner != me),
            }))
        })
        .or_else(|e| match &e {
            // Another instance's transaction holds the lease row: try again next round.
            StoreError::Db {
                source: DbError::Postgres(pg),
                ..
            } if pg.code() == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) => Ok(None),
            _ => Err(e),
        })
    }

    /// Lets another instance take `tenant` at once (rebalancing, shutdown).
    pub(crate) fn release(&self, me: &str, tenant: &str, fence: i64) -> Result<(), StoreError> {
        self.unfenced(|db| {
            db.execute(
                "UPDATE leases SET expires_at = 0 WHERE tenant = ?1 AND owner = ?2 AND fence = ?3",
                params![tenant, me, fence],
            )
            .ctx("release lease")
            .map(drop)
        })
    }

    /// Says the instance is gone, so the others' fair shares grow at once.
    pub(crate) fn leave(&self, me: &str) -> Result<(), StoreError> {
        self.unfenced(|db| {
            db.execute("DELETE FROM instances WHERE id = ?1", params![me])
                .ctx("leave")
                .map(drop)
        })
    }

    /// Tells the owner of `tenant`, wherever it runs, about a hint (`LISTEN wls_hints`).
    pub(crate) fn notify_hint(&self, payload: &str) -> Result<(), StoreError> {
        self.unfenced(|db| {
            db.execute("SELECT pg_notify(?1, ?2)", params![HINT_CHANNEL, payload])
                .ctx("hand the hint over")
                .map(drop)
        })
    }
}

/// The channel hints are handed over on.
pub const HINT_CHANNEL: &str = "wls_hints";

/// Listens for handed hints on a connection of its own (`LISTEN`), calling `each` with every
/// payload, until `stop` says so (checked four times a second) or the connection fails.
/// Blocks: run it on a thread of its own.
pub fn listen_for_hints(
    url: &str,
    stop: &dyn Fn() -> bool,
    each: &mut dyn FnMut(&str),
) -> Result<(), StoreError> {
    use ::postgres::fallible_iterator::FallibleIterator;
    let failed = |what: &str, e: Box<dyn std::error::Error + Send + Sync>| StoreError::Postgres {
        url: super::redact(url),
        what: what.to_owned(),
        source: Some(e),
    };
    let mut conn = super::db::pg::connect(url).map_err(|e| failed("connect", Box::new(e)))?;
    conn.client
        .batch_execute(&format!("LISTEN {HINT_CHANNEL}"))
        .map_err(|e| failed("listen", Box::new(e)))?;
    let mut notifications = conn.client.notifications();
    let mut iter = notifications.timeout_iter(std::time::Duration::from_millis(250));
    while !stop() {
        match iter.next() {
            Ok(Some(n)) => each(n.payload()),
            Ok(None) => {}
            Err(e) => return Err(failed("wait for hints", Box::new(e))),
        }
    }
    Ok(())
}
