//! String → typed value conversion, following `ConfigDef.parseType`, and the
//! string forms Connect prints for typed values.

use serde_json::{Number, Value};

use super::types::ConfigType;

/// A parsed config value.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TypedValue {
    Bool(bool),
    /// INT, SHORT and LONG; the range was checked against the declared type.
    Int(i64),
    Double(f64),
    /// STRING and CLASS.
    Str(String),
    List(Vec<String>),
    Password(String),
}

impl TypedValue {
    /// JSON form handed to the JSON Schema validator.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            TypedValue::Bool(b) => Value::Bool(*b),
            TypedValue::Int(i) => Value::Number((*i).into()),
            // Non-finite doubles are rejected by `parse`, so from_f64 succeeds.
            TypedValue::Double(d) => Number::from_f64(*d).map_or(Value::Null, Value::Number),
            TypedValue::Str(s) | TypedValue::Password(s) => Value::String(s.clone()),
            TypedValue::List(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
        }
    }

    /// `ConfigDef.convertToString`, with PASSWORD as `Password.toString()`.
    pub(crate) fn to_connect_string(&self) -> String {
        match self {
            TypedValue::List(items) => items.join(","),
            other => other.to_java_display(),
        }
    }

    /// Java's `toString()` of the parsed value, as `ConfigException` prints it
    /// in "Invalid value V for configuration K".
    pub(crate) fn to_java_display(&self) -> String {
        match self {
            TypedValue::Bool(b) => b.to_string(),
            TypedValue::Int(i) => i.to_string(),
            TypedValue::Double(d) => java_double(*d),
            TypedValue::Str(s) => s.clone(),
            TypedValue::List(items) => format!("[{}]", items.join(", ")),
            TypedValue::Password(_) => "[hidden]".to_string(),
        }
    }
}

/// Parses a submitted string; the error is Java's full `ConfigException` message.
pub(crate) fn parse(key: &str, raw: &str, ty: ConfigType) -> Result<TypedValue, String> {
    let trimmed = java_trim(raw);
    let not_a_number = || invalid_value(key, raw, &format!("Not a number of type {ty}"));
    match ty {
        ConfigType::Boolean => {
            if trimmed.eq_ignore_ascii_case("true") {
                Ok(TypedValue::Bool(true))
            } else if trimmed.eq_ignore_ascii_case("false") {
                Ok(TypedValue::Bool(false))
            } else {
                Err(invalid_value(
                    key,
                    raw,
                    "Expected value to be either true or false",
                ))
            }
        }
        ConfigType::Int => trimmed
            .parse::<i32>()
            .map(|v| TypedValue::Int(v.into()))
            .map_err(|_| not_a_number()),
        ConfigType::Short => trimmed
            .parse::<i16>()
            .map(|v| TypedValue::Int(v.into()))
            .map_err(|_| not_a_number()),
        ConfigType::Long => trimmed
            .parse::<i64>()
            .map(TypedValue::Int)
            .map_err(|_| not_a_number()),
        ConfigType::Double => parse_java_double(trimmed)
            .map(TypedValue::Double)
            .ok_or_else(not_a_number),
        ConfigType::List => Ok(TypedValue::List(split_list(trimmed))),
        ConfigType::String | ConfigType::Class => Ok(TypedValue::Str(trimmed.to_string())),
        ConfigType::Password => Ok(TypedValue::Password(trimmed.to_string())),
    }
}

/// `ConfigException(name, value, message)`'s text.
pub(crate) fn invalid_value(key: &str, shown: &str, reason: &str) -> String {
    format!("Invalid value {shown} for configuration {key}: {reason}")
}

/// `String.trim()`: Java strips every char up to U+0020, not Unicode whitespace.
pub(crate) fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// LIST parsing: empty ⇒ empty list, else split on `\s*,\s*` keeping empty items.
pub(crate) fn split_list(trimmed: &str) -> Vec<String> {
    if trimmed.is_empty() {
        return Vec::new();
    }
    // Java's `\s` is exactly these six characters.
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r');
    trimmed
        .split(',')
        .map(|item| item.trim_matches(is_space).to_string())
        .collect()
}

