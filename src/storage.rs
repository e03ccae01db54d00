//! The adapter between the PromQL engine and the database: implements
//! `promlite_promql::Storage` over a `promlite_tsdb::Db`, and turns PromQL
//! selectors (the HTTP API's `match[]`) into tsdb matchers.
//!
//! It owns only conversions. Label strings are reference-counted on both
//! sides, so a series' labels cross over by cloning pointers, never bytes; a
//! series' samples are streamed from the tsdb iterator into the engine's
//! buffer when the engine asks for that series, never collected up front.
//! It never evaluates PromQL and never reaches into tsdb internals.

use promlite_promql::{FPoint, Label as QLabel, Labels as QLabels, StorageError, StorageSeries};
use std::cell::Cell;

use promlite_tsdb::{Db, DecodeBuffers, MatchOp, Matcher, Samples};

thread_local! {
    /// Decode buffers reused by every series this thread reads: the engine
    /// reads thousands of short series per query, and allocating columns
    /// (and decoding a block's shared timestamps) per series would cost as
    /// much as the samples. The tsdb keeps them small between queries.
    static DECODE_BUFFERS: Cell<DecodeBuffers> = Cell::new(DecodeBuffers::default());
}

/// The engine's view of a [`Db`]: each `select` opens a querier over the
/// requested time range.
#[derive(Clone)]
pub struct TsdbStorage {
    db: Db,
}

impl TsdbStorage {
    /// Wraps a database handle.
    pub fn new(db: Db) -> Self {
        TsdbStorage { db }
    }
}

impl promlite_promql::Storage for TsdbStorage {
    fn select(
        &self,
        matchers: &[promlite_promql::Matcher],
        mint_ms: i64,
        maxt_ms: i64,
    ) -> Result<Vec<Box<dyn StorageSeries + '_>>, StorageError> {
        let matchers = matchers
            .iter()
            .map(|m| tsdb_matcher(to_tsdb_op(m.op), &m.name, &m.value))
            .collect::<Result<Vec<_>, _>>()
            .map_err(StorageError::new)?;
        let querier = self
            .db
            .querier(mint_ms, maxt_ms)
            .map_err(StorageError::new)?;
        let series = querier.select(&matchers).map_err(StorageError::new)?;
        Ok(to_storage_series(series))
    }
}

fn to_storage_series(series: Vec<promlite_tsdb::Series>) -> Vec<Box<dyn StorageSeries>> {
    series
        .into_iter()
        .map(|mut series| {
            let labels = to_promql_labels(series.take_labels());
            Box::new(TsdbSeries { labels, series }) as Box<dyn StorageSeries>
        })
        .collect()
}

/// One selected series; samples are decoded only in [`StorageSeries::read_floats`].
struct TsdbSeries {
    labels: QLabels,
    series: promlite_tsdb::Series,
}

impl StorageSeries for TsdbSeries {
    fn labels(&self) -> &QLabels {
        &self.labels
    }

    fn read_floats(&self, out: &mut Vec<FPoint>) -> Result<(), StorageError> {
        let mut it = self.series.iter_with(DECODE_BUFFERS.take());
        // The querier's iterator yields only samples within the range given
        // to `select` (the querier's range): no filtering here.
        it.for_each_batch(|batch| match batch {
            Samples::One(t, f) => out.push(FPoint { t, f }),
            // A block's run: one copy loop, no capacity check per sample.
            Samples::Run(ts, vs) => out.extend(ts.iter().zip(vs).map(|(&t, &f)| FPoint { t, f })),
        });
        let res = it
            .err()
            .cloned()
            .map_or(Ok(()), |e| Err(StorageError::new(e)));
        DECODE_BUFFERS.set(it.into_buffers());
        res
    }
}

/// tsdb labels → engine labels, moving the interned strings (one allocation,
/// no reference count touched: a select converts every series it returns).
fn to_promql_labels(labels: promlite_tsdb::Labels) -> QLabels {
    QLabels::from_sorted(
        labels
            .into_vec()
            .into_iter()
            .map(|l| QLabel {
                name: l.name,
                value: l.value,
            })
            .collect(),
    )
}

fn to_tsdb_op(op: promlite_promql::MatchOp) -> MatchOp {
    match op {
        promlite_promql::MatchOp::Equal => MatchOp::Equal,
        promlite_promql::MatchOp::NotEqual => MatchOp::NotEqual,
        promlite_promql::MatchOp::Regex => MatchOp::Regex,
        promlite_promql::MatchOp::NotRegex => MatchOp::NotRegex,
    }
}

fn tsdb_matcher(
    op: MatchOp,
    name: &str,
    value: &str,
) -> Result<Matcher, promlite_tsdb::MatcherError> {
    Matcher::new(op, name, value)
}

