//! Blocks in the cold encoding: written from the head, by `write_block_with`
//! and by compaction, they read back bit-exact through every read path
//! (block select, querier iteration and seek, remote-read XOR chunks), next
//! to older XOR blocks in the same data directory.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::path::Path;

use promlite_tsdb::chunkenc::{Encoding, XorIterator};
use promlite_tsdb::{
    open_blocks, write_block, write_block_with, BlockEncoding, BlockMeta, ChunkData, Compactor, Db,
    Labels, Matcher, Options, Series,
};

const H: i64 = 3600 * 1000;
const STEP: i64 = 15_000;
const STALE: u64 = 0x7ff0_0000_0000_0002;
const NAN_PAYLOAD: u64 = 0x7ff8_0000_dead_beef;
const RETENTION: i64 = 30 * 24 * H;

fn labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "m"), ("i", i.to_string().as_str())]).unwrap()
}

/// Series `i`'s samples in `[mint, maxt)`: decimals, a late scrape now and
/// then, a stale marker, a NaN with a payload, -0.0 and infinities.
fn samples(i: usize, mint: i64, maxt: i64) -> Vec<(i64, f64)> {
    (mint / STEP..maxt / STEP)
        .map(|k| {
            let t = k * STEP + if k % 37 == 0 { 1 } else { 0 };
            let v = match k % 97 {
                5 => f64::from_bits(STALE),
                6 => f64::from_bits(NAN_PAYLOAD),
                7 => -0.0,
                8 => f64::INFINITY,
                _ => (k as f64) * 0.25 + i as f64,
            };
            (t, v)
        })
        .collect()
}

/// The `chunkEncodings` a block of this encoding lists.
fn encodings(e: BlockEncoding) -> Vec<u8> {
    match e {
        BlockEncoding::Cold => vec![Encoding::Cold.as_u8(), Encoding::ColdShared.as_u8()],
        _ => vec![Encoding::Xor.as_u8()],
    }
}

fn bits(s: &[(i64, f64)]) -> Vec<(i64, u64)> {
    s.iter().map(|(t, v)| (*t, v.to_bits())).collect()
}

fn write(dir: &Path, mint: i64, maxt: i64, encoding: BlockEncoding) -> BlockMeta {
    let series = (0..4).map(|i| (labels(i), ChunkData::from_samples(&samples(i, mint, maxt))));
    write_block_with(dir, mint, maxt, encoding, series).unwrap()
}

fn select(db: &Db, mint: i64, maxt: i64) -> Vec<Series> {
    db.querier(mint, maxt)
        .unwrap()
        .select(&[Matcher::equal("__name__", "m")])
        .unwrap()
}

#[test]
fn a_cold_block_reads_back_bit_exact() {
    let dir = tempfile::tempdir().unwrap();
    let meta = write(dir.path(), 0, 2 * H, BlockEncoding::Cold);
    assert_eq!(meta.chunk_encodings, encodings(BlockEncoding::Cold));
    assert_eq!(
        meta.stats.num_chunks, 4,
        "one run per series for 480 samples"
    );
    assert_eq!(meta.stats.num_samples, 4 * 480);
    let block = &open_blocks(dir.path()).unwrap()[0];
    let selected = block
        .select(&[Matcher::equal("__name__", "m")], 0, 2 * H)
        .unwrap();
    assert_eq!(selected.len(), 4);
    // The four series were scraped together: one timestamp chunk in the block.
    let shared: Vec<*const u8> = selected
        .iter()
        .map(|s| s.chunks[0].timestamps.as_ref().unwrap().data().as_ptr())
        .collect();
    assert!(
        shared.iter().all(|p| *p == shared[0]),
        "one shared timestamp chunk"
    );
    for (i, s) in selected.iter().enumerate() {
        let (mut ts, mut vs) = (Vec::new(), Vec::new());
        for c in &s.chunks {
            assert_eq!(c.bytes.encoding(), Encoding::ColdShared);
            c.decode_into(&mut ts, &mut vs).unwrap();
        }
        let got: Vec<(i64, f64)> = ts.into_iter().zip(vs).collect();
        assert_eq!(bits(&got), bits(&samples(i, 0, 2 * H)));
    }
    // The same through the querier, and a querier range cutting the run.
    let db = Db::open(dir.path(), Options::default()).unwrap();
    for (i, s) in select(&db, 0, 2 * H).iter().enumerate() {
        assert_eq!(
            bits(&s.iter().collect::<Vec<_>>()),
            bits(&samples(i, 0, 2 * H))
        );
    }
    let (lo, hi) = (H / 3, H + 7);
    for (i, s) in select(&db, lo, hi).iter().enumerate() {
        let want: Vec<_> = samples(i, 0, 2 * H)
            .into_iter()
            .filter(|(t, _)| *t >= lo && *t <= hi)
            .collect();
        let mut it = s.iter();
        assert_eq!(bits(&it.by_ref().collect::<Vec<_>>()), bits(&want));
        assert!(it.err().is_none());
    }
}

#[test]
fn seek_jumps_inside_a_cold_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 2 * H, BlockEncoding::Cold);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let series = select(&db, 0, 2 * H);
    let all = samples(0, 0, 2 * H);
    let mut it = series[0].iter();
    assert_eq!(it.next().map(|s| s.0), Some(all[0].0));
    // Targets between samples land on the next one; exact targets on themselves.
    for target in [10 * STEP + 5, 200 * STEP, H + 1, H + 2 * STEP] {
        let want = all.iter().find(|s| s.0 >= target).unwrap();
        let got = it.seek(target).unwrap();
        assert_eq!((got.0, got.1.to_bits()), (want.0, want.1.to_bits()));
    }
    assert_eq!(it.seek(2 * H), None);
}

