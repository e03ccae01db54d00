//! `promlite bench compression`: bytes per sample and encode/decode speed of
//! every sample codec (`promlite_tsdb::chunkenc::codecs`) on real and
//! synthetic datasets, at Prometheus's chunk size (120 samples) and at
//! block-sized runs (each series' whole span, as a cold block stores it).
//!
//! Every run is decoded and compared bit for bit with its input; a mismatch
//! aborts the report. Speeds are single-threaded, repeated until
//! `--min-time-ms` has passed, and given twice: per wall-clock second and per
//! second of CPU time of the measuring thread (from
//! `/proc/thread-self/schedstat`, Linux), which is the per-core figure on a
//! busy machine. Index bytes are an estimate from the
//! Prometheus v2 index layout (symbols, series entries with chunk metas,
//! postings), since they depend on labels and chunk counts, not on the codec.

use crate::bench::dataset::{self, Series};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use promlite_tsdb::chunkenc::{codec_by_name, codecs, Codec, EncodedSize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Command-line arguments.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Datasets: `synthetic` (the Kubernetes-like generator), `nab` (the shared
    /// NAB folder, found via $PROMLITE_NAB or ../shared/datasets/nab), a folder
    /// of NAB-style CSVs, or a Prometheus query API JSON file. Repeatable.
    #[arg(long = "dataset", default_values_t = ["synthetic".to_string(), "nab".to_string()])]
    pub datasets: Vec<String>,
    /// Codecs to measure (comma-separated or repeated); default all.
    #[arg(long = "codec", value_delimiter = ',')]
    pub codecs: Vec<String>,
    /// Run lengths: `block` (whole series) and/or sample counts such as 120.
    #[arg(long = "run", value_delimiter = ',', default_values_t = ["120".to_string(), "block".to_string()])]
    pub runs: Vec<String>,
    /// Output: an aligned table or one JSON object per row.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Synthetic set: number of series.
    #[arg(long, default_value_t = 10_000)]
    pub series: usize,
    /// Synthetic set: hours of data per series.
    #[arg(long, default_value_t = 4.0)]
    pub hours: f64,
    /// Synthetic set: scrape interval in seconds.
    #[arg(long, default_value_t = 15)]
    pub interval_s: i64,
    /// Synthetic set: seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Repeat encode and decode passes until this much time has passed (ms).
    #[arg(long, default_value_t = 300)]
    pub min_time_ms: u64,
}

/// Output format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable table.
    Table,
    /// One JSON object per row.
    Json,
}

/// One measured row of the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// Dataset name.
    pub dataset: String,
    /// Samples per encoded run (`block` = whole series).
    pub run: String,
    /// Codec name.
    pub codec: String,
    /// Samples encoded.
    pub samples: u64,
    /// Encoded bytes (timestamps + values).
    pub bytes: u64,
    /// Bytes per sample, total.
    pub bytes_per_sample: f64,
    /// Bytes per sample for timestamps (and framing).
    pub ts_bytes_per_sample: f64,
    /// Bytes per sample for values.
    pub value_bytes_per_sample: f64,
    /// Estimated index bytes per sample for this run length (Prometheus v2
    /// layout, 4-byte postings).
    pub index_bytes_per_sample_est: f64,
    /// The same estimate with roaring-bitmap postings.
    pub index_bytes_per_sample_est_roaring: f64,
    /// Encoded size relative to Gorilla on the same data and run length.
    pub ratio_to_gorilla: Option<f64>,
    /// Encoding speed, samples per second (one thread).
    pub encode_samples_per_sec: f64,
    /// Decoding speed, samples per second (one thread).
    pub decode_samples_per_sec: f64,
    /// Encoding speed, samples per second of the thread's CPU time (Linux only).
    pub encode_samples_per_cpu_sec: Option<f64>,
    /// Decoding speed, samples per second of the thread's CPU time (Linux only).
    pub decode_samples_per_cpu_sec: Option<f64>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    let selected: Vec<Box<dyn Codec>> = if args.codecs.is_empty() {
        codecs()
    } else {
        args.codecs
            .iter()
            .map(|n| {
                codec_by_name(n).with_context(|| {
                    let all: Vec<_> = codecs().iter().map(|c| c.name()).collect();
                    format!("unknown codec {n:?} (known: {})", all.join(", "))
                })
            })
            .collect::<anyhow::Result<_>>()?
    };
    let runs = args
        .runs
        .iter()
        .map(|r| parse_run(r))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut rows = Vec::new();
    for name in &args.datasets {
        let (label, series) = load_dataset(name, &args)?;
        let columns = to_columns(series);
        for &run_len in &runs {
            let measured = measure_dataset(&label, &columns, run_len, &selected, &args)?;
            if args.format == Format::Table {
                print_table(&measured);
            }
            rows.extend(measured);
        }
    }
    if args.format == Format::Json {
        for row in &rows {
            println!("{}", serde_json::to_string(row)?);
        }
    }
    Ok(())
}

