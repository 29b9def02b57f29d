//! The `sluice` command line: `serve`, `demo`, `validate`, `version`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;

use sluice::connectors::Plugins;
use sluice::herder::validate::validate;
use sluice::kafka::embedded::EmbeddedBroker;
use sluice::logging::LogControl;
use sluice::store::TargetState;
use sluice::worker::{self, Worker, WorkerConfig, WorkerConfigError};

#[derive(Parser)]
#[command(
    name = "sluice",
    version,
    about = "Kafka Connect-compatible sink connector host"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Worker properties file (Kafka Connect worker property names).
    #[arg(value_name = "WORKER_PROPERTIES")]
    properties: Option<PathBuf>,
    /// Worker properties file (same as the positional argument).
    #[arg(short = 'c', long = "config", conflicts_with = "properties")]
    config: Option<PathBuf>,
    /// `bootstrap.servers`.
    #[arg(long)]
    bootstrap_servers: Option<String>,
    /// `listeners`, e.g. http://0.0.0.0:8083.
    #[arg(long)]
    listeners: Option<String>,
    /// `rest.port` (legacy; `listeners` wins).
    #[arg(long)]
    rest_port: Option<u16>,
    /// `state.dir`: connector configs and target states.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// `upstream.connect.url`: the Kafka Connect cluster that runs Debezium (proxied classes).
    #[arg(long)]
    upstream_connect_url: Option<String>,
    /// Any worker property as key=value (repeatable; highest precedence).
    #[arg(long = "override", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Also start an in-process Kafka-protocol broker (librdkafka's mock cluster) and use it.
    /// For trying Sluice out only: data lives in memory and dies with the process.
    #[arg(long)]
    embedded_broker: bool,
    /// Log format.
    #[arg(long, value_enum, default_value = "human", env = "SLUICE_LOG_FORMAT")]
    log_format: LogFormat,
    /// Root log level (Java names: ERROR, WARN, INFO, DEBUG, TRACE).
    #[arg(long, default_value = "INFO", env = "SLUICE_LOG_LEVEL")]
    log_level: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the worker: REST API on `listeners`, connectors from `state.dir`.
    Serve(ServeArgs),
    /// Try it with nothing installed: embedded broker, a demo topic fed with records, and a
    /// FileStream sink writing them to a file.
    Demo {
        /// REST port.
        #[arg(long, default_value_t = 8083)]
        rest_port: u16,
        /// State directory of the demo.
        #[arg(long, default_value = "./sluice-demo-data")]
        state_dir: PathBuf,
    },
    /// Validate a connector config file (`{"name", "config"}` or a plain config map) offline.
    Validate {
        /// The JSON file.
        file: PathBuf,
    },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("sluice {} (Kafka Connect REST API 3.9)", sluice::VERSION);
            ExitCode::SUCCESS
        }
        Command::Validate { file } => match validate_file(&file) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
        Command::Serve(args) => run(args, false),
        Command::Demo {
            rest_port,
            state_dir,
        } => run(
            ServeArgs {
                properties: None,
                config: None,
                bootstrap_servers: None,
                listeners: Some(format!("http://0.0.0.0:{rest_port}")),
                rest_port: None,
                state_dir: Some(state_dir),
                upstream_connect_url: None,
                overrides: vec!["offset.flush.interval.ms=5000".into()],
                embedded_broker: true,
                log_format: LogFormat::Human,
                log_level: "INFO".into(),
            },
            true,
        ),
    }
}