#[test]
fn a_db_reads_old_xor_blocks_next_to_cold_ones() {
    let dir = tempfile::tempdir().unwrap();
    // An older block from before cold blocks, written with XOR chunks.
    let old = write(dir.path(), 0, 2 * H, BlockEncoding::Xor);
    assert_eq!(old.chunk_encodings, encodings(BlockEncoding::Xor));
    let new = write(dir.path(), 2 * H, 4 * H, BlockEncoding::Cold);
    assert_eq!(new.chunk_encodings, encodings(BlockEncoding::Cold));
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.blocks().len(), 2);
    for (i, s) in select(&db, 0, 4 * H).iter().enumerate() {
        assert_eq!(
            bits(&s.iter().collect::<Vec<_>>()),
            bits(&samples(i, 0, 4 * H))
        );
    }
    // New data cut from the head goes to a cold block, next to both.
    let mut app = db.appender();
    let fresh = (4 * H..8 * H).step_by(STEP as usize);
    for t in fresh.clone() {
        app.append(&labels(0), t, 1.5).unwrap();
    }
    app.commit().unwrap();
    assert!(db.compact().unwrap().head_blocks >= 1);
    let cut = db.blocks().into_iter().find(|b| b.meta().min_time == 4 * H);
    assert_eq!(
        cut.unwrap().meta().chunk_encodings,
        encodings(BlockEncoding::Cold)
    );
    let s0 = &select(&db, 0, 8 * H)[0];
    let mut want = samples(0, 0, 4 * H);
    want.extend(fresh.map(|t| (t, 1.5)));
    assert_eq!(bits(&s0.iter().collect::<Vec<_>>()), bits(&want));
}

#[test]
fn mixed_blocks_compact_into_one_encoding() {
    for encoding in [BlockEncoding::Cold, BlockEncoding::Xor] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 0, 2 * H, BlockEncoding::Xor);
        write(dir.path(), 2 * H, 4 * H, BlockEncoding::Cold);
        // Overlaps both: merged, the earlier block winning equal timestamps.
        let late: Vec<(i64, f64)> = (H..3 * H).step_by(60_000).map(|t| (t, 9.0)).collect();
        write_block(
            dir.path(),
            H,
            3 * H,
            [(labels(1), ChunkData::from_samples(&late))],
        )
        .unwrap();
        let mut blocks = open_blocks(dir.path()).unwrap();
        let merged = Compactor::new(2 * H, RETENTION)
            .with_encoding(encoding)
            .run(dir.path(), &mut blocks)
            .unwrap()
            .expect("overlap is due");
        assert_eq!(merged.chunk_encodings, encodings(encoding));
        assert_eq!((merged.min_time, merged.max_time), (0, 4 * H));
        let s = blocks[0]
            .select(&[Matcher::equal("__name__", "m")], 0, 4 * H)
            .unwrap();
        for (i, series) in s.iter().enumerate() {
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for c in &series.chunks {
                c.decode_into(&mut ts, &mut vs).unwrap();
            }
            // Blocks rank by start time: [0,2h) beats the late block, which
            // beats [2h,4h). Insert from lowest rank up, later inserts winning.
            let all = samples(i, 0, 4 * H);
            let mut want: std::collections::BTreeMap<i64, f64> =
                all.iter().copied().filter(|s| s.0 >= 2 * H).collect();
            if i == 1 {
                want.extend(late.iter().copied());
            }
            want.extend(all.iter().copied().filter(|s| s.0 < 2 * H));
            let want: Vec<_> = want.into_iter().collect();
            let got: Vec<_> = ts.into_iter().zip(vs).collect();
            assert_eq!(bits(&got), bits(&want), "{encoding:?} series {i}");
        }
        let count: u64 = (0..4).map(|i| samples(i, 0, 4 * H).len() as u64).sum();
        // Late samples collide with series 1's except where it scraped 1 ms late.
        let extra = late.iter().filter(|(t, _)| (t / STEP) % 37 == 0).count();
        assert_eq!(merged.stats.num_samples, count + extra as u64);
    }
}

#[test]
fn remote_read_gets_xor_chunks_from_a_cold_block() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 2 * H, BlockEncoding::Cold);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    let (lo, hi) = (H / 2, 2 * H);
    for (i, s) in select(&db, lo, hi).iter().enumerate() {
        let mut got = Vec::new();
        for c in s.chunks() {
            let mut it = XorIterator::new(&c.data);
            let start = got.len();
            while it.next() {
                got.push(it.at());
            }
            assert!(it.err().is_none());
            assert!(got.len() - start <= 120);
            assert_eq!(
                (c.min_time_ms, c.max_time_ms),
                (got[start].0, got.last().unwrap().0)
            );
        }
        let want: Vec<_> = samples(i, 0, 2 * H)
            .into_iter()
            .filter(|(t, _)| *t >= lo && *t <= hi)
            .collect();
        assert_eq!(bits(&got), bits(&want));
    }
}

#[test]
fn for_each_sample_streams_cold_runs_within_the_range() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 0, 2 * H, BlockEncoding::Cold);
    write(dir.path(), 2 * H, 4 * H, BlockEncoding::Cold);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    // Starts inside the first block's runs, ends inside the second's.
    let (lo, hi) = (H + 7, 3 * H + 1);
    for (i, s) in select(&db, lo, hi).iter().enumerate() {
        let mut got = Vec::new();
        let mut it = s.iter();
        it.for_each_sample(|t, v| got.push((t, v)));
        assert!(it.err().is_none());
        let want: Vec<_> = samples(i, 0, 4 * H)
            .into_iter()
            .filter(|(t, _)| *t >= lo && *t <= hi)
            .collect();
        assert_eq!(bits(&got), bits(&want));
    }
}
