//! Kafka client plumbing shared by the runtime and the herder: Java client properties →
//! librdkafka properties, consumer-group offset administration, the embedded test broker.

pub mod embedded;
pub mod group;
pub mod props;

pub use group::{GroupAdmin, GroupError};
pub use props::{client_config, ClientRole};
