//! Helpers shared by the end-to-end benchmarks: environment knobs, ports, `/proc` readings,
//! topic creation, and running the `sluice` binary.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::ClientConfig;

pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// CPU seconds (user + system) a process has used, from /proc.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is parenthesised and may contain spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // utime and stime are fields 14 and 15 of the file: 12th and 13th after the name and state.
    let ticks = f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0);
    ticks / 100.0
}

/// Peak and current RSS of a process in MiB, from /proc.
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0)
}

/// Creates the topic on a real broker.
pub fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    let admin: AdminClient<rdkafka::client::DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .expect("admin client");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let new = NewTopic::new(topic, partitions, TopicReplication::Fixed(1));
    rt.block_on(admin.create_topics([&new], &AdminOptions::new()))
        .expect("create topic")
        .into_iter()
        .for_each(|r| {
            r.expect("topic created");
        });
}

/// Starts `sluice serve` against `bootstrap` with a fresh state directory; waits for `/health`.
pub fn spawn_sluice(
    bin: &str,
    bootstrap: &str,
    state: &std::path::Path,
    extra: &[&str],
) -> (Child, String) {
    let port = free_port();
    let mut args = vec![
        "serve".to_string(),
        "--bootstrap-servers".into(),
        bootstrap.into(),
        "--listeners".into(),
        format!("http://127.0.0.1:{port}"),
        "--state-dir".into(),
        state.display().to_string(),
        "--override".into(),
        "offset.flush.interval.ms=1000".into(),
        "--log-level".into(),
        "WARN".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let child = Command::new(bin)
        .args(&args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sluice");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let wait_start = Instant::now();
    while client
        .get(format!("{base}/health"))
        .send()
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            wait_start.elapsed() < Duration::from_secs(30),
            "sluice did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, base)
}

/// When a connector's records were first consumed, all consumed, and all committed, and the
/// highest RSS sampled meanwhile.
pub struct Progress {
    pub first: Instant,
    pub all_consumed: Instant,
    pub committed: Instant,
    pub peak_rss_sampled: f64,
}

/// Polls `GET .../tasks/{t}/offsets` of every task until `records` offsets are committed.
/// Panics on timeout or when `child` exits.
pub fn wait_committed(
    base: &str,
    name: &str,
    tasks: usize,
    records: usize,
    child: &mut Child,
    timeout: Duration,
) -> Progress {
    let client = reqwest::blocking::Client::new();
    let pid = child.id();
    let totals = || -> (i64, i64) {
        let (mut c, mut k) = (0, 0);
        for t in 0..tasks {
            let v: serde_json::Value = client
                .get(format!("{base}/connectors/{name}/tasks/{t}/offsets"))
                .send()
                .and_then(|r| r.json())
                .unwrap_or(serde_json::Value::Null);
            for p in v["partitions"].as_array().cloned().unwrap_or_default() {
                c += p["consumed"].as_i64().unwrap_or(0);
                k += p["committed"].as_i64().unwrap_or(0);
            }
        }
        (c, k)
    };
    let deadline = Instant::now() + timeout;
    let (mut first, mut all_consumed) = (None, None);
    let mut peak = 0.0f64;
    loop {
        let (c, k) = totals();
        peak = peak.max(rss_mib(pid).1);
        if c > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if c >= records as i64 && all_consumed.is_none() {
            all_consumed = Some(Instant::now());
        }
        if k >= records as i64 {
            break;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("sluice exited with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "timed out at consumed={c} committed={k}"
        );
        // Coarse polling: the REST calls themselves cost Sluice CPU.
        std::thread::sleep(Duration::from_millis(100));
    }
    let committed = Instant::now();
    Progress {
        first: first.unwrap_or(committed),
        all_consumed: all_consumed.unwrap_or(committed),
        committed,
        peak_rss_sampled: peak,
    }
}