/// `None` = whole series; `Some(n)` = runs of n samples.
fn parse_run(s: &str) -> anyhow::Result<Option<usize>> {
    if s == "block" {
        return Ok(None);
    }
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => bail!("--run takes `block` or a positive sample count, not {s:?}"),
    }
}

fn load_dataset(name: &str, args: &Args) -> anyhow::Result<(String, Vec<Series>)> {
    match name {
        "synthetic" => {
            let duration_ms = (args.hours * 3_600_000.0) as i64;
            let interval_ms = args.interval_s.max(1) * 1000;
            let label = format!(
                "synthetic-k8s({} series, {}h, {}s)",
                args.series, args.hours, args.interval_s
            );
            Ok((
                label,
                dataset::kubernetes_like(args.series, duration_ms, interval_ms, args.seed),
            ))
        }
        "nab" => {
            let dir = nab_dir()
                .context("NAB not found: set PROMLITE_NAB or put it at ../shared/datasets/nab")?;
            Ok(("nab".to_string(), dataset::load_nab(&dir)?))
        }
        path => {
            let p = Path::new(path);
            let label = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.to_string());
            Ok((label, dataset::load(p)?))
        }
    }
}

/// `$PROMLITE_NAB`, else `../shared/datasets/nab` from the current directory
/// or from the workspace root.
fn nab_dir() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PROMLITE_NAB") {
        return Some(PathBuf::from(p));
    }
    [
        PathBuf::from("../shared/datasets/nab"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/nab"),
    ]
    .into_iter()
    .find(|p| p.is_dir())
}

