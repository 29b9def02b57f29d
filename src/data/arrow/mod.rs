//! The Arrow data plane: Connect schemas → Arrow schemas, Connect values → Arrow record batches,
//! schema inference for schemaless JSON, and Arrow → Connect values for reading batches back.
//!
//! # Type table
//!
//! | Connect (+ logical name) | Arrow |
//! |---|---|
//! | int8 / int16 / int32 / int64 | Int8 / Int16 / Int32 / Int64 |
//! | float32 / float64 | Float32 / Float64 |
//! | boolean, string, bytes | Boolean, Utf8, Binary |
//! | `Decimal` (scale s, `connect.decimal.precision` p) | Decimal128(p, s) for p ≤ 38, Decimal256(p, s) for p ≤ 76, Utf8 text above; without p: Decimal128(38, s) |
//! | `io.debezium.data.VariableScaleDecimal` | per [`VariableScaleDecimalPolicy`] (default Utf8 text) |
//! | `Date`, `io.debezium.time.Date` | Date32 |
//! | `Time`, `io.debezium.time.Time` | Time32(ms) |
//! | `io.debezium.time.MicroTime` / `NanoTime` | Time64(µs) / Time64(ns) |
//! | `Timestamp` (Connect, a UTC instant) | Timestamp(ms, "UTC") |
//! | `io.debezium.time.Timestamp` / `MicroTimestamp` / `NanoTimestamp` (wall time) | Timestamp(ms / µs / ns, no zone) |
//! | `io.debezium.time.ZonedTimestamp` | Timestamp(µs, "UTC"), parsed from the ISO text |
//! | `io.debezium.time.ZonedTime`, `Json`, `Uuid`, `Enum` | Utf8 |
//! | `io.debezium.time.MicroDuration` | Duration(µs) |
//! | `io.debezium.data.Bits` | Binary |
//! | array / map / struct | List (item nullable per schema) / Map(entries: Struct{key, value}) / Struct |
//!
//! `optional` becomes `nullable`. A logical name on an unexpected physical type (a `Date` on a
//! string, say) is mapped by the physical type: never a guessed conversion. Every field carries
//! the Connect name, version, doc and parameters as metadata (`connect.name`,
//! `connect.version`, `connect.doc`, `connect.parameters.<key>`) so sinks can recover them.
//!
//! # Policies
//!
//! * **Decimals** are exact: never f64, never rounded. A value with more significant digits than
//!   the column's precision, or more fractional digits than its scale, is an append error.
//!   Arrow requires scale ≤ precision; PostgreSQL allows `NUMERIC(3,5)`, which maps to
//!   Decimal128(5, 5) (wider, holds every value).
//! * **VariableScaleDecimal** (PostgreSQL `NUMERIC` without a declared scale): see
//!   [`VariableScaleDecimalPolicy`]. Default Utf8, because such a column accepts per-row scales
//!   and up to 131,072 integer digits: any fixed Arrow decimal type would turn rows the database
//!   accepted into errors. The text is the plain decimal (`"1.500"`, scale kept), exact and
//!   castable by every reader; `Decimal128 { scale }` is the opt-in typed form, with overflow
//!   and excess fractional digits reported as errors.
//! * **±infinity timestamps**: Debezium writes PostgreSQL `infinity` / `-infinity` as the longs
//!   `9223372036825200000` / `-9223372036832400000` in MicroTimestamp/NanoTimestamp (and
//!   Connect Timestamp) columns, the same divided by 1000 in millisecond Timestamp columns, and
//!   as the strings `"infinity"` / `"-infinity"` in ZonedTimestamp columns (observed with
//!   Debezium 3.6, tests/data/debezium). Infinite `date` values cannot be recognised: Debezium
//!   emits overflowed int32 day numbers that even differ between snapshot and streaming, and
//!   they pass through as those numbers. See [`InfinityPolicy`]; by default they clamp to
//!   the column's representable range (9999-12-31T23:59:59.999… / 0001-01-01T00:00:00, capped
//!   by the i64 range of the unit), so they stay ordered as "latest"/"earliest" and every
//!   Parquet reader and ClickHouse can read them.
//! * **TOAST placeholder** (`__debezium_unavailable_value`, the value Debezium writes for an
//!   unchanged TOASTed column): see [`ToastPolicy`]. By default it is kept verbatim in Utf8 and
//!   Binary columns (lossless: a sink can recognise it and keep the stored value) and is an
//!   error in typed columns such as ZonedTimestamp, where no value would be right.
//! * **ZonedTimestamp** text is ISO-8601 with an offset (`Z`, `±HH:MM`, `±HHMM`, `±HH`,
//!   `±HH:MM:SS`), normalised to UTC µs. Digits below the microsecond (7–9 fractional digits,
//!   from non-PostgreSQL sources) follow [`SubMicrosPolicy`]: truncated toward the past by
//!   default, since the column unit is µs (Parquet MICROS, ClickHouse DateTime64(6)).
//! * **MicroDuration** → Duration(µs): the type keeps the unit; Parquet writers store it as
//!   INT64, which is what ClickHouse wants.
//! * **Uuid** → Utf8 (canonical text as Debezium sends it; no parsing that could reject or
//!   reformat a value). `connect.name = io.debezium.data.Uuid` lets a sink map it to a UUID type.
//! * **Enum** → Utf8 (not a dictionary, so batches concatenate and widen without re-encoding).
//! * **Integers in float columns** are accepted only when exactly representable (|v| ≤ 2^53 for
//!   Float64, 2^24 for Float32); anything else is an error rather than a rounded value.
//!
//! # Schemaless data
//!
//! [`InferredSchema`] infers a struct schema from JSON objects and widens it
//! (see [`infer`]); [`InferredBatchBuilder`] builds one batch whose schema widens mid-batch.