/// `Double.parseDouble` for the forms people write; rejects NaN/Infinity
/// because JSON (and thus the schema validator) cannot carry them.
fn parse_java_double(s: &str) -> Option<f64> {
    let body = s
        .strip_suffix(['d', 'D', 'f', 'F'])
        .filter(|b| !b.is_empty())
        .unwrap_or(s);
    let lower = body.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    body.parse::<f64>().ok().filter(|d| d.is_finite())
}

/// `Double.toString`: plain notation in [1e-3, 1e7), otherwise `d.dddE±n`.
pub(crate) fn java_double(d: f64) -> String {
    let abs = d.abs();
    if abs == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = format!("{d}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{d:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// Renders a JSON scalar from a schema (enum option, limit, recommended value) as Connect shows it.
pub(crate) fn json_scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_are_case_insensitive_and_trimmed() {
        assert_eq!(
            parse("k", " TRUE ", ConfigType::Boolean),
            Ok(TypedValue::Bool(true))
        );
        assert_eq!(
            parse("k", "yes", ConfigType::Boolean),
            Err(
                "Invalid value yes for configuration k: Expected value to be either true or false"
                    .to_string()
            )
        );
    }

    #[test]
    fn integers_respect_their_width() {
        assert_eq!(parse("k", " 42 ", ConfigType::Int), Ok(TypedValue::Int(42)));
        assert_eq!(
            parse("k", "40000", ConfigType::Short),
            Err("Invalid value 40000 for configuration k: Not a number of type SHORT".to_string())
        );
        assert_eq!(
            parse("k", "3000000000", ConfigType::Int),
            Err(
                "Invalid value 3000000000 for configuration k: Not a number of type INT"
                    .to_string()
            )
        );
        assert_eq!(
            parse("k", "3000000000", ConfigType::Long),
            Ok(TypedValue::Int(3_000_000_000))
        );
        assert_eq!(
            parse("k", "1.5", ConfigType::Long),
            Err("Invalid value 1.5 for configuration k: Not a number of type LONG".to_string())
        );
    }

    #[test]
    fn doubles_parse_and_print_like_java() {
        assert_eq!(
            parse("k", "2.5d", ConfigType::Double),
            Ok(TypedValue::Double(2.5))
        );
        assert_eq!(
            parse("k", "abc", ConfigType::Double),
            Err("Invalid value abc for configuration k: Not a number of type DOUBLE".to_string())
        );
        assert_eq!(
            parse("k", "NaN", ConfigType::Double),
            Err("Invalid value NaN for configuration k: Not a number of type DOUBLE".to_string())
        );
        assert_eq!(java_double(1.0), "1.0");
        assert_eq!(java_double(0.5), "0.5");
        assert_eq!(java_double(1e7), "1.0E7");
        assert_eq!(java_double(1.5e-5), "1.5E-5");
    }

    #[test]
    fn lists_split_like_java() {
        assert_eq!(split_list(""), Vec::<String>::new());
        assert_eq!(split_list("a , b,,c"), vec!["a", "b", "", "c"]);
        let v = parse("k", "  a,  b ", ConfigType::List).unwrap();
        assert_eq!(v.to_connect_string(), "a,b");
        assert_eq!(v.to_java_display(), "[a, b]");
    }

    #[test]
    fn strings_and_passwords_are_trimmed_and_passwords_hidden() {
        assert_eq!(
            parse("k", "  x \t", ConfigType::String),
            Ok(TypedValue::Str("x".into()))
        );
        let p = parse("k", " secret ", ConfigType::Password).unwrap();
        assert_eq!(p, TypedValue::Password("secret".into()));
        assert_eq!(p.to_connect_string(), "[hidden]");
    }
}
