//! A program that stores and reads its own metrics with promlite-tsdb.
//!
//! It "works" for a few rounds (hashing some bytes), records after each round
//! how many bytes it hashed and how long the round took, then queries both
//! series back and prints them. Run it twice: the second run finds the first
//! run's samples, replayed from the WAL.
//!
//! ```text
//! cargo run -p promlite-tsdb --example embedded [data-dir]
//! ```

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use promlite_tsdb::{Db, Labels, Matcher, Options};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./embedded-data".to_string());
    let db = Db::open(&dir, Options::default())?;
    let bytes_total = Labels::from_pairs([("__name__", "work_bytes_total"), ("job", "embedded")])?;
    let round_seconds =
        Labels::from_pairs([("__name__", "work_round_seconds"), ("job", "embedded")])?;

    let mut hashed = 0u64;
    let mut state = 0xcbf2_9ce4_8422_2325u64;
    let mut refs = None;
    for round in 0..5u64 {
        let start = Instant::now();
        for i in 0..(1u64 << 20) {
            state = (state ^ (i ^ round)).wrapping_mul(0x0100_0000_01b3);
        }
        hashed += 1 << 20;
        // One appender per batch: both samples of the round are committed together.
        let mut app = db.appender();
        let t = now_ms() + round as i64; // distinct timestamps even within one millisecond
        let secs = start.elapsed().as_secs_f64();
        match refs {
            // Later rounds use the refs the first one got: no label hashing.
            Some((bytes_ref, secs_ref)) => {
                app.append_ref(bytes_ref, t, hashed as f64)?;
                app.append_ref(secs_ref, t, secs)?;
            }
            None => {
                let bytes_ref = app.append(&bytes_total, t, hashed as f64)?;
                let secs_ref = app.append(&round_seconds, t, secs)?;
                refs = Some((bytes_ref, secs_ref));
            }
        }
        app.commit()?;
    }

    let q = db.querier(0, i64::MAX)?;
    for series in q.select(&[Matcher::equal("job", "embedded")])? {
        println!("{}", series.labels());
        for (t, v) in series.iter() {
            println!("  {t} {v}");
        }
    }
    println!("label names: {:?}", q.label_names(&[])?);
    let stats = db.stats();
    println!("series in head: {} (checksum {state:x})", stats.num_series);
    db.close()?;
    Ok(())
}
