//! One query interface over the store's two backends, SQLite (embedded, one instance) and
//! PostgreSQL (several instances). The store's typed functions are written once against
//! [`Db`]; their SQL is SQLite's, with `?N` parameters, and [`pg::translate`] rewrites the few
//! differences for PostgreSQL where it prepares a statement. Where the two differ in more than
//! spelling, a function asks [`Db::dialect`] and gives each its own SQL.

pub(crate) mod pg;
pub(crate) mod value;

use std::cell::RefCell;

pub(crate) use value::{Cell, Col, OwnedValue, Param, Value};

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error("the query returned no row")]
    NoRows,
    #[error("column {index}: {problem}")]
    Column { index: usize, problem: String },
}

impl DbError {
    /// The backend the error came from, for the error's metric label.
    pub fn backend(&self) -> &'static str {
        match self {
            DbError::Postgres(_) => "postgres",
            _ => "sqlite",
        }
    }
}

/// Parameters for one statement: `params![tenant, id]`.
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$($crate::store::db::Param::value(&$p)),*] as &[$crate::store::db::Value<'_>]
    };
}
pub(crate) use params;

/// A PostgreSQL transaction and the connection's prepared statements. Statements outlive
/// transactions (they belong to the session), so each is prepared once per connection.
pub(crate) struct PgTx<'t> {
    pub(crate) tx: RefCell<postgres::Transaction<'t>>,
    pub(crate) statements: RefCell<&'t mut pg::Statements>,
}

/// What [`Db`] asks of a PostgreSQL transaction. A trait object, so that a [`Db`] borrowed
/// for less than the transaction lives needs no second lifetime.
pub(crate) trait PgSession {
    fn execute(&self, sql: &str, params: &[Value<'_>]) -> DbResult<u64>;
    fn query_opt(&self, sql: &str, params: &[Value<'_>]) -> DbResult<Option<postgres::Row>>;
    fn for_each_row(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&postgres::Row) -> DbResult<()>,
    ) -> DbResult<()>;
}

impl PgSession for PgTx<'_> {
    fn execute(&self, sql: &str, params: &[Value<'_>]) -> DbResult<u64> {
        let st = pg::prepare(self, sql)?;
        Ok(self.tx.borrow_mut().execute(&st, &pg::refs(params))?)
    }

    fn query_opt(&self, sql: &str, params: &[Value<'_>]) -> DbResult<Option<postgres::Row>> {
        let st = pg::prepare(self, sql)?;
        Ok(self.tx.borrow_mut().query_opt(&st, &pg::refs(params))?)
    }

    fn for_each_row(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: &mut dyn FnMut(&postgres::Row) -> DbResult<()>,
    ) -> DbResult<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let st = pg::prepare(self, sql)?;
        let mut tx = self.tx.borrow_mut();
        let mut rows = tx.query_raw(&st, pg::refs(params))?;
        while let Some(r) = rows.next()? {
            f(&r)?;
        }
        Ok(())
    }
}

/// The connection a [`super::Reader`] or [`super::Tx`] reads and writes through.
#[derive(Clone, Copy)]
pub(crate) enum Db<'c> {
    Lite(&'c rusqlite::Connection),
    Pg(&'c (dyn PgSession + 'c)),
}

/// One result row.
pub(crate) enum Row<'r> {
    Lite(&'r rusqlite::Row<'r>),
    Pg(&'r postgres::Row),
}

/// A column index: `usize`, or an untyped literal (which Rust makes an `i32`).
pub(crate) trait Idx {
    fn ix(self) -> usize;
}

impl Idx for usize {
    fn ix(self) -> usize {
        self
    }
}

impl Idx for i32 {
    fn ix(self) -> usize {
        usize::try_from(self).unwrap_or(usize::MAX)
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// `.optional()` on a single-row query: no row is `None`, as rusqlite's `OptionalExtension`.
pub(crate) trait Optional<T> {
    fn optional(self) -> DbResult<Option<T>>;
}

impl<T> Optional<T> for DbResult<T> {
    fn optional(self) -> DbResult<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(DbError::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Row<'_> {
    /// Column `index` as `T`.
    pub(crate) fn get<I: Idx, T: Col>(&self, index: I) -> Result<T, DbError> {
        let index = index.ix();
        let cell = self.cell(index)?;
        T::from_cell(cell).map_err(|problem| DbError::Column { index, problem })
    }

    pub(crate) fn cell(&self, index: usize) -> Result<Cell<'_>, DbError> {
        match self {
            Row::Lite(r) => {
                use rusqlite::types::ValueRef;
                Ok(match r.get_ref(index)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(v) => Cell::Int(v),
                    ValueRef::Real(v) => Cell::Real(v),
                    ValueRef::Text(t) => {
                        Cell::Text(std::str::from_utf8(t).map_err(|e| DbError::Column {
                            index,
                            problem: format!("text is not UTF-8: {e}"),
                        })?)
                    }
                    ValueRef::Blob(b) => Cell::Blob(b),
                })
            }
            Row::Pg(r) => pg::cell(r, index),
        }
    }
}

impl<'c> Db<'c> {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Db::Lite(_) => Dialect::Sqlite,
            Db::Pg(_) => Dialect::Postgres,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub(crate) fn execute(&self, sql: &str, params: &[Value<'_>]) -> Result<usize, DbError> {
        match self {
            Db::Lite(c) => Ok(c
                .prepare_cached(sql)?
                .execute(rusqlite::params_from_iter(params))?),
            Db::Pg(p) => Ok(usize::try_from(p.execute(sql, params)?).unwrap_or(usize::MAX)),
        }
    }

    /// Streams the rows through `f` without collecting them. `f` must not query the store
    /// (the PostgreSQL transaction is busy reading).
    pub(crate) fn for_each<E: From<DbError>>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Db::Lite(c) => {
                let mut st = c.prepare_cached(sql).map_err(DbError::from)?;
                let mut rows = st
                    .query(rusqlite::params_from_iter(params))
                    .map_err(DbError::from)?;
                while let Some(r) = rows.next().map_err(DbError::from)? {
                    f(&Row::Lite(r))?;
                }
                Ok(())
            }
            Db::Pg(p) => {
                // `f`'s own error type cannot cross the trait object: it waits here, and a
                // placeholder stops the rows.
                let mut failed: Option<E> = None;
                let read = p.for_each_row(sql, params, &mut |r| match f(&Row::Pg(r)) {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        failed = Some(e);
                        Err(DbError::NoRows)
                    }
                });
                match (failed, read) {
                    (Some(e), _) => Err(e),
                    (None, Err(e)) => Err(e.into()),
                    (None, Ok(())) => Ok(()),
                }
            }
        }
    }

    /// The first row; [`DbError::NoRows`] when there is none.
    pub(crate) fn query_row<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        self.query_opt(sql, params, f)?.ok_or(DbError::NoRows)
    }

