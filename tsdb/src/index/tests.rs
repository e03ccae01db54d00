//! Round trip and corruption tests of the block index file.

use std::fs;

use super::*;
use crate::chunks::ChunkRef;
use crate::labels::Labels;
use crate::matcher::{MatchOp, Matcher};

fn sample_series() -> Vec<(Labels, Vec<ChunkMeta>)> {
    let mut out = Vec::new();
    for i in 0..50u32 {
        let labels = Labels::from_pairs([
            (
                "__name__",
                if i % 2 == 0 {
                    "http_requests_total"
                } else {
                    "up"
                },
            ),
            ("instance", &format!("host-{:02}", i % 10)),
            ("job", if i < 25 { "api" } else { "db" }),
            ("series", &i.to_string()),
        ])
        .unwrap();
        let chunks = (0..(i % 4))
            .map(|c| ChunkMeta {
                min_time: i64::from(c) * 1000 - 500,
                max_time: i64::from(c) * 1000 + 400,
                chunk_ref: ChunkRef::new(1 + c / 2, 8 + i * 100 + c),
            })
            .collect();
        out.push((labels, chunks));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn written() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Vec<(Labels, Vec<ChunkMeta>)>,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let series = sample_series();
    let size = write_index(&path, &series).unwrap();
    assert_eq!(size, fs::metadata(&path).unwrap().len());
    (dir, path, series)
}

#[test]
fn round_trip_series_and_postings() {
    let (_dir, path, series) = written();
    let ix = IndexFile::open(&path).unwrap();
    assert_eq!(ix.num_series() as usize, series.len());
    let mut chunks = Vec::new();
    for (id, (labels, want)) in series.iter().enumerate() {
        assert_eq!(&ix.series(id as u32, &mut chunks).unwrap(), labels);
        assert_eq!(&chunks, want);
    }
    // Postings agree with the in-memory index built from the same series.
    let mem = MemPostings::new();
    for (id, (labels, _)) in series.iter().enumerate() {
        mem.add(id as u32, labels);
    }
    assert_eq!(ix.label_names().unwrap(), mem.label_names().unwrap());
    assert_eq!(
        ix.label_values("instance").unwrap(),
        mem.label_values("instance").unwrap()
    );
    let selectors = [
        vec![Matcher::equal("job", "api")],
        vec![
            Matcher::equal("__name__", "up"),
            Matcher::new(MatchOp::Regex, "instance", "host-0[1-3]").unwrap(),
        ],
        vec![
            Matcher::new(MatchOp::Regex, "instance", "host-0.*").unwrap(),
            Matcher::equal("job", "db"),
        ],
        vec![Matcher::new(MatchOp::NotEqual, "job", "api").unwrap()],
        vec![Matcher::equal("nope", "")],
    ];
    for ms in &selectors {
        assert_eq!(
            postings_for_matchers(&ix, ms).unwrap(),
            postings_for_matchers(&mem, ms).unwrap(),
            "{ms:?}"
        );
        assert_eq!(
            label_names_for(&ix, ms).unwrap(),
            label_names_for(&mem, ms).unwrap()
        );
        assert_eq!(
            label_values_for(&ix, "instance", ms).unwrap(),
            label_values_for(&mem, "instance", ms).unwrap()
        );
    }
    assert!(ix.series(ix.num_series(), &mut chunks).is_err());
}

#[test]
fn empty_index_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    write_index(&path, &[]).unwrap();
    let ix = IndexFile::open(&path).unwrap();
    assert_eq!(ix.num_series(), 0);
    assert!(ix.label_names().unwrap().is_empty());
    assert!(postings_for_matchers(&ix, &[Matcher::equal("a", "b")])
        .unwrap()
        .is_empty());
}

#[test]
fn writer_rejects_unsorted_or_duplicate_series() {
    let dir = tempfile::tempdir().unwrap();
    let mut series = sample_series();
    series.swap(0, 1);
    assert!(matches!(
        write_index(&dir.path().join("a"), &series),
        Err(IndexError::Invalid(_))
    ));
    let mut series = sample_series();
    series[1].0 = series[0].0.clone();
    assert!(matches!(
        write_index(&dir.path().join("b"), &series),
        Err(IndexError::Invalid(_))
    ));
}

#[test]
fn corruption_is_a_typed_error_never_a_panic() {
    let (_dir, path, _) = written();
    let good = fs::read(&path).unwrap();
    // Named corruptions first.
    let mut bad_magic = good.clone();
    bad_magic[0] ^= 0xff;
    let truncated = good[..good.len() - 3].to_vec();
    let mut bad_body = good.clone();
    bad_body[20] ^= 0x01;
    for (what, bytes) in [
        ("magic", bad_magic),
        ("truncated", truncated),
        ("body", bad_body),
        ("empty", vec![]),
    ] {
        fs::write(&path, &bytes).unwrap();
        match IndexFile::open(&path) {
            Err(IndexError::Corrupt { .. } | IndexError::Checksum { .. }) => {}
            Err(e) => panic!("{what}: unexpected error {e}"),
            Ok(_) => panic!("{what}: corrupt index opened"),
        }
    }
    // Every single-byte flip either fails to open or (if it hit nothing checked)
    // still answers every question without panicking.
    for i in (0..good.len()).step_by(7) {
        let mut bytes = good.clone();
        bytes[i] = bytes[i].wrapping_add(0x5a);
        fs::write(&path, &bytes).unwrap();
        if let Ok(ix) = IndexFile::open(&path) {
            let mut chunks = Vec::new();
            for id in 0..ix.num_series() {
                let _ = ix.series(id, &mut chunks);
            }
            let _ =
                postings_for_matchers(&ix, &[Matcher::new(MatchOp::Regex, "job", ".+").unwrap()]);
        }
    }
}
