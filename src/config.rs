//! The optional YAML configuration file (`promlite serve --config FILE`), shaped like
//! `prometheus.yml` where the concept is the same, and its merge with the flags.
//!
//! Precedence is flag > file > default, so a one-off `--retention 7d` beats the
//! file. Keys we do not know are ignored, so a real `prometheus.yml` (with its
//! `scrape_configs`, `rule_files`, ...) loads and only the parts promlite
//! understands take effect:
//!
//! ```yaml
//! global:
//!   label_limit: 64                 # most labels per series (remote-write)
//!   label_name_length_limit: 1024   # bytes
//!   label_value_length_limit: 4096  # bytes
//! storage:
//!   tsdb:
//!     retention: 30d                # like --storage.tsdb.retention.time
//!     wal_fsync: 100ms              # "always", or the background fsync interval
//! remote_write_receiver:
//!   max_request_bytes: 33554432     # compressed body, bytes
//!   max_decompressed_bytes: 33554432
//! ```

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("parsing config file {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// What serde_yaml reported.
        #[source]
        source: serde_yaml::Error,
    },
    /// A value is out of range or malformed.
    #[error("invalid {name}: {reason}")]
    Invalid {
        /// The flag or key.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// The configuration file as written; every field optional.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct FileConfig {
    /// `global:` (Prometheus's scrape-wide label limits apply to remote-write here).
    pub global: GlobalConfig,
    /// `storage:`.
    pub storage: StorageConfig,
    /// `remote_write_receiver:` (promlite's own section).
    pub remote_write_receiver: ReceiverConfig,
}

/// `global:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct GlobalConfig {
    /// Most labels per series; 0 or absent means the default.
    pub label_limit: Option<usize>,
    /// Longest label name, bytes.
    pub label_name_length_limit: Option<usize>,
    /// Longest label value, bytes.
    pub label_value_length_limit: Option<usize>,
}

/// `storage:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct StorageConfig {
    /// `storage.tsdb:`.
    pub tsdb: TsdbConfig,
}

/// `storage.tsdb:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TsdbConfig {
    /// Retention as a Prometheus duration (`30d`).
    pub retention: Option<String>,
    /// `always`, or a Prometheus duration for the background fsync interval.
    pub wal_fsync: Option<String>,
    /// Size-based retention (`512MB`, `10GB`; powers of 1024).
    pub retention_size: Option<String>,
    /// Out-of-order window as a Prometheus duration (Prometheus's
    /// `storage.tsdb.out_of_order_time_window`); absent or `0s` rejects out-of-order samples.
    pub out_of_order_time_window: Option<String>,
}

/// `remote_write_receiver:`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ReceiverConfig {
    /// Cap on a request body as sent (snappy-compressed), bytes.
    pub max_request_bytes: Option<usize>,
    /// Cap on a request body after decompression, bytes.
    pub max_decompressed_bytes: Option<usize>,
}

impl FileConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|source| ConfigError::Parse {
            path: path.display().to_string(),
            source,
        })
    }

    /// Parses config text; an empty document is the default configuration.
    pub fn parse(text: &str) -> Result<Self, serde_yaml::Error> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_yaml::from_str(text)
    }
}

/// When the WAL is fsynced, as the user wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncSetting {
    /// Every commit waits for an fsync (group commit).
    Always,
    /// A background fsync at this interval; commits wait only for the write.
    Interval(Duration),
}

impl FsyncSetting {
    /// Parses `always` or a Prometheus duration (`100ms`, `1s`).
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        if s.eq_ignore_ascii_case("always") {
            return Ok(FsyncSetting::Always);
        }
        let ms = parse_duration_ms("wal fsync", s)?;
        if ms <= 0 {
            return Err(ConfigError::Invalid {
                name: "wal fsync",
                reason: "the interval must be positive".into(),
            });
        }
        Ok(FsyncSetting::Interval(Duration::from_millis(
            ms.unsigned_abs(),
        )))
    }
}

