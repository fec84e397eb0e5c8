//! PostgreSQL through the `postgres` crate (the blocking face of `tokio-postgres`), TLS by
//! rustls with the system's roots. Blocking: the store runs it off the async workers
//! (`store::offload`).

use std::collections::HashMap;

use postgres::types::{ToSql, Type};
use postgres::{Client, Config, Statement};

use super::{Cell, DbError, PgTx, Value};

/// The connection's prepared statements, by the SQL the store wrote (before translation).
pub(crate) type Statements = HashMap<String, Statement>;

/// One connection and what was prepared on it.
pub(crate) struct PgConn {
    pub(crate) client: Client,
    pub(crate) statements: Statements,
}

/// Opens a connection to `url` (`postgres://…` or `key=value` form). `sslmode` decides TLS as
/// libpq does (`disable`, `prefer`: the default, `require`); the certificate is checked against
/// the system's roots (and `SSL_CERT_FILE`).
pub(crate) fn connect(url: &str) -> Result<PgConn, ConnectError> {
    let config: Config = url
        .parse()
        .map_err(|e: postgres::Error| ConnectError::Url {
            reason: e.to_string(),
        })?;
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    for cert in found.certs {
        // A certificate the system lists but rustls cannot read is skipped, as curl does.
        let _ = roots.add(cert);
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConnectError::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls);
    let client = config.connect(tls).map_err(ConnectError::Connect)?;
    Ok(PgConn {
        client,
        statements: Statements::new(),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("store.url is not a PostgreSQL connection string: {reason}")]
    Url { reason: String },
    #[error("TLS set-up for PostgreSQL: {0}")]
    Tls(String),
    #[error("connect to PostgreSQL")]
    Connect(#[source] postgres::Error),
}

/// The statement for `sql`, prepared on first use.
pub(super) fn prepare(p: &PgTx<'_>, sql: &str) -> Result<Statement, DbError> {
    if let Some(st) = p.statements.borrow().get(sql) {
        return Ok(st.clone());
    }
    let st = p.tx.borrow_mut().prepare(&translate(sql))?;
    p.statements.borrow_mut().insert(sql.to_owned(), st.clone());
    Ok(st)
}

pub(super) fn refs<'a>(params: &'a [Value<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Column `index` of a PostgreSQL row as the store's cell.
pub(super) fn cell<'r>(row: &'r postgres::Row, index: usize) -> Result<Cell<'r>, DbError> {
    let Some(column) = row.columns().get(index) else {
        return Err(DbError::Column {
            index,
            problem: "no such column".to_owned(),
        });
    };
    let ty = column.type_().clone();
    let cell = match ty {
        Type::INT8 => row.try_get::<_, Option<i64>>(index)?.map(Cell::Int),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(index)?
            .map(|v| Cell::Int(v.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(index)?
            .map(|v| Cell::Int(v.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(index)?
            .map(|v| Cell::Int(v.into())),
        Type::FLOAT8 => row.try_get::<_, Option<f64>>(index)?.map(Cell::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(index)?
            .map(|v| Cell::Real(v.into())),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            row.try_get::<_, Option<&str>>(index)?.map(Cell::Text)
        }
        Type::BYTEA => row.try_get::<_, Option<&[u8]>>(index)?.map(Cell::Blob),
        other => {
            return Err(DbError::Column {
                index,
                problem: format!(
                    "PostgreSQL type {other} is not one the store reads (cast it to BIGINT or TEXT)"
                ),
            });
        }
    };
    Ok(cell.unwrap_or(Cell::Null))
}

/// SQLite's SQL as PostgreSQL spells it, for what the store's statements use:
/// - `?N` parameters become `$N`;
/// - `json_each(?N)` (a list of strings as JSON) becomes `json_array_elements_text($N)`, whose
///   column is also named `value`;
/// - the two-argument scalar `MAX(COALESCE(…), …)` becomes `GREATEST(…)`.
///
/// - `json_each(?N) AS k`, whose `k.key` is the element's position, keeps it as
///   `WITH ORDINALITY AS k(value, key)`;
/// - `INDEXED BY name` (a hint to SQLite's planner) is dropped;
/// - the two shapes of `COLLATE NOCASE` the store uses compare `lower(…)` instead, which the
///   `lower(email)` indexes of the PostgreSQL schema serve.
///
/// Text inside quotes is left alone by the parameter and function rules. A test runs every
/// store function against PostgreSQL, so a shape this misses fails there, not in production.
pub(crate) fn translate(sql: &str) -> String {
    let sql = nocase(&aliased_json_each(&drop_index_hints(sql)));
    let sql = sql.as_str();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut quoted = false;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            quoted = !quoted;
            out.push(c);
            continue;
        }
        if quoted {
            out.push(c);
            continue;
        }
        if c == '?' && chars.peek().is_some_and(|(_, d)| d.is_ascii_digit()) {
            out.push('$');
            continue;
        }
        let rest = &sql[i..];
        if let Some(word) = ["json_each(", "MAX(COALESCE("]
            .into_iter()
            .find(|w| rest.starts_with(w))
        {
            let replacement = match word {
                "json_each(" => "json_array_elements_text(",
                _ => "GREATEST(COALESCE(",
            };
            out.push_str(replacement);
            for _ in 1..word.chars().count() {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}

fn drop_index_hints(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(" INDEXED BY ") {
        out.push_str(&rest[..at]);
        let after = &rest[at + " INDEXED BY ".len()..];
        let name_end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        rest = &after[name_end..];
    }
    out.push_str(rest);
    out
}

fn aliased_json_each(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut rest = sql;
    while let Some(at) = rest.find("json_each(?") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // `json_each(?N) AS alias`
        let close = after.find(')').unwrap_or(after.len());
        let tail = &after[(close + 1).min(after.len())..];
        let alias = tail
            .strip_prefix(" AS ")
            .map(|t| {
                let end = t
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(t.len());
                &t[..end]
            })
            .filter(|a| !a.is_empty());
        match alias {
            Some(alias) => {
                out.push_str(&after[..=close]);
                out.push_str(&format!(" WITH ORDINALITY AS {alias}(value, key)"));
                rest = &tail[" AS ".len() + alias.len()..];
            }
            None => {
                out.push_str("json_each(?");
                rest = &after["json_each(?".len()..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn nocase(sql: &str) -> String {
    let mut sql = sql.replace(
        "email COLLATE NOCASE IN (SELECT trim(value) FROM json_each(",
        "lower(email) IN (SELECT lower(trim(value)) FROM json_each(",
    );
    for n in 1..=9 {
        sql = sql.replace(
            &format!("email = ?{n} COLLATE NOCASE"),
            &format!("lower(email) = lower(?{n})"),
        );
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::translate;

    #[test]
    fn json_each_keeps_the_position_sqlite_calls_key() {
        assert_eq!(
            translate("SELECT k.value FROM json_each(?2) AS k ORDER BY k.key"),
            "SELECT k.value FROM json_array_elements_text($2) WITH ORDINALITY AS k(value, key) ORDER BY k.key"
        );
    }

    #[test]
    fn sqlite_only_clauses_become_postgres_ones() {
        assert_eq!(
            translate(
                "SELECT k FROM participants INDEXED BY participants_by_interview\n WHERE tenant = ?1 AND email = ?3 COLLATE NOCASE"
            ),
            "SELECT k FROM participants\n WHERE tenant = $1 AND lower(email) = lower($3)"
        );
        assert_eq!(
            translate("WHERE email COLLATE NOCASE IN (SELECT trim(value) FROM json_each(?2))"),
            "WHERE lower(email) IN (SELECT lower(trim(value)) FROM json_array_elements_text($2))"
        );
    }

    #[test]
    fn sqlite_spellings_become_postgres_ones_outside_quotes() {
        assert_eq!(
            translate("SELECT a FROM t WHERE x = ?1 AND y IN (SELECT value FROM json_each(?12))"),
            "SELECT a FROM t WHERE x = $1 AND y IN (SELECT value FROM json_array_elements_text($12))"
        );
        assert_eq!(
            translate("UPDATE t SET a = MAX(COALESCE(a, 0), ?3), b = MAX(b)"),
            "UPDATE t SET a = GREATEST(COALESCE(a, 0), $3), b = MAX(b)"
        );
        assert_eq!(
            translate("SELECT '?1 json_each(' , ?2"),
            "SELECT '?1 json_each(' , $2"
        );
    }
}
