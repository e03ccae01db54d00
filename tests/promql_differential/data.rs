//! The data both servers receive: the synthetic Kubernetes-like set plus hand-made
//! edge series, and sending it in time order.

use promlite::bench::dataset::{self, Series, SYNTHETIC_START_MS};
use promlite::bench::peers::Peer;
use promlite::bench::write::{self, DataSet, Protocol, Workload, WorkloadArgs};

/// Scrape interval of all data, ms. Ranges, offsets, steps and subquery steps in the
/// queries are multiples of it, which keeps window edges off the samples.
pub const INTERVAL_MS: i64 = 15_000;
/// 20 synthetic pods of 32 series each.
const SERIES: usize = 640;
const DURATION_MS: i64 = 2 * 3_600_000;
const SEED: u64 = 42;
/// Prometheus rejects a sample more than half a block range (1 h) behind the newest
/// sample it holds, so data is sent in windows of this length, oldest first.
const SEND_WINDOW_MS: i64 = 20 * 60_000;
const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

fn sorted_labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    l.sort();
    l
}

/// The synthetic set plus the hand-made edge series.
pub fn build_data() -> Vec<Series> {
    let mut data = dataset::kubernetes_like(SERIES, DURATION_MS, INTERVAL_MS, SEED);
    let pods: Vec<(String, String)> = data
        .iter()
        .filter(|(l, _)| l.iter().any(|(k, v)| k == "__name__" && v == "up"))
        .map(|(l, _)| {
            let get = |name: &str| l.iter().find(|(k, _)| k == name).unwrap().1.clone();
            (get("namespace"), get("pod"))
        })
        .collect();
    data.extend(edge_series(&pods));
    data
}

