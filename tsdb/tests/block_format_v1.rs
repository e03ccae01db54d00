//! A block written before index format version 2 and cold blocks (XOR
//! chunks, u64 series offsets, absolute chunk times) still opens and reads
//! the same samples. The fixture in `testdata/promlite-v1-block/` holds 3
//! series `fixture{i="0".."2"}` with 240 samples each: t = 1.7e12 + k·15 s,
//! v = k·(i+1)·0.5.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use std::path::{Path, PathBuf};

use promlite_tsdb::{Db, Matcher, Options};

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[test]
fn a_version_1_block_reads_back() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/promlite-v1-block");
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture, dir.path());
    let index = std::fs::read_dir(dir.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
        .join("index");
    assert_eq!(
        std::fs::read(index).unwrap()[4],
        1,
        "the fixture is format version 1"
    );

    let db = Db::open(dir.path(), Options::default()).unwrap();
    let q = db.querier(0, i64::MAX).unwrap();
    let series = q.select(&[Matcher::equal("__name__", "fixture")]).unwrap();
    assert_eq!(series.len(), 3);
    for (i, s) in series.iter().enumerate() {
        assert_eq!(s.labels().get("i"), Some(i.to_string().as_str()));
        let want: Vec<(i64, f64)> = (0..240)
            .map(|k| {
                (
                    1_700_000_000_000 + k * 15_000,
                    (k * (i as i64 + 1)) as f64 * 0.5,
                )
            })
            .collect();
        assert_eq!(s.iter().collect::<Vec<_>>(), want);
    }
}