fn run(args: ServeArgs, demo: bool) -> ExitCode {
    let logs = Arc::new(LogControl::init(
        matches!(args.log_format, LogFormat::Json),
        &args.log_level,
    ));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(args, logs, demo)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<WorkerConfigError>().is_some() => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Flags become worker properties, so they follow the same validation as the file and env.
fn flag_overrides(args: &ServeArgs) -> Result<Vec<(String, String)>, WorkerConfigError> {
    let mut out = Vec::new();
    if let Some(b) = &args.bootstrap_servers {
        out.push(("bootstrap.servers".into(), b.clone()));
    }
    if let Some(l) = &args.listeners {
        out.push(("listeners".into(), l.clone()));
    }
    if let Some(p) = args.rest_port {
        out.push(("rest.port".into(), p.to_string()));
    }
    if let Some(d) = &args.state_dir {
        out.push(("state.dir".into(), d.display().to_string()));
    }
    if let Some(u) = &args.upstream_connect_url {
        out.push(("upstream.connect.url".into(), u.clone()));
    }
    out.extend(worker::config::parse_overrides(&args.overrides)?);
    Ok(out)
}

async fn serve(args: ServeArgs, logs: Arc<LogControl>, demo: bool) -> Result<()> {
    let mut overrides = flag_overrides(&args)?;
    let embedded = if args.embedded_broker {
        let broker = EmbeddedBroker::start().context("cannot start the embedded broker")?;
        let bootstrap = broker.bootstrap_servers();
        eprintln!(
            "\n  *** EMBEDDED BROKER: librdkafka's in-process mock cluster at {bootstrap}\n  *** For trying Sluice out only, NOT for production: data is in memory and dies with this process.\n"
        );
        overrides.push(("bootstrap.servers".into(), bootstrap));
        Some(broker)
    } else {
        None
    };
    let file = args.properties.as_deref().or(args.config.as_deref());
    let (config, warnings) = WorkerConfig::load(file, std::env::vars(), &overrides)?;
    for w in warnings {
        tracing::warn!("{w}");
    }
    let state_dir = config.state_dir.clone();
    let worker = Worker::bind(config, logs).await?;
    let addr = worker.local_addr();
    if demo {
        let broker = embedded
            .as_ref()
            .context("demo needs the embedded broker")?;
        start_demo(broker, &worker, &state_dir, addr.port()).await?;
    }
    worker.run(worker::shutdown_signal()).await?;
    drop(embedded);
    Ok(())
}

/// Sample CDC topics (Debezium-shaped shop events) the demo feeds.
const DEMO_CDC_PREFIX: &str = "shop";

/// Creates the demo topics, feeds them, and creates the demo connectors: a FileStream sink of a
/// plain JSON topic, and the CDC lakehouse (S3-Parquet sink) writing Parquet to a local directory.
async fn start_demo(
    broker: &EmbeddedBroker,
    worker: &Worker,
    state_dir: &std::path::Path,
    port: u16,
) -> Result<()> {
    const TOPIC: &str = "sluice-demo";
    broker
        .create_topic(TOPIC, 3)
        .context("cannot create the demo topic")?;
    for table in sluice::sample::Table::ALL {
        broker
            .create_topic(&format!("{DEMO_CDC_PREFIX}.public.{}", table.name()), 2)
            .context("cannot create the demo CDC topics")?;
    }
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", broker.bootstrap_servers())
        .create()
        .context("cannot create the demo producer")?;
    std::thread::spawn(move || feed_demo(producer));
    let out = state_dir.join("demo-sink.txt");
    let lake = state_dir.join("lake");
    let file_sink = config_of(&[
        ("connector.class", "FileStreamSink"),
        ("tasks.max", "1"),
        ("topics", TOPIC),
        ("file", &out.display().to_string()),
        (
            "value.converter",
            "org.apache.kafka.connect.json.JsonConverter",
        ),
        ("value.converter.schemas.enable", "false"),
        (
            "key.converter",
            "org.apache.kafka.connect.storage.StringConverter",
        ),
    ]);
    let lakehouse = demo_lakehouse_config(&lake)?;
    let herder = worker.herder().clone();
    tokio::spawn(async move {
        // Wait for stored connectors to load, so a re-run does not collide with them.
        while !herder.is_ready() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (name, config) in [
            ("demo-file-sink", file_sink),
            ("demo-cdc-lakehouse", lakehouse),
        ] {
            if herder.connector_info(name).is_err() {
                if let Err(e) = herder
                    .put_connector(name, config, false, Some(TargetState::Started))
                    .await
                {
                    tracing::error!("cannot create the demo connector {name}: {e}");
                }
            }
        }
    });
    eprintln!(
        "  Demo: topic '{TOPIC}' is being fed; connector 'demo-file-sink' writes it to {}\n  \
         Debezium-shaped change events of {DEMO_CDC_PREFIX}.public.{{users,products,orders,order_lines}} are being fed;\n  \
         connector 'demo-cdc-lakehouse' writes them as Parquet under {}/cdc_events/<table>/year=/month=/day=/\n  \
         Try:  curl -s 'http://localhost:{port}/connectors?expand=status'\n        \
         find {} -name '*.parquet' | head\n",
        out.display(),
        lake.display(),
        lake.display(),
    );
    Ok(())
}

/// A config map from pairs.
fn config_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The shipped CDC lakehouse example (`connectors/cdc-lakehouse-s3.json`) with the local
/// directory as the lake instead of MinIO, and quick rotations so files appear within seconds.
fn demo_lakehouse_config(lake: &std::path::Path) -> Result<BTreeMap<String, String>> {
    const EXAMPLE: &str = include_str!("../connectors/cdc-lakehouse-s3.json");
    let v: serde_json::Value =
        serde_json::from_str(EXAMPLE).context("the embedded CDC lakehouse example is not JSON")?;
    let map = sluice::rest::body::config_map(&v["config"], sluice::rest::body::Nulls::Reject)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut config = sluice::rest::body::strings(map);
    for key in [
        "s3.region",
        "s3.path.style.access.enabled",
        "aws.access.key.id",
        "aws.secret.access.key",
    ] {
        config.remove(key);
    }
    let lake = std::fs::canonicalize(lake.parent().unwrap_or(lake))
        .map(|p| p.join("lake"))
        .unwrap_or_else(|_| lake.to_path_buf());
    for (k, v) in [
        ("store.url", format!("file://{}", lake.display())),
        ("flush.size", "500".into()),
        ("rotate.interval.ms", "86400000".into()),
        ("rotate.idle.ms", "2000".into()),
        ("errors.deadletterqueue.topic.name", String::new()),
    ] {
        config.insert(k.into(), v);
    }
    Ok(config)
}

/// Feeds the demo topics: plain JSON records, and sample Debezium change events (a burst, then
/// a trickle), with `source.ts_ms` spread over the last days so the daily directories vary.
fn feed_demo(producer: ThreadedProducer<DefaultProducerContext>) {
    const TOPIC: &str = "sluice-demo";
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let mut cdc = sluice::sample::Generator::new(sluice::sample::Options {
        topic_prefix: DEMO_CDC_PREFIX.into(),
        start_ms: now - 3 * 86_400_000,
        step_ms: 60_000,
        ..Default::default()
    });
    for i in 0u64.. {
        let key = format!("user-{}", i % 10);
        let value = format!(
            r#"{{"id":{i},"user":"{key}","amount":{}.{:02},"ts":{now}}}"#,
            i * 7 % 100,
            i % 100,
        );
        let _ = producer.send(BaseRecord::to(TOPIC).key(&key).payload(&value));
        let burst = i < 1000;
        for event in cdc.by_ref().take(if burst { 5 } else { 1 }) {
            let record: BaseRecord<'_, str, str> =
                BaseRecord::to(&event.topic).key(event.key.as_str());
            let _ = match event.value.as_deref() {
                Some(v) => producer.send(record.payload(v)),
                None => producer.send(record),
            };
        }
        if i % 100 == 0 {
            let _ = producer.flush(Duration::from_secs(5));
        }
        std::thread::sleep(if burst {
            Duration::from_millis(1)
        } else {
            Duration::from_secs(1)
        });
    }
}

/// `sluice validate FILE`: prints every error; true when the config is valid.
fn validate_file(path: &std::path::Path) -> Result<bool> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let (name, config) = match (v.get("name"), v.get("config")) {
        (Some(serde_json::Value::String(n)), Some(c)) => (Some(n.clone()), c.clone()),
        _ => (None, v.clone()),
    };
    let map = sluice::rest::body::config_map(&config, sluice::rest::body::Nulls::Reject)
        .map_err(|e| anyhow::anyhow!(e.message))?;
    let mut config = sluice::rest::body::strings(map);
    if let Some(n) = name {
        config.entry("name".into()).or_insert(n);
    }
    let class = config.get("connector.class").cloned().unwrap_or_default();
    if sluice::connectors::debezium_proxy::rules::is_debezium(&class) {
        // Runs on the upstream Connect cluster: the rules Sluice applies before forwarding.
        let errors = sluice::connectors::debezium_proxy::rules::validate(&class, &config);
        return match sluice::connectors::debezium_proxy::rules::invalid_message(&errors) {
            None => {
                println!("{}: valid ({class}, proxied to the upstream Connect cluster; its connection check runs there)", path.display());
                Ok(true)
            }
            Some(msg) => {
                println!("{}: {msg}", path.display());
                Ok(false)
            }
        };
    }
    let (worker, _) = WorkerConfig::load(None, std::iter::empty(), &[])?;
    let infos = validate(&Plugins::builtin(), &worker, None, &config)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    match infos.invalid_config_message() {
        None => {
            println!("{}: valid ({})", path.display(), infos.name);
            Ok(true)
        }
        Some(msg) => {
            println!("{}: {msg}", path.display());
            Ok(false)
        }
    }
}