/// Hand-made series for the cases the synthetic set lacks. All are scraped on their
/// own phase (7.321 s past the 15 s grid), 1 in 97 scrapes 11 ms late.
fn edge_series(pods: &[(String, String)]) -> Vec<Series> {
    const N: usize = (DURATION_MS / INTERVAL_MS) as usize;
    let t = |k: usize| {
        let late = if k % 97 == 13 { 11 } else { 0 };
        SYNTHETIC_START_MS + 7_321 + k as i64 * INTERVAL_MS + late
    };
    let stale = f64::from_bits(STALE_NAN);
    let mut out: Vec<Series> = Vec::new();
    let mut push = |labels: &[(&str, &str)], samples: Vec<(i64, f64)>| {
        out.push((sorted_labels(labels), samples));
    };

    // A counter that resets three times (twice in a row) and one that pauses for 12 min.
    let mut c = 100.0;
    let resets: Vec<(i64, f64)> = (0..N)
        .map(|k| {
            c = if [150, 300, 301, 410].contains(&k) {
                (k % 5) as f64
            } else {
                c + 2.5 + (k % 7) as f64 * 0.3
            };
            (t(k), c)
        })
        .collect();
    push(
        &[
            ("__name__", "edge_counter_total"),
            ("job", "edge"),
            ("case", "reset"),
        ],
        resets,
    );
    let gap: Vec<(i64, f64)> = (0..N)
        .filter(|k| !(200..248).contains(k))
        .map(|k| (t(k), 1.25 * k as f64))
        .collect();
    push(
        &[
            ("__name__", "edge_counter_total"),
            ("job", "edge"),
            ("case", "gap"),
        ],
        gap,
    );

    // Gauges: one goes stale and comes back, one goes stale for good, one carries NaN,
    // one ±Inf, one swings around zero through halves, one is scraped every 4 min.
    let wave = |k: usize| 10.0 + ((k % 13) as f64) * 0.7 + (k as f64 * 0.05).sin();
    let mut back = Vec::new();
    for k in 0..N {
        match k {
            240 => back.push((t(k), stale)),
            241..=259 => {}
            _ => back.push((t(k), wave(k))),
        }
    }
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "stale_back"),
        ],
        back,
    );
    let mut gone: Vec<(i64, f64)> = (0..400).map(|k| (t(k), wave(k) * 2.0)).collect();
    gone.push((t(400), stale));
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "stale_end"),
        ],
        gone,
    );
    let nan = (0..N)
        .map(|k| (t(k), if k % 11 == 5 { f64::NAN } else { wave(k) + 1.0 }))
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "nan")],
        nan,
    );
    let inf = (0..N)
        .map(|k| {
            let v = match k % 17 {
                3 => f64::INFINITY,
                9 => f64::NEG_INFINITY,
                _ => wave(k) + 2.0,
            };
            (t(k), v)
        })
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "inf")],
        inf,
    );
    let neg = (0..N)
        .map(|k| {
            (
                t(k),
                ((k % 40) as f64 - 20.0) * 0.25 + (k as f64 * 0.013).sin() * 0.01,
            )
        })
        .collect();
    push(
        &[("__name__", "edge_gauge"), ("job", "edge"), ("case", "neg")],
        neg,
    );
    let halves = (0..N)
        .map(|k| (t(k), ((k % 12) as f64 - 6.0) * 0.5))
        .collect();
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "halves"),
        ],
        halves,
    );
    let sparse = (0..N)
        .filter(|k| k % 16 == 0)
        .map(|k| (t(k), 3.0 + k as f64 * 0.01))
        .collect();
    push(
        &[
            ("__name__", "edge_gauge"),
            ("job", "edge"),
            ("case", "sparse"),
        ],
        sparse,
    );

    // A classic histogram whose 0.5 bucket sometimes lags the 0.25 bucket (Prometheus
    // fixes such non-monotonic buckets), and one without a +Inf bucket.
    let bounds = ["0.1", "0.25", "0.5", "1", "+Inf"];
    for (i, le) in bounds.iter().enumerate() {
        let samples = (0..N)
            .map(|k| {
                let mut v = (k * (i + 1) * 3 + k * k % 7) as f64;
                if i == 2 && k % 9 == 4 {
                    v = (k * 2 * 3 + k * k % 7) as f64 - 1.0;
                }
                (t(k), v)
            })
            .collect();
        push(
            &[
                ("__name__", "edge_hist_bucket"),
                ("job", "edge"),
                ("le", le),
            ],
            samples,
        );
    }
    for (i, le) in ["0.1", "1"].iter().enumerate() {
        let samples = (0..N).map(|k| (t(k), (k * (i + 2)) as f64)).collect();
        push(
            &[
                ("__name__", "edge_noinf_bucket"),
                ("job", "edge"),
                ("le", le),
            ],
            samples,
        );
    }

    // Join partners: one info series per pod, and one with label values to rewrite.
    for (i, (ns, pod)) in pods.iter().enumerate() {
        let node = format!("node-{}", i % 3);
        push(
            &[
                ("__name__", "edge_pod_info"),
                ("job", "edge"),
                ("namespace", ns),
                ("pod", pod),
                ("node", &node),
            ],
            (0..N).map(|k| (t(k), 1.0)).collect(),
        );
    }
    push(
        &[
            ("__name__", "edge_build_info"),
            ("job", "edge"),
            ("version", "v1.22.3-rc.1"),
            ("path", "/api/v1/query_range"),
        ],
        (0..N).map(|k| (t(k), 1.0)).collect(),
    );
    out
}

/// Sends everything to every peer, in windows of [`SEND_WINDOW_MS`], oldest first.
pub fn send_in_time_order(data: &[Series], peers: &[&Peer]) {
    let (first, last) = time_range(data);
    let args = WorkloadArgs {
        data: DataSet::Kubernetes,
        series: 0,
        duration: 0,
        interval: INTERVAL_MS,
        batch_size: 5_000,
        seed: 0,
        protocol: Protocol::V1,
    };
    let mut from = first;
    while from <= last {
        let to = from + SEND_WINDOW_MS;
        let window: Vec<Series> = data
            .iter()
            .map(|(l, s)| {
                let part = s
                    .iter()
                    .filter(|(t, _)| (from..to).contains(t))
                    .copied()
                    .collect();
                (l.clone(), part)
            })
            .filter(|(_, s): &Series| !s.is_empty())
            .collect();
        let workload = Workload::from_series(&window, &args, 1).unwrap();
        for peer in peers {
            let report = write::send(&peer.write_url(), &workload);
            assert_eq!(
                report.errors,
                0,
                "{} rejected data: {:?}",
                peer.kind.name(),
                report.error_examples
            );
        }
        from = to;
    }
}

pub fn time_range(data: &[Series]) -> (i64, i64) {
    let ts = data.iter().flat_map(|(_, s)| s.iter().map(|(t, _)| *t));
    (ts.clone().min().unwrap(), ts.max().unwrap())
}
