//! Logging: `tracing` to stderr (human or JSON), with levels changeable at runtime through
//! `/admin/loggers` (Kafka Connect's logger API, Java level names).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

use crate::rest::entities::LoggerLevel;

/// Loggers listed by `GET /admin/loggers` even before anyone sets them.
const KNOWN: &[&str] = &[
    "sluice::worker",
    "sluice::rest",
    "sluice::herder",
    "sluice::runtime",
    "sluice::connectors",
    "sluice::kafka",
    "librdkafka",
];

struct Entry {
    level: String,
    last_modified: Option<i64>,
}

/// Runtime control of log levels.
pub struct LogControl {
    handle: Option<reload::Handle<EnvFilter, Registry>>,
    extra: String,
    levels: Mutex<BTreeMap<String, Entry>>,
}

/// Maps a Java level name to a tracing level directive.
fn directive(level: &str) -> Option<&'static str> {
    Some(match level {
        "OFF" => "off",
        "FATAL" | "ERROR" => "error",
        "WARN" => "warn",
        "INFO" => "info",
        "DEBUG" => "debug",
        "TRACE" | "ALL" => "trace",
        _ => return None,
    })
}

/// A logger name as a tracing target: `io.sluice.runtime` and `sluice.runtime` mean `sluice::runtime`.
fn target(name: &str) -> String {
    let n = name.strip_prefix("io.").unwrap_or(name);
    if n == "sluice" || n.starts_with("sluice.") {
        n.replace('.', "::")
    } else {
        name.to_string()
    }
}