pub mod builder;
pub mod decimal;
pub mod infer;
pub mod read;
pub mod time;
pub mod types;

#[cfg(test)]
mod tests;

use std::sync::Arc;

pub use builder::{AppendError, AppendErrorKind, BatchBuilder};
pub use infer::{InferredBatchBuilder, InferredSchema};
pub use read::{array_value, value_at};
pub use types::{
    arrow_field, arrow_field_with, arrow_schema, arrow_schema_with, MappingError, MappingErrorKind,
};

/// Debezium's default `unavailable.value.placeholder`.
pub const TOAST_PLACEHOLDER: &str = "__debezium_unavailable_value";

/// How `io.debezium.data.VariableScaleDecimal` columns are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VariableScaleDecimalPolicy {
    /// Utf8 plain decimal text with the value's own scale (`"1.500"`): lossless for any value.
    #[default]
    Utf8,
    /// Decimal128(38, scale): values are rescaled exactly; more fractional digits than `scale`
    /// or more than 38 significant digits is an append error.
    Decimal128 {
        /// The fixed scale of the column.
        scale: i8,
    },
}

/// What ±infinity timestamps (Debezium's sentinels) become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InfinityPolicy {
    /// The column's latest / earliest representable instant (see the module docs).
    #[default]
    Clamp,
    /// Null (an error in a required column).
    Null,
    /// An append error.
    Error,
}

/// What the TOAST placeholder (`__debezium_unavailable_value`) becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ToastPolicy {
    /// Kept verbatim in Utf8 / Binary columns (lossless); an error in typed columns.
    #[default]
    Keep,
    /// Null in every column (an error in a required column).
    Null,
    /// An append error in every column.
    Error,
}

/// What ZonedTimestamp digits below the microsecond become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubMicrosPolicy {
    /// Truncated toward the past (floor to the microsecond).
    #[default]
    Truncate,
    /// An append error when a non-zero digit would be dropped.
    Error,
}

/// Per-topic conversion policy for Arrow batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrowOptions {
    /// VariableScaleDecimal column type.
    pub variable_scale_decimal: VariableScaleDecimalPolicy,
    /// ±infinity timestamp sentinels.
    pub infinity: InfinityPolicy,
    /// TOAST placeholder handling.
    pub toast: ToastPolicy,
    /// The placeholder text (Debezium's `unavailable.value.placeholder`).
    pub toast_placeholder: Arc<str>,
    /// Sub-microsecond ZonedTimestamp digits.
    pub sub_micros: SubMicrosPolicy,
}

impl Default for ArrowOptions {
    fn default() -> Self {
        Self {
            variable_scale_decimal: VariableScaleDecimalPolicy::default(),
            infinity: InfinityPolicy::default(),
            toast: ToastPolicy::default(),
            toast_placeholder: TOAST_PLACEHOLDER.into(),
            sub_micros: SubMicrosPolicy::default(),
        }
    }
}
