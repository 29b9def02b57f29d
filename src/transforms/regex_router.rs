//! `RegexRouter`: renames the topic when the whole topic matches `regex`, expanding
//! `replacement` as Java's `Matcher.replaceFirst` does (`$1`, `${name}`, `\$`).

use std::sync::Arc;

use regex::{Captures, Regex};

use crate::configdef::ParsedConfig;
use crate::data::SinkRecord;

use super::predicates::whole_match_regex;
use super::support::Side;
use super::{TransformError, Transformation};

/// One piece of a parsed replacement string.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Literal(String),
    Group(usize),
    Named(String),
}

pub(crate) struct RegexRouter {
    regex: Regex,
    replacement: Vec<Piece>,
    /// The last rename, so a partition's records share one `Arc<str>` topic.
    last: Option<(Arc<str>, Arc<str>)>,
}

pub(crate) fn build(cfg: &ParsedConfig, _: Side) -> Result<Box<dyn Transformation>, String> {
    let pattern = cfg.get_str("regex").map_err(|e| e.to_string())?;
    let replacement = cfg.get_str("replacement").map_err(|e| e.to_string())?;
    let regex = whole_match_regex(pattern)
        .map_err(|e| format!("Invalid value {pattern} for configuration regex: {e}"))?;
    let replacement = parse_replacement(replacement, &regex)
        .map_err(|e| format!("Invalid value {replacement} for configuration replacement: {e}"))?;
    Ok(Box::new(RegexRouter {
        regex,
        replacement,
        last: None,
    }))
}

/// Parses a Java replacement string against the regex's groups, so a bad group reference is
/// a configuration error rather than a failure of every record.
fn parse_replacement(text: &str, regex: &Regex) -> Result<Vec<Piece>, String> {
    // `captures_len` counts group 0.
    let group_count = regex.captures_len().saturating_sub(1);
    let mut out = Vec::new();
    let mut literal = String::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let c = chars
                    .get(i + 1)
                    .ok_or("character to be escaped is missing")?;
                literal.push(*c);
                i += 2;
            }
            '$' => {
                let next = chars
                    .get(i + 1)
                    .ok_or("Illegal group reference: group index is missing")?;
                if !literal.is_empty() {
                    out.push(Piece::Literal(std::mem::take(&mut literal)));
                }
                if *next == '{' {
                    let end = chars[i + 2..]
                        .iter()
                        .position(|c| *c == '}')
                        .ok_or("named capturing group is missing trailing '}'")?;
                    let name: String = chars[i + 2..i + 2 + end].iter().collect();
                    if name.is_empty() {
                        return Err("named capturing group has 0 length name".into());
                    }
                    if !regex.capture_names().flatten().any(|n| n == name) {
                        return Err(format!("No group with name {{{name}}}"));
                    }
                    out.push(Piece::Named(name));
                    i += 3 + end;
                } else {
                    let mut group = next.to_digit(10).ok_or("Illegal group reference")? as usize;
                    i += 2;
                    // Java takes more digits only while the number stays a valid group.
                    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                        let candidate = group * 10 + d as usize;
                        if candidate > group_count {
                            break;
                        }
                        group = candidate;
                        i += 1;
                    }
                    if group > group_count {
                        return Err(format!("No group {group}"));
                    }
                    out.push(Piece::Group(group));
                }
            }
            c => {
                literal.push(c);
                i += 1;
            }
        }
    }
    if !literal.is_empty() {
        out.push(Piece::Literal(literal));
    }
    Ok(out)
}

impl RegexRouter {
    fn expand(&self, caps: &Captures<'_>) -> String {
        let mut out = String::new();
        for piece in &self.replacement {
            match piece {
                Piece::Literal(s) => out.push_str(s),
                // An unmatched group expands to nothing, as in Java.
                Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
                Piece::Named(n) => out.push_str(caps.name(n).map_or("", |m| m.as_str())),
            }
        }
        out
    }
}

impl Transformation for RegexRouter {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        if let Some((from, to)) = &self.last {
            if Arc::ptr_eq(from, &record.topic) || **from == *record.topic {
                record.topic = to.clone();
                return Ok(Some(record));
            }
        }
        let Some(caps) = self.regex.captures(&record.topic) else {
            return Ok(Some(record));
        };
        let renamed: Arc<str> = Arc::from(self.expand(&caps));
        self.last = Some((record.topic.clone(), renamed.clone()));
        record.topic = renamed;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(regex: &str, replacement: &str) -> Result<RegexRouter, String> {
        let re = whole_match_regex(regex)?;
        let replacement = parse_replacement(replacement, &re)?;
        Ok(RegexRouter {
            regex: re,
            replacement,
            last: None,
        })
    }

    fn route(r: &mut RegexRouter, topic: &str) -> String {
        let rec = crate::transforms::tests::record(topic, None, None);
        r.apply(rec).unwrap().unwrap().topic.to_string()
    }

    #[test]
    fn whole_topic_must_match() {
        let mut r = router(r"pg\.public\.(.*)", "cdc_$1").unwrap();
        assert_eq!(route(&mut r, "pg.public.orders"), "cdc_orders");
        assert_eq!(route(&mut r, "pg.public.orders"), "cdc_orders");
        assert_eq!(route(&mut r, "pg.public.items"), "cdc_items");
        assert_eq!(route(&mut r, "xpg.public.orders"), "xpg.public.orders");
        let rec = crate::transforms::tests::record("pg.public.orders", None, None);
        let out = r.apply(rec).unwrap().unwrap();
        assert_eq!(
            &*out.original_topic, "pg.public.orders",
            "the Kafka topic is kept"
        );
        assert_eq!(out.topic_partition().topic.as_ref(), "pg.public.orders");
    }

    #[test]
    fn java_replacement_syntax() {
        let mut r = router(r"(a)(b)(?<rest>.*)", r"$2$1-${rest}-$10-\$1").unwrap();
        // `$10` is group 1 then "0": there is no group 10.
        assert_eq!(route(&mut r, "abxyz"), "ba-xyz-a0-$1");
        let mut r = router(r"(x)?(y)", "[$1]").unwrap();
        assert_eq!(route(&mut r, "y"), "[]");
        assert_eq!(router("(a)", "$2").err().unwrap(), "No group 2");
        assert_eq!(
            router("(a)", "${nope}").err().unwrap(),
            "No group with name {nope}"
        );
        assert_eq!(
            router("(a)", "x$").err().unwrap(),
            "Illegal group reference: group index is missing"
        );
        assert_eq!(
            router("(a)", "$x").err().unwrap(),
            "Illegal group reference"
        );
        assert!(router("(a", "x")
            .err()
            .unwrap()
            .starts_with("Invalid regex"));
    }
}
