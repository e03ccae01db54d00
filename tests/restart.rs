//! Acknowledged means durable: samples answered 204 survive SIGKILL and a
//! restart, and a graceful SIGTERM exits 0 with everything kept. Runs the built
//! binary on a port it picks, reads back through remote-read.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

mod harness;

use harness::{remote_read, write_v1, Promlite, SeriesSamples};
use promlite_remote_write::proto::read::MatcherType;
use promlite_remote_write::proto::{v1, Sample};

const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

type Stored = SeriesSamples;

/// Sends `batches` requests of `series` series × `samples` samples; returns what was acknowledged.
fn ingest(addr: &str, batches: usize, series: usize, samples: usize, offset_ms: i64) -> Stored {
    let mut acked = Stored::new();
    for b in 0..batches {
        let timeseries: Vec<v1::TimeSeries> = (0..series)
            .map(|s| {
                let samples: Vec<Sample> = (0..samples)
                    .map(|i| {
                        let t = offset_ms + ((b * samples + i) as i64) * 1000;
                        // Every 7th sample is a stale marker: it must come back bit-exact.
                        let value = if i % 7 == 6 {
                            f64::from_bits(STALE_NAN)
                        } else {
                            (s * 1000 + i) as f64 + 0.25
                        };
                        Sample {
                            value,
                            timestamp: t,
                        }
                    })
                    .collect();
                v1::TimeSeries {
                    labels: vec![
                        ("__name__", "restart_test").into(),
                        ("series", s.to_string().as_str()).into(),
                    ],
                    samples,
                    ..Default::default()
                }
            })
            .collect();
        write_v1(addr, timeseries.clone());
        for ts in timeseries {
            let key = format!(
                "{{__name__=\"restart_test\", series=\"{}\"}}",
                ts.labels[1].value
            );
            acked
                .entry(key)
                .or_default()
                .extend(ts.samples.iter().map(|s| (s.timestamp, s.value.to_bits())));
        }
    }
    acked
}

/// Everything stored for `restart_test`, through remote-read (`SAMPLES`).
fn read_back(addr: &str) -> Stored {
    remote_read(
        addr,
        &[(MatcherType::Eq, "__name__", "restart_test")],
        0,
        i64::MAX,
    )
}

fn merge(into: &mut Stored, more: Stored) {
    for (k, v) in more {
        into.entry(k).or_default().extend(v);
    }
}

#[test]
fn acknowledged_samples_survive_sigkill_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();

    let mut server = Promlite::start(dir.path(), &[]);
    let mut acked = ingest(&server.addr, 20, 50, 10, 1_700_000_000_000);
    server.process.kill(); // SIGKILL right after the last acknowledgement

    let mut server = Promlite::start(dir.path(), &[]);
    assert_eq!(read_back(&server.addr), acked, "after SIGKILL");

    // More data after the restart, then a graceful stop.
    merge(
        &mut acked,
        ingest(&server.addr, 5, 50, 10, 1_700_000_000_000 + 1_000_000),
    );
    server.process.signal("TERM");
    let status = server.process.wait_exit();
    assert!(
        status.success(),
        "SIGTERM exit: {status:?}\n{}",
        server.process.stderr()
    );
    assert!(
        server.process.stderr().contains("database closed"),
        "{}",
        server.process.stderr()
    );

    let server = Promlite::start(dir.path(), &["--wal.fsync", "always"]);
    assert_eq!(read_back(&server.addr), acked, "after SIGTERM");
}
