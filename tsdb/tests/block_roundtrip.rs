//! A block written from series reads back identically, after reopening too,
//! and a corrupt block is refused with a typed error.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::fs;
use std::path::Path;

use promlite_tsdb::chunkenc::XorIterator;
use promlite_tsdb::{
    open_blocks, write_block, Block, BlockError, BlockSeries, ChunkData, Labels, MatchOp, Matcher,
};

const H: i64 = 3600 * 1000;

/// 30 series, 15s apart over two hours, values derived from the series number.
fn series() -> Vec<(Labels, Vec<(i64, f64)>)> {
    (0..30)
        .map(|i| {
            let labels = Labels::from_pairs([
                (
                    "__name__",
                    if i % 3 == 0 {
                        "node_cpu_seconds_total"
                    } else {
                        "up"
                    },
                ),
                ("instance", &format!("host-{}", i % 5)),
                ("series", &format!("{i:02}")),
            ])
            .unwrap();
            let samples = (0..480)
                .map(|k| (k * 15_000 + i, (i * 1000 + k) as f64))
                .collect();
            (labels, samples)
        })
        .collect()
}

fn write(dir: &Path) -> promlite_tsdb::BlockMeta {
    // Reversed input order: the writer sorts.
    let input = series()
        .into_iter()
        .rev()
        .map(|(l, s)| (l, ChunkData::from_samples(&s)));
    write_block(dir, 0, 2 * H, input).unwrap()
}

fn samples(s: &BlockSeries) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    for c in &s.chunks {
        let mut it = XorIterator::new(c.bytes.data());
        while it.next() {
            out.push(it.at());
        }
        assert!(it.err().is_none());
    }
    out
}

#[test]
fn write_then_read_everything_back() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write(dir.path());
    assert_eq!(meta.stats.num_series, 30);
    assert_eq!(meta.stats.num_samples, 30 * 480);
    assert_eq!(meta.stats.num_chunks, 30 * 4);
    assert_eq!(meta.compaction.level, 1);
    assert_eq!(meta.compaction.sources, [meta.ulid]);
    assert_eq!(meta.chunk_encodings, [1]);

    let block = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
    assert_eq!(block.meta(), &meta);
    let all = block
        .select(
            &[Matcher::new(MatchOp::Regex, "series", ".+").unwrap()],
            0,
            2 * H,
        )
        .unwrap();
    let mut want = series();
    want.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(all.len(), want.len());
    for (got, (labels, s)) in all.iter().zip(&want) {
        assert_eq!(&got.labels, labels);
        assert_eq!(&samples(got), s);
    }
    assert!(block.size_bytes() > 0);
}

#[test]
fn select_by_matchers_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write(dir.path());
    let block = Block::open(&dir.path().join(meta.ulid.to_string())).unwrap();
    let cpu = [
        Matcher::equal("__name__", "node_cpu_seconds_total"),
        Matcher::equal("instance", "host-0"),
    ];
    let got = block.select(&cpu, 0, 2 * H).unwrap();
    let names: Vec<String> = got
        .iter()
        .map(|s| s.labels.get("series").unwrap().to_string())
        .collect();
    assert_eq!(names, ["00", "15"]);

    // Only chunks overlapping the range come back (chunks are 30 min long).
    let narrow = block.select(&cpu, 40 * 60_000, 50 * 60_000).unwrap();
    assert!(narrow
        .iter()
        .all(|s| s.chunks.len() == 1 && s.chunks[0].min_time <= 50 * 60_000));
    assert!(
        block.select(&cpu, 2 * H, 3 * H).unwrap().is_empty(),
        "max_time is exclusive"
    );
    assert!(block.select(&cpu, -H, -1).unwrap().is_empty());

    let names = block
        .label_names(&[Matcher::equal("instance", "host-1")])
        .unwrap();
    assert_eq!(
        names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ["__name__", "instance", "series"]
    );
    let values = block
        .label_values("__name__", &[Matcher::equal("series", "03")])
        .unwrap();
    assert_eq!(
        values.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ["node_cpu_seconds_total"]
    );
}

#[test]
fn reopen_cleans_leftovers_and_finds_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path());
    let b = write_block(
        dir.path(),
        2 * H,
        4 * H,
        [(
            Labels::from_pairs([("a", "b")]).unwrap(),
            ChunkData::from_samples(&[(3 * H, 1.0)]),
        )],
    )
    .unwrap();
    // An interrupted write and an interrupted deletion.
    fs::create_dir_all(
        dir.path()
            .join(format!("{}.tmp", promlite_tsdb::BlockId::new()))
            .join("chunks"),
    )
    .unwrap();
    fs::create_dir_all(
        dir.path()
            .join(format!("{}.deleted", promlite_tsdb::BlockId::new())),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("wal")).unwrap();
    let blocks = open_blocks(dir.path()).unwrap();
    let ids: Vec<_> = blocks.iter().map(|b| b.id()).collect();
    assert_eq!(ids, [a.ulid, b.ulid]);
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut want = vec![a.ulid.to_string(), b.ulid.to_string(), "wal".to_string()];
    want.sort();
    assert_eq!(left, want);
}

#[test]
fn chunks_outside_the_block_range_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let labels = Labels::from_pairs([("a", "b")]).unwrap();
    let err = write_block(
        dir.path(),
        0,
        H,
        [(labels, ChunkData::from_samples(&[(10, 1.0), (H, 2.0)]))],
    )
    .unwrap_err();
    assert!(matches!(err, BlockError::Invalid(_)), "{err}");
    assert_eq!(
        fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temp dir removed"
    );
}

#[test]
fn corrupt_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write(dir.path());
    let block_dir = dir.path().join(meta.ulid.to_string());

    let index = block_dir.join("index");
    let good = fs::read(&index).unwrap();
    let mut bad = good.clone();
    bad[good.len() / 2] ^= 0x40;
    fs::write(&index, &bad).unwrap();
    assert!(matches!(Block::open(&block_dir), Err(BlockError::Index(_))));
    fs::write(&index, &good[..good.len() - 10]).unwrap();
    assert!(matches!(Block::open(&block_dir), Err(BlockError::Index(_))));
    fs::write(&index, &good).unwrap();

    // A flipped chunk byte is caught when the chunk is read.
    let seg = block_dir.join("chunks").join("000001");
    let mut bytes = fs::read(&seg).unwrap();
    bytes[20] ^= 0x01;
    fs::write(&seg, &bytes).unwrap();
    let block = Block::open(&block_dir).unwrap();
    assert!(matches!(
        block.select(&[], 0, 2 * H),
        Err(BlockError::Chunks(_))
    ));

    fs::write(block_dir.join("meta.json"), b"{\"ulid\": 3}").unwrap();
    assert!(matches!(
        Block::open(&block_dir),
        Err(BlockError::BadMeta { .. })
    ));
}