/// A series as columns, with its labels.
struct Columns {
    labels: Vec<(String, String)>,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

fn to_columns(series: Vec<Series>) -> Vec<Columns> {
    series
        .into_iter()
        .filter(|(_, s)| !s.is_empty())
        .map(|(labels, samples)| {
            let (ts, vs) = samples.into_iter().unzip();
            Columns { labels, ts, vs }
        })
        .collect()
}

/// The runs a series is cut into.
fn runs_of(c: &Columns, run_len: Option<usize>) -> Vec<(&[i64], &[f64])> {
    match run_len {
        None => vec![(&c.ts[..], &c.vs[..])],
        Some(n) => c.ts.chunks(n).zip(c.vs.chunks(n)).collect(),
    }
}

fn measure_dataset(
    label: &str,
    columns: &[Columns],
    run_len: Option<usize>,
    codecs: &[Box<dyn Codec>],
    args: &Args,
) -> anyhow::Result<Vec<Row>> {
    let runs: Vec<(&[i64], &[f64])> = columns.iter().flat_map(|c| runs_of(c, run_len)).collect();
    let samples: u64 = runs.iter().map(|r| r.0.len() as u64).sum();
    let chunks_per_series: Vec<usize> = columns.iter().map(|c| runs_of(c, run_len).len()).collect();
    let per_sample = |b: u64| b as f64 / samples.max(1) as f64;
    let index = per_sample(estimate_index_bytes(
        columns,
        &chunks_per_series,
        PostingsLayout::Prometheus,
    ));
    let index_roaring = per_sample(estimate_index_bytes(
        columns,
        &chunks_per_series,
        PostingsLayout::Roaring,
    ));
    let run_name = run_len.map_or("block".to_string(), |n| n.to_string());

    let bar = ProgressBar::new(codecs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(format!("{label} run={run_name}"));
    let min_time = Duration::from_millis(args.min_time_ms);
    let mut rows = Vec::new();
    for codec in codecs {
        bar.set_message(codec.name());
        let m = measure_codec(codec.as_ref(), &runs, min_time)?;
        rows.push(Row {
            dataset: label.to_string(),
            run: run_name.clone(),
            codec: codec.name().to_string(),
            samples,
            bytes: m.size.total() as u64,
            bytes_per_sample: m.size.total() as f64 / samples.max(1) as f64,
            ts_bytes_per_sample: m.size.timestamps as f64 / samples.max(1) as f64,
            value_bytes_per_sample: m.size.values as f64 / samples.max(1) as f64,
            index_bytes_per_sample_est: index,
            index_bytes_per_sample_est_roaring: index_roaring,
            ratio_to_gorilla: None,
            encode_samples_per_sec: samples as f64 / m.encode.wall_secs,
            decode_samples_per_sec: samples as f64 / m.decode.wall_secs,
            encode_samples_per_cpu_sec: m.encode.cpu_secs.map(|s| samples as f64 / s),
            decode_samples_per_cpu_sec: m.decode.cpu_secs.map(|s| samples as f64 / s),
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let gorilla = rows
        .iter()
        .find(|r| r.codec == "gorilla")
        .map(|r| r.bytes as f64);
    for r in &mut rows {
        r.ratio_to_gorilla = gorilla.map(|g| r.bytes as f64 / g);
    }
    Ok(rows)
}

struct Measured {
    size: EncodedSize,
    encode: Timing,
    decode: Timing,
}

/// Seconds per pass: wall clock and CPU time of this thread.
struct Timing {
    wall_secs: f64,
    cpu_secs: Option<f64>,
}

/// A started measurement of wall and thread CPU time.
struct Clock {
    wall: Instant,
    cpu_ns: Option<u64>,
}

impl Clock {
    fn start() -> Self {
        Clock {
            wall: Instant::now(),
            cpu_ns: thread_cpu_ns(),
        }
    }

    fn per_pass(&self, passes: u32) -> Timing {
        let n = f64::from(passes.max(1));
        let cpu = match (self.cpu_ns, thread_cpu_ns()) {
            (Some(a), Some(b)) if b > a => Some((b - a) as f64 / 1e9 / n),
            _ => None,
        };
        Timing {
            wall_secs: self.wall.elapsed().as_secs_f64() / n,
            cpu_secs: cpu,
        }
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`), if known.
fn thread_cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

/// Encodes all runs (repeating to `min_time`), checks that they decode
/// bit-exact, then times decoding (repeating to `min_time`).
fn measure_codec(
    codec: &dyn Codec,
    runs: &[(&[i64], &[f64])],
    min_time: Duration,
) -> anyhow::Result<Measured> {
    let mut buf = Vec::new();
    let mut offsets = Vec::with_capacity(runs.len() + 1);
    let mut size = EncodedSize::default();
    let mut passes = 0u32;
    let clock = Clock::start();
    while passes == 0 || clock.wall.elapsed() < min_time {
        buf.clear();
        offsets.clear();
        size = EncodedSize::default();
        for (ts, vs) in runs {
            offsets.push(buf.len());
            let s = codec
                .encode(ts, vs, &mut buf)
                .with_context(|| format!("{} encode", codec.name()))?;
            size.timestamps += s.timestamps;
            size.values += s.values;
        }
        offsets.push(buf.len());
        passes += 1;
    }
    let encode = clock.per_pass(passes);

    let (mut dts, mut dvs) = (Vec::new(), Vec::new());
    for (i, (ts, vs)) in runs.iter().enumerate() {
        dts.clear();
        dvs.clear();
        codec
            .decode(encoded(&buf, &offsets, i), &mut dts, &mut dvs)
            .with_context(|| format!("{} decode", codec.name()))?;
        let same = dts == *ts
            && dvs.len() == vs.len()
            && dvs
                .iter()
                .zip(vs.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if !same {
            bail!("{} did not round-trip run {i} bit-exact", codec.name());
        }
    }
    let mut passes = 0u32;
    let clock = Clock::start();
    while passes == 0 || clock.wall.elapsed() < min_time {
        for i in 0..runs.len() {
            dts.clear();
            dvs.clear();
            codec.decode(encoded(&buf, &offsets, i), &mut dts, &mut dvs)?;
        }
        std::hint::black_box((&dts, &dvs));
        passes += 1;
    }
    let decode = clock.per_pass(passes);
    Ok(Measured {
        size,
        encode,
        decode,
    })
}

fn encoded<'a>(buf: &'a [u8], offsets: &[usize], i: usize) -> &'a [u8] {
    match (offsets.get(i), offsets.get(i + 1)) {
        (Some(&a), Some(&b)) => buf.get(a..b).unwrap_or(&[]),
        _ => &[],
    }
}

/// Bytes of a uvarint.
fn uvarint_len(x: u64) -> u64 {
    1 + u64::from(63 - (x | 1).leading_zeros()) / 7
}

/// How postings lists are stored, for the index estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PostingsLayout {
    /// Prometheus v2: 4 bytes per series reference.
    Prometheus,
    /// Serialized roaring bitmaps (what promlite's index keeps in memory).
    Roaring,
}

/// Index bytes in the Prometheus v2 index layout (`tsdb/docs/format/index.md`):
/// symbol table, one 16-byte-aligned series entry per series (label symbol
/// references and chunk metas), one postings list per label pair plus the
/// all-postings list, and the postings offset table. Series references are
/// positions in label order, as in a written block.
fn estimate_index_bytes(
    columns: &[Columns],
    chunks_per_series: &[usize],
    layout: PostingsLayout,
) -> u64 {
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by(|&a, &b| {
        columns
            .get(a)
            .map(|c| &c.labels)
            .cmp(&columns.get(b).map(|c| &c.labels))
    });
    let mut symbols = BTreeSet::new();
    let mut postings: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for (id, c) in order.iter().filter_map(|&i| columns.get(i)).enumerate() {
        for (k, v) in &c.labels {
            symbols.insert(k.as_str());
            symbols.insert(v.as_str());
            postings
                .entry((k.as_str(), v.as_str()))
                .or_default()
                .push(id as u32);
        }
    }
    let symbol_ids: BTreeMap<&str, u64> = symbols
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u64))
        .collect();
    let mut bytes = 8 + 4 + 4; // header, symbol table length and count
    bytes += symbols
        .iter()
        .map(|s| uvarint_len(s.len() as u64) + s.len() as u64)
        .sum::<u64>()
        + 4;
    for (c, &chunks) in columns.iter().zip(chunks_per_series) {
        let mut entry = uvarint_len(c.labels.len() as u64);
        for (k, v) in &c.labels {
            entry += uvarint_len(symbol_ids.get(k.as_str()).copied().unwrap_or(0));
            entry += uvarint_len(symbol_ids.get(v.as_str()).copied().unwrap_or(0));
        }
        // Chunk metas: first mint as varint (~6 bytes), then small deltas.
        entry += uvarint_len(chunks as u64) + if chunks > 0 { 6 + 3 + 4 } else { 0 };
        entry += chunks.saturating_sub(1) as u64 * (2 + 2 + 2);
        let len = uvarint_len(entry) + entry + 4;
        bytes += len.div_ceil(16) * 16;
    }
    let all: Vec<u32> = (0..columns.len() as u32).collect();
    let list = |ids: &[u32]| match layout {
        PostingsLayout::Prometheus => 4 + 4 + 4 * ids.len() as u64 + 4,
        PostingsLayout::Roaring => 4 + roaring_bytes(ids) + 4,
    };
    bytes += list(&all);
    for ((k, v), ids) in &postings {
        bytes += list(ids);
        bytes += 1
            + uvarint_len(k.len() as u64)
            + k.len() as u64
            + uvarint_len(v.len() as u64)
            + v.len() as u64
            + 5;
    }
    bytes + 52 // label indices table header and TOC
}

/// Serialized size of a roaring bitmap of sorted `ids` (the portable format):
/// cookie, then per 65536-id container a 4-byte key/cardinality, a 4-byte
/// offset, and the smallest of array (2 B/id), bitmap (8 KiB) and runs
/// (2 + 4 B/run).
fn roaring_bytes(ids: &[u32]) -> u64 {
    let mut bytes = 8;
    for container in ids.chunk_by(|a, b| a >> 16 == b >> 16) {
        let runs = 1 + container
            .windows(2)
            .filter(|w| w.first().map(|a| a + 1) != w.get(1).copied())
            .count() as u64;
        let data = (2 * container.len() as u64).min(8192).min(2 + 4 * runs);
        bytes += 8 + data;
    }
    bytes
}

fn print_table(rows: &[Row]) {
    let Some(first) = rows.first() else {
        return;
    };
    println!(
        "\n{}  run={}  samples={}  index≈{:.3} B/sample (est., Prometheus v2 layout), {:.3} with roaring postings",
        first.dataset,
        first.run,
        first.samples,
        first.index_bytes_per_sample_est,
        first.index_bytes_per_sample_est_roaring
    );
    println!(
        "{:<16} {:>10} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "codec",
        "bytes",
        "B/sample",
        "ts B/smp",
        "val B/smp",
        "vs gorilla",
        "enc M/s",
        "enc M/cpu",
        "dec M/s",
        "dec M/cpu"
    );
    let millions = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}", x / 1e6));
    for r in rows {
        println!(
            "{:<16} {:>10} {:>9.3} {:>9.3} {:>9.3} {:>10} {:>9} {:>9} {:>9} {:>9}",
            r.codec,
            r.bytes,
            r.bytes_per_sample,
            r.ts_bytes_per_sample,
            r.value_bytes_per_sample,
            r.ratio_to_gorilla
                .map_or("-".to_string(), |x| format!("{x:.3}")),
            millions(Some(r.encode_samples_per_sec)),
            millions(r.encode_samples_per_cpu_sec),
            millions(Some(r.decode_samples_per_sec)),
            millions(r.decode_samples_per_cpu_sec),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(format: Format) -> Args {
        Args {
            datasets: vec!["synthetic".into()],
            codecs: vec![],
            runs: vec!["120".into(), "block".into()],
            format,
            series: 62,
            hours: 0.5,
            interval_s: 15,
            seed: 3,
            min_time_ms: 0,
        }
    }

    #[test]
    fn measures_every_codec_and_relates_to_gorilla() {
        let series = dataset::kubernetes_like(62, 1_800_000, 15_000, 3);
        let columns = to_columns(series);
        let rows = measure_dataset("t", &columns, None, &codecs(), &args(Format::Json)).unwrap();
        assert_eq!(rows.len(), codecs().len());
        let gorilla = rows.iter().find(|r| r.codec == "gorilla").unwrap();
        assert_eq!(gorilla.ratio_to_gorilla, Some(1.0));
        let plain = rows.iter().find(|r| r.codec == "plain").unwrap();
        assert_eq!(plain.bytes_per_sample, 16.0);
        for r in &rows {
            assert!(
                (r.ts_bytes_per_sample + r.value_bytes_per_sample - r.bytes_per_sample).abs()
                    < 1e-9
            );
            assert!(r.index_bytes_per_sample_est > r.index_bytes_per_sample_est_roaring);
            assert!(r.index_bytes_per_sample_est_roaring > 0.0);
        }
    }

    #[test]
    fn roaring_size_follows_the_container_choice() {
        // One run of 1000 ids: cookie + container header + one run.
        assert_eq!(roaring_bytes(&(0..1000).collect::<Vec<_>>()), 8 + 8 + 6);
        // Sparse ids: arrays of 2 bytes each.
        assert_eq!(roaring_bytes(&[1, 5, 9]), 8 + 8 + 6);
        assert_eq!(
            roaring_bytes(&(0..100).map(|i| i * 3).collect::<Vec<_>>()),
            8 + 8 + 200
        );
        // Two containers.
        assert_eq!(roaring_bytes(&[1, 70_000]), 8 + 2 * (8 + 2));
    }

    #[test]
    fn run_lengths_and_unknown_codecs() {
        assert_eq!(parse_run("block").unwrap(), None);
        assert_eq!(parse_run("120").unwrap(), Some(120));
        assert!(parse_run("0").is_err());
        let mut a = args(Format::Table);
        a.codecs = vec!["nope".into()];
        assert!(run(a).is_err());
    }
}
