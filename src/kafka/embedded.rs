//! The embedded try-it broker: librdkafka's in-process mock cluster. NOT for production: it keeps
//! everything in memory, lives and dies with the process, and implements only part of Kafka.

use rdkafka::error::KafkaResult;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

/// An in-process Kafka-protocol cluster on a local port.
pub struct EmbeddedBroker {
    cluster: MockCluster<'static, DefaultProducerContext>,
}

impl EmbeddedBroker {
    /// Starts a one-broker mock cluster.
    pub fn start() -> KafkaResult<Self> {
        Ok(Self {
            cluster: MockCluster::new(1)?,
        })
    }

    /// Its `bootstrap.servers` address.
    pub fn bootstrap_servers(&self) -> String {
        self.cluster.bootstrap_servers()
    }

    /// Creates a topic (the mock has no CreateTopics admin API).
    pub fn create_topic(&self, name: &str, partitions: i32) -> KafkaResult<()> {
        self.cluster.create_topic(name, partitions, 1)
    }
}