/// Parses one series selector (`up`, `{__name__=~"node_.*"}`,
/// `{"my.metric","a.b"="c"}`, `{a="1" or b="2"}`) into matcher sets whose
/// union it selects (several only with `or`). The metric name, when written
/// outside the braces, becomes a `__name__="…"` matcher. Errors are the
/// parser's message, for a `bad_data` answer.
pub fn parse_selector(selector: &str) -> Result<Vec<Vec<Matcher>>, String> {
    use promql_parser::label::MatchOp as P;
    use promql_parser::parser::Expr;

    let expr = promlite_promql::parse(selector).map_err(|e| e.to_string())?;
    let Expr::VectorSelector(vs) = expr else {
        return Err(format!(
            "invalid series selector {selector:?}: not a vector selector"
        ));
    };
    let name_matcher = vs
        .name
        .as_deref()
        .map(|n| Matcher::equal(promlite_tsdb::METRIC_NAME, n));
    let groups: Vec<&Vec<promql_parser::label::Matcher>> = if vs.matchers.or_matchers.is_empty() {
        vec![&vs.matchers.matchers]
    } else {
        vs.matchers.or_matchers.iter().collect()
    };
    groups
        .into_iter()
        .map(|group| {
            let mut set: Vec<Matcher> = name_matcher.iter().cloned().collect();
            for m in group {
                let op = match m.op {
                    P::Equal => MatchOp::Equal,
                    P::NotEqual => MatchOp::NotEqual,
                    P::Re(_) => MatchOp::Regex,
                    P::NotRe(_) => MatchOp::NotRegex,
                };
                set.push(tsdb_matcher(op, &m.name, &m.value).map_err(|e| e.to_string())?);
            }
            Ok(set)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn describe(sets: &[Vec<Matcher>]) -> Vec<Vec<String>> {
        sets.iter()
            .map(|s| {
                s.iter()
                    .map(|m| format!("{}{:?}{}", m.name, m.op, m.value))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn selectors_in_the_forms_grafana_sends() {
        let ok = |s: &str| describe(&parse_selector(s).unwrap_or_else(|e| panic!("{s}: {e}")));
        assert_eq!(ok("up"), [["__name__Equalup"]]);
        assert_eq!(ok(r#"up{job="a"}"#), [["__name__Equalup", "jobEquala"]]);
        assert_eq!(
            ok(r#"{__name__=~"(?i).*cpu"}"#),
            [["__name__Regex(?i).*cpu"]]
        );
        assert_eq!(ok(r#"{__name__!=""}"#), [["__name__NotEqual"]]);
        assert_eq!(
            ok(r#"{job='x',instance="y"}"#),
            [["jobEqualx", "instanceEqualy"]]
        );
        assert_eq!(
            ok(r#"{"my.metric","a.b"="c"}"#),
            [["__name__Equalmy.metric", "a.bEqualc"]]
        );
        assert_eq!(ok(r#"{a="1" or b="2"}"#), [["aEqual1"], ["bEqual2"]]);
    }

    /// The adapter's series are the tsdb's, in its order, labels moved over.
    #[test]
    fn selects_keep_the_tsdb_order_labels_and_samples() {
        use promlite_promql::Storage as _;
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(dir.path(), promlite_tsdb::Options::default()).unwrap();
        let n = 2_149;
        let mut app = db.appender();
        for i in 0..n {
            let l = promlite_tsdb::Labels::from_pairs([("__name__", "up"), ("i", &i.to_string())])
                .unwrap();
            app.append(&l, 1_000, i as f64).unwrap();
            app.append(&l, 2_000, -(i as f64)).unwrap();
        }
        app.commit().unwrap();
        let storage = TsdbStorage::new(db.clone());
        let m = [
            promlite_promql::Matcher::new(promlite_promql::MatchOp::Equal, "__name__", "up")
                .unwrap(),
        ];
        let got = storage.select(&m, 0, 10_000).unwrap();
        let want = db
            .querier(0, 10_000)
            .unwrap()
            .select(&[Matcher::equal("__name__", "up")])
            .unwrap();
        assert_eq!(got.len(), n);
        assert_eq!(want.len(), n);
        let mut buf = Vec::new();
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.labels().to_string(), w.labels().to_string());
            buf.clear();
            g.read_floats(&mut buf).unwrap();
            let samples: Vec<(i64, f64)> = buf.iter().map(|p| (p.t, p.f)).collect();
            assert_eq!(samples, w.iter().collect::<Vec<_>>());
        }
    }

    #[test]
    fn non_selectors_are_refused() {
        for bad in ["sum(up)", "up[5m]", "{", "1+1", ""] {
            assert!(parse_selector(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
