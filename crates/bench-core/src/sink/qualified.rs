//! A sink that writes every file under its node- (and shard-) qualified
//! name, so several machines can write one run to one directory or prefix
//! (`04_host_performance.node-a.json`, `01_cold_start.jump-1.shard-1-of-2.json`;
//! see [`crate::shard`]). The history rule of the wrapped sink then applies
//! per qualified name: node A's earlier result never moves node B's.

use serde_json::Value;

use super::{Sink, SinkError};
use crate::shard::{Shard, qualified_file_name};

/// Renames every write, then hands it to the wrapped sink.
pub struct QualifiedSink {
    inner: Box<dyn Sink>,
    node: String,
    shard: Option<Shard>,
}

impl QualifiedSink {
    /// Wraps `inner`: files are written as `<stem>.<node>[.shard-i-of-N].<ext>`.
    pub fn new(inner: Box<dyn Sink>, node: &str, shard: Option<Shard>) -> Self {
        QualifiedSink {
            inner,
            node: node.to_owned(),
            shard,
        }
    }

    /// The name `file_name` is written under.
    pub fn file_name(&self, file_name: &str) -> String {
        qualified_file_name(file_name, &self.node, self.shard)
    }
}

impl Sink for QualifiedSink {
    fn write_json(&self, file_name: &str, value: &Value) -> Result<String, SinkError> {
        self.inner.write_json(&self.file_name(file_name), value)
    }

    fn location(&self) -> String {
        self.inner.location()
    }

    fn replaces(&self) -> bool {
        self.inner.replaces()
    }
}
