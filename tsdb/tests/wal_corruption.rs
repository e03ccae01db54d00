//! WAL repair: a table of named corruptions of the segment files, and for each
//! the samples that must survive reopening. The rule under test: the log is cut
//! at the first bad frame, everything before it is kept, everything after it
//! (including later segments) is dropped, and the repaired WAL takes new commits.
//!
//! The fixture writes two runs: run 1 commits samples t = 0..10 s into segment
//! `00000000` (a series frame, then one samples frame per commit), run 2
//! commits t = 10..20 s into `00000001` (samples frames only). Frame layout per
//! `docs/format/wal.md`: `type u8 | len u32 LE | crc32c u32 LE | payload`.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::ops::Range;
use std::path::Path;

use promlite_tsdb::{Db, Labels, Options};

const HEADER: usize = 9;

fn series() -> Labels {
    Labels::from_pairs([("__name__", "wal_test"), ("job", "t")]).unwrap()
}

fn commit_run(dir: &Path, seconds: Range<i64>) {
    let db = Db::open(dir, Options::default()).unwrap();
    for s in seconds {
        let mut app = db.appender();
        app.append(&series(), s * 1000, s as f64).unwrap();
        app.commit().unwrap();
    }
    db.close().unwrap();
}

fn timestamps_after_reopen(dir: &Path) -> Vec<i64> {
    let db = Db::open(dir, Options::default()).unwrap();
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let out = q
        .select(&[])
        .unwrap()
        .iter()
        .flat_map(|s| s.iter().map(|(t, _)| t / 1000).collect::<Vec<_>>())
        .collect();
    db.close().unwrap();
    out
}

/// Byte ranges of the frames in a segment, parsed from the documented layout.
fn frames(bytes: &[u8]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + HEADER <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 1..at + 5].try_into().unwrap()) as usize;
        out.push(at..at + HEADER + len);
        at += HEADER + len;
    }
    out
}

type Corrupt = fn(&mut Vec<u8>, &[Range<usize>]);

struct Case {
    name: &'static str,
    segment: &'static str,
    corrupt: Corrupt,
    survivors: Range<i64>,
}

fn last(f: &[Range<usize>]) -> Range<usize> {
    f.last().unwrap().clone()
}

const CASES: &[Case] = &[
    Case {
        name: "torn tail: last frame cut inside its payload",
        segment: "00000001",
        corrupt: |b, f| b.truncate(last(f).end - 3),
        survivors: 0..19,
    },
    Case {
        name: "torn header: file ends inside the last frame's header",
        segment: "00000001",
        corrupt: |b, f| b.truncate(last(f).start + 4),
        survivors: 0..19,
    },
    Case {
        name: "bad checksum in the last frame",
        segment: "00000001",
        corrupt: |b, f| b[last(f).end - 1] ^= 0x01,
        survivors: 0..19,
    },
    Case {
        name: "bad checksum in a middle frame drops it and everything after",
        segment: "00000001",
        corrupt: |b, f| b[f[5].start + HEADER] ^= 0x80,
        survivors: 0..15,
    },
    Case {
        name: "bad length: last frame declares 4 GiB",
        segment: "00000001",
        corrupt: |b, f| {
            b[last(f).start + 1..last(f).start + 5].copy_from_slice(&u32::MAX.to_le_bytes())
        },
        survivors: 0..19,
    },
    Case {
        name: "bad length: a middle frame one byte longer",
        segment: "00000001",
        corrupt: |b, f| {
            let at = f[3].start + 1;
            let len = u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) + 1;
            b[at..at + 4].copy_from_slice(&len.to_le_bytes());
        },
        survivors: 0..13,
    },
    Case {
        name: "unknown record type",
        segment: "00000001",
        corrupt: |b, f| b[f[7].start] = 0x7f,
        survivors: 0..17,
    },
    Case {
        name: "garbage appended after the last frame",
        segment: "00000001",
        corrupt: |b, _| b.extend((0..100u8).map(|i| i.wrapping_mul(37).wrapping_add(11))),
        survivors: 0..20,
    },
    Case {
        name: "zero-filled tail (preallocated or torn page)",
        segment: "00000001",
        corrupt: |b, _| b.extend([0u8; 4096]),
        survivors: 0..20,
    },
    Case {
        name: "corruption in an earlier segment drops the later segment too",
        segment: "00000000",
        // Frame 0 is the series record; frame 1 + i holds sample i.
        corrupt: |b, f| b[f[1 + 4].end - 2] ^= 0xff,
        survivors: 0..4,
    },
    Case {
        name: "corrupt first frame (the series record) leaves nothing",
        segment: "00000000",
        corrupt: |b, f| b[f[0].start + HEADER + 1] ^= 0x55,
        survivors: 0..0,
    },
    Case {
        name: "segment truncated to zero bytes",
        segment: "00000001",
        corrupt: |b, _| b.clear(),
        survivors: 0..10,
    },
];

#[test]
fn each_named_corruption_keeps_exactly_the_records_before_it() {
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        commit_run(dir.path(), 0..10);
        commit_run(dir.path(), 10..20);
        let path = dir.path().join("wal").join(case.segment);
        let mut bytes = std::fs::read(&path).unwrap();
        let f = frames(&bytes);
        (case.corrupt)(&mut bytes, &f);
        std::fs::write(&path, &bytes).unwrap();

        let got = timestamps_after_reopen(dir.path());
        assert_eq!(
            got,
            case.survivors.clone().collect::<Vec<_>>(),
            "case: {}",
            case.name
        );

        // The repaired WAL takes new commits, and they survive the next reopen.
        commit_run(dir.path(), 100..101);
        let mut want: Vec<i64> = case.survivors.clone().collect();
        want.push(100);
        assert_eq!(
            timestamps_after_reopen(dir.path()),
            want,
            "after repair, case: {}",
            case.name
        );
    }
}