/// `a::b::c` → `a::b`, `a.b.c` → `a.b`.
fn parent(name: &str) -> Option<&str> {
    name.rfind("::")
        .or_else(|| name.rfind('.'))
        .map(|i| &name[..i])
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl LogControl {
    /// Installs the global subscriber. `json` selects JSON lines. `RUST_LOG`, if set, adds
    /// directives on top of the root level.
    pub fn init(json: bool, root: &str) -> LogControl {
        let extra = std::env::var("RUST_LOG").unwrap_or_default();
        let ctl = LogControl::detached(root, extra);
        let (filter, handle) = reload::Layer::new(ctl.filter());
        let registry = tracing_subscriber::registry().with(filter);
        let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
        let _ = if json {
            registry.with(fmt.json()).try_init()
        } else {
            registry.with(fmt).try_init()
        };
        LogControl {
            handle: Some(handle),
            ..ctl
        }
    }

    /// Level bookkeeping without a subscriber (tests, or when one is already installed).
    pub fn detached(root: &str, extra: String) -> LogControl {
        let root = root.to_ascii_uppercase();
        let root = if directive(&root).is_some() {
            root
        } else {
            "INFO".into()
        };
        let mut levels = BTreeMap::new();
        levels.insert(
            "root".to_string(),
            Entry {
                level: root,
                last_modified: None,
            },
        );
        LogControl {
            handle: None,
            extra,
            levels: Mutex::new(levels),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.levels.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn filter_from(&self, levels: &BTreeMap<String, Entry>) -> EnvFilter {
        let root = levels
            .get("root")
            .and_then(|e| directive(&e.level))
            .unwrap_or("info");
        let mut parts = vec![root.to_string()];
        if !self.extra.is_empty() {
            parts.push(self.extra.clone());
        }
        for (name, e) in levels.iter().filter(|(n, _)| n.as_str() != "root") {
            if let Some(d) = directive(&e.level) {
                parts.push(format!("{}={d}", target(name)));
            }
        }
        EnvFilter::try_new(parts.join(",")).unwrap_or_else(|_| EnvFilter::new(root))
    }

    fn filter(&self) -> EnvFilter {
        self.filter_from(&self.lock())
    }

    fn effective(levels: &BTreeMap<String, Entry>, name: &str) -> LoggerLevel {
        // The nearest configured ancestor decides, as in log4j.
        let mut cur = Some(name);
        while let Some(n) = cur {
            if let Some(e) = levels.get(n) {
                return LoggerLevel {
                    level: e.level.clone(),
                    last_modified: if n == name { e.last_modified } else { None },
                };
            }
            cur = parent(n);
        }
        LoggerLevel {
            level: levels
                .get("root")
                .map_or_else(|| "INFO".into(), |e| e.level.clone()),
            last_modified: None,
        }
    }

    /// `GET /admin/loggers`: root, Sluice's own loggers and every logger set at runtime.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        let levels = self.lock();
        let mut names: Vec<String> = levels.keys().cloned().collect();
        names.extend(KNOWN.iter().map(|s| s.to_string()));
        names
            .into_iter()
            .map(|n| {
                let l = Self::effective(&levels, &n);
                (n, l)
            })
            .collect()
    }

    /// `GET /admin/loggers/{name}`; `None` for a logger Sluice does not know.
    pub fn get(&self, name: &str) -> Option<LoggerLevel> {
        let levels = self.lock();
        (levels.contains_key(name)
            || KNOWN.contains(&name)
            || KNOWN.contains(&target(name).as_str()))
        .then(|| Self::effective(&levels, name))
    }

    /// `PUT /admin/loggers/{name}`: sets the level now; returns the affected logger names.
    pub fn set(&self, name: &str, level: &str) -> Result<Vec<String>, String> {
        let upper = level.trim().to_ascii_uppercase();
        if directive(&upper).is_none() {
            return Err(format!("invalid log level '{level}'."));
        }
        let mut levels = self.lock();
        let now = Some(now_ms());
        let mut affected: Vec<String> = Vec::new();
        if name == "root" {
            // Setting root resets every logger to it, as Connect does.
            for e in levels.values_mut() {
                e.level = upper.clone();
                e.last_modified = now;
            }
            affected.extend(levels.keys().cloned());
            affected.extend(KNOWN.iter().map(|s| s.to_string()));
        } else {
            let prefix_dot = format!("{name}.");
            let prefix_colons = format!("{}::", target(name));
            for (n, e) in levels.iter_mut() {
                if n.starts_with(&prefix_dot) || target(n).starts_with(&prefix_colons) {
                    e.level = upper.clone();
                    e.last_modified = now;
                    affected.push(n.clone());
                }
            }
            levels.insert(
                name.to_string(),
                Entry {
                    level: upper.clone(),
                    last_modified: now,
                },
            );
            affected.push(name.to_string());
            affected.extend(
                KNOWN
                    .iter()
                    .filter(|k| k.starts_with(&prefix_colons))
                    .map(|s| s.to_string()),
            );
        }
        affected.sort();
        affected.dedup();
        if let Some(h) = &self.handle {
            let f = self.filter_from(&levels);
            if let Err(e) = h.reload(f) {
                return Err(format!("cannot apply log level: {e}"));
            }
        }
        Ok(affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_get_and_invalid_level() {
        let c = LogControl::detached("info", String::new());
        assert_eq!(c.get("root").unwrap().level, "INFO");
        assert!(c.get("no.such.logger").is_none());
        let affected = c.set("sluice", "debug").unwrap();
        assert!(affected.contains(&"sluice".to_string()));
        assert!(affected.contains(&"sluice::runtime".to_string()));
        assert_eq!(c.get("sluice::runtime").unwrap().level, "DEBUG");
        assert!(c.get("sluice").unwrap().last_modified.is_some());
        assert_eq!(c.set("root", "x").unwrap_err(), "invalid log level 'x'.");
        c.set("root", "WARN").unwrap();
        assert_eq!(c.get("sluice").unwrap().level, "WARN");
        assert!(c.all().contains_key("librdkafka"));
    }

    #[test]
    fn java_names_map_to_targets() {
        assert_eq!(target("io.sluice.runtime"), "sluice::runtime");
        assert_eq!(target("org.apache.kafka"), "org.apache.kafka");
    }
}
