//! Answers of the query API reduced to what both servers must agree on, and their
//! comparison: same success or error (`errorType`), same result type, same label
//! sets, same timestamps, values within [`REL_TOL`] relative (NaN equals NaN).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Relative tolerance on values.
pub const REL_TOL: f64 = 1e-6;

type Labels = BTreeMap<String, String>;

/// An HTTP API answer, reduced to what both servers must agree on.
#[derive(Debug)]
pub enum Answer {
    Error { error_type: String, message: String },
    Scalar(f64, f64),
    String(f64, String),
    Vector(Vec<(Labels, f64, f64)>),
    Matrix(Vec<(Labels, Vec<(f64, f64)>)>),
    Malformed(String),
}

fn number(v: &serde_json::Value) -> Option<f64> {
    match v.as_str()? {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        s => s.parse().ok(),
    }
}

fn point(p: &serde_json::Value) -> Option<(f64, f64)> {
    Some((p.get(0)?.as_f64()?, number(p.get(1)?)?))
}

fn labels(m: &serde_json::Value) -> Option<Labels> {
    m.as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

impl Answer {
    pub fn parse(text: &str) -> Answer {
        let Ok(body) = serde_json::from_str::<serde_json::Value>(text) else {
            return Answer::Malformed(text.chars().take(200).collect());
        };
        if body["status"] == "error" {
            return Answer::Error {
                error_type: body["errorType"].as_str().unwrap_or("").to_string(),
                message: body["error"].as_str().unwrap_or("").to_string(),
            };
        }
        let result = &body["data"]["result"];
        let parsed = match body["data"]["resultType"].as_str() {
            Some("scalar") => point(result).map(|(t, v)| Answer::Scalar(t, v)),
            Some("string") => (|| {
                Some(Answer::String(
                    result.get(0)?.as_f64()?,
                    result.get(1)?.as_str()?.to_string(),
                ))
            })(),
            Some("vector") => result.as_array().and_then(|a| {
                a.iter()
                    .map(|s| {
                        let (t, v) = point(&s["value"])?;
                        Some((labels(&s["metric"])?, t, v))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Answer::Vector)
            }),
            Some("matrix") => result.as_array().and_then(|a| {
                a.iter()
                    .map(|s| {
                        let points = s["values"]
                            .as_array()?
                            .iter()
                            .map(point)
                            .collect::<Option<Vec<_>>>()?;
                        Some((labels(&s["metric"])?, points))
                    })
                    .collect::<Option<Vec<_>>>()
                    .map(Answer::Matrix)
            }),
            _ => None,
        };
        parsed.unwrap_or_else(|| Answer::Malformed(text.chars().take(200).collect()))
    }

    pub fn has_data(&self) -> bool {
        match self {
            Answer::Scalar(..) | Answer::String(..) => true,
            Answer::Vector(v) => !v.is_empty(),
            Answer::Matrix(m) => !m.is_empty(),
            Answer::Error { .. } | Answer::Malformed(_) => false,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Answer::Error { .. } => "error",
            Answer::Scalar(..) => "scalar",
            Answer::String(..) => "string",
            Answer::Vector(_) => "vector",
            Answer::Matrix(_) => "matrix",
            Answer::Malformed(_) => "malformed",
        }
    }

    /// A one-line rendering, cut to a readable length.
    pub fn compact(&self) -> String {
        let mut s = String::new();
        match self {
            Answer::Error {
                error_type,
                message,
            } => {
                let _ = write!(s, "error {error_type}: {message}");
            }
            Answer::Scalar(t, v) => {
                let _ = write!(s, "scalar {v} @{t}");
            }
            Answer::String(t, v) => {
                let _ = write!(s, "string {v:?} @{t}");
            }
            Answer::Vector(v) => {
                let _ = write!(s, "vector({}) ", v.len());
                for (l, _, x) in v {
                    let _ = write!(s, "{}={x} ", render(l));
                }
            }
            Answer::Matrix(m) => {
                let _ = write!(s, "matrix({}) ", m.len());
                for (l, p) in m {
                    let _ = write!(s, "{}=[{} points: ", render(l), p.len());
                    for (t, v) in p.iter().take(3) {
                        let _ = write!(s, "{v}@{t} ");
                    }
                    s.push_str("…] ");
                }
            }
            Answer::Malformed(text) => {
                let _ = write!(s, "malformed: {text}");
            }
        }
        if s.chars().count() > 400 && std::env::var_os("PROMQL_DIFF_FILTER").is_none() {
            s = s.chars().take(400).collect::<String>() + "…";
        }
        s
    }
}

fn render(l: &Labels) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{{{}}}", inner.join(","))
}

// ---------------------------------------------------------------------------------
// Comparison.

/// Below this, two values count as equal whatever their ratio: sums that cancel to
/// zero leave residues of a few ulps of their terms (2.42's incremental
/// `avg_over_time` gives 4e-17 where a compensated sum gives 0).
const ABS_TOL: f64 = 1e-12;

fn same_value(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan())
        || a == b
        || (a - b).abs() <= REL_TOL * a.abs().max(b.abs())
        || (a - b).abs() <= ABS_TOL
}

fn same_points(want: &[(f64, f64)], got: &[(f64, f64)]) -> Option<String> {
    if want.len() != got.len() {
        let first_t = |a: &[(f64, f64)], b: &[(f64, f64)]| {
            a.iter()
                .find(|p| !b.iter().any(|q| q.0 == p.0))
                .map(|p| p.0)
        };
        return Some(format!(
            "{} points, want {} (first only in prometheus: {:?}, only in promlite: {:?})",
            got.len(),
            want.len(),
            first_t(want, got),
            first_t(got, want)
        ));
    }
    for (&(wt, wv), &(gt, gv)) in want.iter().zip(got) {
        if wt != gt {
            return Some(format!("point at {gt}, want {wt}"));
        }
        if !same_value(wv, gv) {
            return Some(format!("{gv} at {gt}, want {wv}"));
        }
    }
    None
}

