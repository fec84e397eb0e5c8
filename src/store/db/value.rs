//! What crosses the store's two database drivers: parameters ([`Value`], made by [`Param`])
//! and column values ([`Cell`], read by [`Col`]). SQLite's types are the model: 64-bit
//! integers, doubles, text, null. Booleans are 0/1 integers on both backends.

use std::error::Error;

use bytes::{BufMut, BytesMut};
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, ValueRef};

/// A statement parameter, borrowed from the caller's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
}

/// Anything the store binds as a parameter.
pub(crate) trait Param {
    fn value(&self) -> Value<'_>;
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn value(&self) -> Value<'_> {
                // Counts and ids of this product never reach i64::MAX; saturate rather than
                // wrap if one ever did.
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
    )*};
}
int_param!(i64, i32, u32, u64, usize);

impl Param for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}

impl Param for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}

impl Param for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl Param for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}

impl<T: Param> Param for Option<T> {
    fn value(&self) -> Value<'_> {
        match self {
            Some(v) => v.value(),
            None => Value::Null,
        }
    }
}

impl rusqlite::ToSql for Value<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match *self {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(v),
            Value::Real(v) => ValueRef::Real(v),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
        }))
    }
}

/// PostgreSQL infers each parameter's type from the statement; the value is written in the
/// binary form of that type, so one `Value::Int` serves a `BIGINT` column and an `INT`
/// function argument alike, and text serves `json` (`json_array_elements_text($2)`).
impl ToSql for Value<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match *self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => match *ty {
                Type::INT8 => v.to_sql(ty, out),
                Type::INT4 => i32::try_from(v)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(v)?.to_sql(ty, out),
                Type::FLOAT8 => (v as f64).to_sql(ty, out),
                Type::BOOL => (v != 0).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    v.to_string().as_str().to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("an integer parameter where {ty} is expected").into()),
            },
            Value::Real(v) => match *ty {
                Type::FLOAT8 => v.to_sql(ty, out),
                Type::FLOAT4 => (v as f32).to_sql(ty, out),
                _ => Err(format!("a real parameter where {ty} is expected").into()),
            },
            Value::Text(s) => match *ty {
                Type::JSON => {
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    s.to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("a text parameter where {ty} is expected").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// One column of a result row, borrowed from the driver.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Cell<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Int(_) => "integer",
            Cell::Real(_) => "real",
            Cell::Text(_) => "text",
            Cell::Blob(_) => "blob",
        }
    }

    /// An owned copy, for copying rows between stores.
    pub(crate) fn to_owned_value(self) -> OwnedValue {
        match self {
            Cell::Null => OwnedValue::Null,
            Cell::Int(v) => OwnedValue::Int(v),
            Cell::Real(v) => OwnedValue::Real(v),
            Cell::Text(s) => OwnedValue::Text(s.to_owned()),
            Cell::Blob(b) => OwnedValue::Text(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// A column value kept past its row (`copy.rs`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OwnedValue {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Param for OwnedValue {
    fn value(&self) -> Value<'_> {
        match self {
            OwnedValue::Null => Value::Null,
            OwnedValue::Int(v) => Value::Int(*v),
            OwnedValue::Real(v) => Value::Real(*v),
            OwnedValue::Text(s) => Value::Text(s),
        }
    }
}

/// A Rust type a column is read as. `Err` names what the column held instead.
pub(crate) trait Col: Sized {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String>;
}

fn mismatch(want: &str, cell: Cell<'_>) -> String {
    format!("expected {want}, found {}", cell.kind())
}

macro_rules! int_col {
    ($($t:ty),*) => {$(
        impl Col for $t {
            fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
                match cell {
                    Cell::Int(v) => <$t>::try_from(v)
                        .map_err(|_| format!("integer {v} out of range for {}", stringify!($t))),
                    other => Err(mismatch("an integer", other)),
                }
            }
        }
    )*};
}
int_col!(i64, i32, u32, u64, usize);

impl Col for bool {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Int(v) => Ok(v != 0),
            other => Err(mismatch("an integer", other)),
        }
    }
}

impl Col for f64 {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Real(v) => Ok(v),
            Cell::Int(v) => Ok(v as f64),
            other => Err(mismatch("a number", other)),
        }
    }
}

impl Col for String {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Text(s) => Ok(s.to_owned()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl<T: Col> Col for Option<T> {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

impl Col for OwnedValue {
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        Ok(cell.to_owned_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_read_as_their_rust_types_and_name_a_mismatch() {
        assert_eq!(u32::from_cell(Cell::Int(7)), Ok(7));
        assert!(u32::from_cell(Cell::Int(-1)).is_err());
        assert_eq!(bool::from_cell(Cell::Int(1)), Ok(true));
        assert_eq!(Option::<String>::from_cell(Cell::Null), Ok(None));
        assert_eq!(
            String::from_cell(Cell::Int(3)),
            Err("expected text, found integer".to_owned())
        );
    }

    #[test]
    fn parameters_keep_their_value_and_none_is_null() {
        assert_eq!(5_u32.value(), Value::Int(5));
        assert_eq!(true.value(), Value::Int(1));
        assert_eq!(Some("a").value(), Value::Text("a"));
        assert_eq!(None::<i64>.value(), Value::Null);
    }
}