impl Default for FsyncSetting {
    /// A 100 ms background fsync: survives kill -9, loses at most 100 ms on power loss.
    fn default() -> Self {
        FsyncSetting::Interval(Duration::from_millis(100))
    }
}

impl std::fmt::Display for FsyncSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FsyncSetting::Always => f.write_str("always"),
            FsyncSetting::Interval(d) => write!(f, "{}ms", d.as_millis()),
        }
    }
}

/// Parses a Prometheus duration (`30d`, `1h30m`, `100ms`) into milliseconds.
pub fn parse_duration_ms(name: &'static str, s: &str) -> Result<i64, ConfigError> {
    crate::http::params::parse_duration(s)
        .map(|ns| ns / 1_000_000)
        .map_err(|reason| ConfigError::Invalid { name, reason })
}

/// Parses a size such as `512MB`, `10GB` or `1024` (bytes) the way Prometheus's
/// `--storage.tsdb.retention.size` does: units B, KB, MB, GB, TB, PB, EB are powers
/// of 1024, and the number must be a whole number.
pub fn parse_size_bytes(s: &str) -> Result<u64, ConfigError> {
    let invalid = |reason: &str| ConfigError::Invalid {
        name: "retention size",
        reason: format!("{s:?}: {reason}"),
    };
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| invalid("expected a whole number followed by a unit"))?;
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "KB" | "KIB" => 10,
        "MB" | "MIB" => 20,
        "GB" | "GIB" => 30,
        "TB" | "TIB" => 40,
        "PB" | "PIB" => 50,
        "EB" | "EIB" => 60,
        _ => return Err(invalid("unknown unit (use B, KB, MB, GB, TB, PB or EB)")),
    };
    n.checked_mul(1u64 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| invalid("must be positive and below 16 EiB"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_powers_of_1024() {
        assert_eq!(parse_size_bytes("512MB").unwrap(), 512 << 20);
        assert_eq!(parse_size_bytes("10GB").unwrap(), 10 << 30);
        assert_eq!(parse_size_bytes("4096").unwrap(), 4096);
        assert_eq!(parse_size_bytes("1kb").unwrap(), 1024);
        for bad in ["", "MB", "1.5GB", "10XB", "0GB", "16EB", "-1GB"] {
            assert!(parse_size_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_a_prometheus_yml_and_ignores_unknown_keys() {
        let text = r#"
global:
  scrape_interval: 15s
  label_limit: 30
storage:
  tsdb:
    retention: 7d
    wal_fsync: always
scrape_configs:
  - job_name: node
    static_configs: [{targets: ["localhost:9100"]}]
remote_write_receiver:
  max_decompressed_bytes: 1048576
"#;
        let c = FileConfig::parse(text).unwrap();
        assert_eq!(c.global.label_limit, Some(30));
        assert_eq!(c.storage.tsdb.retention.as_deref(), Some("7d"));
        assert_eq!(c.storage.tsdb.wal_fsync.as_deref(), Some("always"));
        assert_eq!(
            c.remote_write_receiver.max_decompressed_bytes,
            Some(1 << 20)
        );
        assert_eq!(FileConfig::parse("").unwrap(), FileConfig::default());
        assert!(FileConfig::parse("global: [1, 2]").is_err());
    }

    #[test]
    fn fsync_settings() {
        assert_eq!(FsyncSetting::parse("always").unwrap(), FsyncSetting::Always);
        assert_eq!(
            FsyncSetting::parse("250ms").unwrap(),
            FsyncSetting::Interval(Duration::from_millis(250))
        );
        assert_eq!(FsyncSetting::parse("1s").unwrap().to_string(), "1000ms");
        assert!(FsyncSetting::parse("0s").is_err());
        assert!(FsyncSetting::parse("soon").is_err());
        assert_eq!(
            parse_duration_ms("retention", "30d").unwrap(),
            30 * 86_400_000
        );
    }
}