/// Why `got` differs from `want`, or `None` when they agree.
pub fn compare(want: &Answer, got: &Answer, ordered: bool) -> Option<String> {
    match (want, got) {
        (Answer::Malformed(w), _) => Some(format!("prometheus answered malformed: {w}")),
        (Answer::Error { error_type: w, .. }, Answer::Error { error_type: g, .. }) => {
            (w != g).then(|| format!("errorType {g}, want {w}"))
        }
        (Answer::Scalar(wt, wv), Answer::Scalar(gt, gv)) => {
            same_points(&[(*wt, *wv)], &[(*gt, *gv)])
        }
        (Answer::String(wt, wv), Answer::String(gt, gv)) => {
            (wt != gt || wv != gv).then(|| format!("string {gv:?}@{gt}, want {wv:?}@{wt}"))
        }
        (Answer::Vector(w), Answer::Vector(g)) => compare_vectors(w, g, ordered),
        (Answer::Matrix(w), Answer::Matrix(g)) => {
            compare_by_labels(w, g, |s| &s.0, |ws, gs| same_points(&ws.1, &gs.1))
        }
        _ => Some(format!("{} answer, want {}", got.kind(), want.kind())),
    }
}

fn compare_vectors(
    want: &[(Labels, f64, f64)],
    got: &[(Labels, f64, f64)],
    ordered: bool,
) -> Option<String> {
    if ordered {
        // Ties may come in any order, so the order is checked on the values only.
        let wv = want.iter().map(|s| s.2);
        let gv: Vec<f64> = got.iter().map(|s| s.2).collect();
        if wv.len() == gv.len() && !wv.zip(&gv).all(|(a, b)| same_value(a, *b)) {
            return Some("values in a different order".into());
        }
    }
    compare_by_labels(
        want,
        got,
        |s| &s.0,
        |ws, gs| same_points(&[(ws.1, ws.2)], &[(gs.1, gs.2)]),
    )
}

/// Compares two answers' series regardless of order: first that both hold the
/// same label sets, then `differ` on each pair with equal labels; the first
/// difference found, prefixed with its series' labels.
fn compare_by_labels<'a, T>(
    want: &'a [T],
    got: &'a [T],
    labels: impl Fn(&'a T) -> &'a Labels,
    differ: impl Fn(&'a T, &'a T) -> Option<String>,
) -> Option<String> {
    let mut w: Vec<&T> = want.iter().collect();
    let mut g: Vec<&T> = got.iter().collect();
    w.sort_by(|a, b| labels(a).cmp(labels(b)));
    g.sort_by(|a, b| labels(a).cmp(labels(b)));
    compare_label_sets(w.iter().map(|s| labels(s)), g.iter().map(|s| labels(s))).or_else(|| {
        w.iter()
            .zip(&g)
            .find_map(|(ws, gs)| differ(ws, gs).map(|why| format!("{}: {why}", render(labels(ws)))))
    })
}

fn compare_label_sets<'a>(
    want: impl Iterator<Item = &'a Labels>,
    got: impl Iterator<Item = &'a Labels>,
) -> Option<String> {
    let w: Vec<&Labels> = want.collect();
    let g: Vec<&Labels> = got.collect();
    let missing: Vec<String> = w
        .iter()
        .filter(|l| !g.contains(l))
        .map(|l| render(l))
        .collect();
    let extra: Vec<String> = g
        .iter()
        .filter(|l| !w.contains(l))
        .map(|l| render(l))
        .collect();
    if missing.is_empty() && extra.is_empty() && w.len() == g.len() {
        return None;
    }
    let cut = |v: Vec<String>| v.into_iter().take(3).collect::<Vec<_>>().join(" ");
    Some(format!(
        "{} series, want {}; missing {}; extra {}",
        g.len(),
        w.len(),
        cut(missing),
        cut(extra)
    ))
}

#[test]
fn comparison_flags_differences_and_accepts_equal_answers() {
    let v = |x: f64| {
        Answer::parse(&format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"a":"1"}},"value":[1.5,"{x}"]}}]}}}}"#
        ))
    };
    assert_eq!(compare(&v(1.0), &v(1.0 + 1e-9), false), None);
    assert!(compare(&v(1.0), &v(1.001), false).is_some());
    assert_eq!(compare(&v(f64::NAN), &v(f64::NAN), false), None);
    assert!(compare(&v(f64::NAN), &v(0.0), false).is_some());
    let err = Answer::parse(r#"{"status":"error","errorType":"bad_data","error":"x"}"#);
    assert!(compare(&err, &v(1.0), false).is_some());
    assert_eq!(compare(&err, &err, false), None);
    let empty = Answer::parse(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#);
    assert!(compare(&v(1.0), &empty, false).is_some());
    let two = |a: f64, b: f64| {
        Answer::parse(&format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{"a":"1"}},"value":[1,"{a}"]}},{{"metric":{{"a":"2"}},"value":[1,"{b}"]}}]}}}}"#
        ))
    };
    assert!(compare(&two(1.0, 2.0), &two(2.0, 1.0), false).is_some());
    let swapped = Answer::parse(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"2"},"value":[1,"2"]},{"metric":{"a":"1"},"value":[1,"1"]}]}}"#,
    );
    assert_eq!(compare(&two(1.0, 2.0), &swapped, false), None);
    assert!(compare(&two(1.0, 2.0), &swapped, true).is_some());
}