    /// The first row, if any.
    pub(crate) fn query_opt<T>(
        &self,
        sql: &str,
        params: &[Value<'_>],
        f: impl FnOnce(&Row<'_>) -> Result<T, DbError>,
    ) -> Result<Option<T>, DbError> {
        match self {
            Db::Lite(c) => {
                let mut st = c.prepare_cached(sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(params))?;
                match rows.next()? {
                    Some(r) => f(&Row::Lite(r)).map(Some),
                    None => Ok(None),
                }
            }
            Db::Pg(p) => match p.query_opt(sql, params)? {
                Some(r) => f(&Row::Pg(&r)).map(Some),
                None => Ok(None),
            },
        }
    }

    /// A statement to run with [`Stmt`]'s methods, spelled as rusqlite's are (the store's
    /// functions were written against rusqlite). Preparing and caching happen when it runs;
    /// the SQL is borrowed, not copied, on every call.
    pub(crate) fn prepare_cached<'s>(&self, sql: &'s str) -> DbResult<Stmt<'c, 's>> {
        Ok(Stmt { db: *self, sql })
    }
}

/// A statement of [`Db::prepare_cached`].
pub(crate) struct Stmt<'c, 's> {
    db: Db<'c>,
    sql: &'s str,
}

impl Stmt<'_, '_> {
    pub(crate) fn execute(&mut self, params: &[Value<'_>]) -> DbResult<usize> {
        self.db.execute(self.sql, params)
    }

    /// Every row mapped by `f`, read in full before it returns.
    pub(crate) fn query_map<T>(
        &mut self,
        params: &[Value<'_>],
        mut f: impl FnMut(&Row<'_>) -> DbResult<T>,
    ) -> DbResult<std::vec::IntoIter<DbResult<T>>> {
        let mut out = Vec::new();
        self.db.for_each(self.sql, params, |r| {
            out.push(f(r));
            Ok::<(), DbError>(())
        })?;
        Ok(out.into_iter())
    }
}
