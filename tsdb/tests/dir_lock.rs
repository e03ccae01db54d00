//! One `Db` per data directory: a second open of a directory in use fails with
//! a typed error (the `flock` on `<dir>/lock`), and succeeds once the first
//! handle is closed or dropped.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a panic is a failed test"
)]

use promlite_tsdb::{Db, Error, Labels, Options};

#[test]
fn second_open_of_a_directory_in_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Options::default()).unwrap();
    match Db::open(dir.path(), Options::default()) {
        Err(Error::DirLocked { dir: locked }) => assert_eq!(locked, dir.path()),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a second Db opened a directory in use"),
    }
    // The refused open changed nothing: the first handle still works.
    let mut app = db.appender();
    app.append(&Labels::from_pairs([("__name__", "m")]).unwrap(), 1, 1.0)
        .unwrap();
    app.commit().unwrap();

    // Dropping the last clone releases the lock.
    let clone = db.clone();
    drop(db);
    assert!(matches!(
        Db::open(dir.path(), Options::default()),
        Err(Error::DirLocked { .. })
    ));
    drop(clone);
    let db = Db::open(dir.path(), Options::default()).unwrap();
    assert_eq!(db.querier(0, 10).unwrap().select(&[]).unwrap().len(), 1);

    // So does close, even while a clone is still alive.
    let clone = db.clone();
    db.close().unwrap();
    let reopened = Db::open(dir.path(), Options::default()).unwrap();
    drop(clone);
    reopened.close().unwrap();
}
