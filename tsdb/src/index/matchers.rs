//! Matcher evaluation over an [`IndexReader`]: selector → series refs.
//!
//! Follows Prometheus's `PostingsForMatchers` (tsdb/querier.go, v2.42–3.x):
//! matchers that reject `""` each contribute a positive set and are
//! intersected; matchers that accept `""` also select series lacking the
//! label, so they contribute the series to *remove* (those whose value the
//! matcher rejects). Without any positive set, the start is every series.
//! Common shapes skip the regex engine: `=` and literal alternations are direct
//! lookups, `prefix.*` scans only that prefix's values, `.*` costs nothing and
//! `.+` is "any value of the label". Positive matchers run first, cheapest
//! first, and an empty intersection stops the evaluation.

use roaring::{MultiOps, RoaringBitmap};

use super::{IndexError, IndexReader};
use crate::labels::Symbol;
use crate::matcher::{MatchOp, Matcher};

/// The series refs selected by all of `matchers` (a conjunction).
/// An empty matcher list selects every series.
pub fn postings_for_matchers<R: IndexReader + ?Sized>(
    ix: &R,
    matchers: &[Matcher],
) -> Result<RoaringBitmap, IndexError> {
    let mut ordered: Vec<&Matcher> = matchers.iter().filter(|m| !is_match_all(m)).collect();
    ordered.sort_by_key(|m| cost_rank(m));

    let mut selected: Option<RoaringBitmap> = None;
    let mut removed = RoaringBitmap::new();
    for m in ordered {
        if m.matches_empty() {
            // `l=""`, `l!="x"`, `l!~"x|y"`, `l=~"x|"`: keeps series without `l`;
            // drop those whose value of `l` the matcher rejects.
            removed |= rejected_values(ix, m)?;
        } else {
            let p = accepted_values(ix, m)?;
            let acc = match selected.take() {
                Some(mut acc) => {
                    acc &= &p;
                    acc
                }
                None => p,
            };
            if acc.is_empty() {
                return Ok(acc);
            }
            selected = Some(acc);
        }
    }
    let mut result = match selected {
        Some(s) => s,
        None => ix.all_postings()?,
    };
    result -= &removed;
    Ok(result)
}

/// Label names of the series selected by `matchers`, sorted; all names when
/// `matchers` is empty.
pub fn label_names_for<R: IndexReader + ?Sized>(
    ix: &R,
    matchers: &[Matcher],
) -> Result<Vec<Symbol>, IndexError> {
    if matchers.is_empty() {
        return ix.label_names();
    }
    let refs = postings_for_matchers(ix, matchers)?;
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    ix.label_names_intersecting(&refs)
}

/// Values of `name` among the series selected by `matchers`, sorted; all
/// values when `matchers` is empty.
pub fn label_values_for<R: IndexReader + ?Sized>(
    ix: &R,
    name: &str,
    matchers: &[Matcher],
) -> Result<Vec<Symbol>, IndexError> {
    if matchers.is_empty() {
        return ix.label_values(name);
    }
    let refs = postings_for_matchers(ix, matchers)?;
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    ix.label_values_intersecting(name, &refs)
}

/// `l=~".*"` accepts every series, with or without `l`: nothing to do.
/// It is what Grafana sends for an "All" template variable, hence common.
fn is_match_all(m: &Matcher) -> bool {
    m.op == MatchOp::Regex && m.value == ".*"
}

/// Evaluation order: direct lookups first so the intersection shrinks early
/// (and usually empties early), scans later, subtractions last.
fn cost_rank(m: &Matcher) -> u8 {
    match m.op {
        _ if m.matches_empty() => 3,
        MatchOp::Equal => 0,
        MatchOp::Regex if m.literal_values().is_some() => 1,
        _ => 2,
    }
}

fn all_values<R: IndexReader + ?Sized>(ix: &R, name: &str) -> Result<RoaringBitmap, IndexError> {
    ix.postings_matching(name, "", &mut |_| true)
}

fn union_of_literals<R: IndexReader + ?Sized>(
    ix: &R,
    name: &str,
    literals: &[String],
) -> Result<RoaringBitmap, IndexError> {
    let sets = literals
        .iter()
        .filter(|v| !v.is_empty())
        .map(|v| ix.postings(name, v))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sets.union())
}

/// Series whose value of `m.name` satisfies `m`, for a matcher that rejects `""`.
fn accepted_values<R: IndexReader + ?Sized>(
    ix: &R,
    m: &Matcher,
) -> Result<RoaringBitmap, IndexError> {
    match m.op {
        // l="v"
        MatchOp::Equal => ix.postings(&m.name, &m.value),
        // l!="" (the only `!=` that rejects ""): any value.
        MatchOp::NotEqual => all_values(ix, &m.name),
        // l=~".+": any value.
        MatchOp::Regex if m.value == ".+" => all_values(ix, &m.name),
        // l=~"a|b|c"
        MatchOp::Regex if m.literal_values().is_some() => {
            union_of_literals(ix, &m.name, m.literal_values().unwrap_or_default())
        }
        // l=~"abc.*": every value with the prefix matches.
        MatchOp::Regex if m.literal_prefix().is_some() => {
            ix.postings_matching(&m.name, m.literal_prefix().unwrap_or_default(), &mut |_| {
                true
            })
        }
        // l=~"re", l!~"re" rejecting "": test each value.
        MatchOp::Regex | MatchOp::NotRegex => {
            ix.postings_matching(&m.name, "", &mut |v| m.matches(v))
        }
    }
}

/// Series that carry `m.name` with a value `m` rejects, for a matcher that accepts `""`.
fn rejected_values<R: IndexReader + ?Sized>(
    ix: &R,
    m: &Matcher,
) -> Result<RoaringBitmap, IndexError> {
    match m.op {
        // l="": every series that has l.
        MatchOp::Equal => all_values(ix, &m.name),
        // l!="v"
        MatchOp::NotEqual => ix.postings(&m.name, &m.value),
        // l!~".+": every series that has l.
        MatchOp::NotRegex if m.value == ".+" => all_values(ix, &m.name),
        // l!~"a|b"
        MatchOp::NotRegex if m.literal_values().is_some() => {
            union_of_literals(ix, &m.name, m.literal_values().unwrap_or_default())
        }
        // l!~"abc.*"
        MatchOp::NotRegex if m.literal_prefix().is_some() => {
            ix.postings_matching(&m.name, m.literal_prefix().unwrap_or_default(), &mut |_| {
                true
            })
        }
        // l=~"a|" or l=~"re" accepting "", l!~"re": test each value.
        MatchOp::Regex | MatchOp::NotRegex => {
            ix.postings_matching(&m.name, "", &mut |v| !m.matches(v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::MemPostings;
    use crate::labels::Labels;

    /// Series 0..=5 with a small, irregular label layout.
    fn index() -> MemPostings {
        let p = MemPostings::new();
        let series: [&[(&str, &str)]; 6] = [
            &[("__name__", "up"), ("job", "api"), ("env", "prod")],
            &[("__name__", "up"), ("job", "api-canary")],
            &[("__name__", "up"), ("job", "db"), ("env", "dev")],
            &[("__name__", "down"), ("job", "api"), ("env", "prod")],
            &[("__name__", "down")],
            &[("__name__", "up"), ("job", "web"), ("env", "")],
        ];
        for (i, s) in series.iter().enumerate() {
            p.add(i as u32, &Labels::from_pairs(s.iter().copied()).unwrap());
        }
        p
    }

    fn sel(ms: &[(&str, MatchOp, &str)]) -> Vec<u32> {
        let ms: Vec<Matcher> = ms
            .iter()
            .map(|(n, op, v)| Matcher::new(*op, *n, *v).unwrap())
            .collect();
        postings_for_matchers(&index(), &ms)
            .unwrap()
            .iter()
            .collect()
    }

    /// The reference answer: test every series' labels directly.
    fn brute(ms: &[(&str, MatchOp, &str)]) -> Vec<u32> {
        let p = index();
        let ms: Vec<Matcher> = ms
            .iter()
            .map(|(n, op, v)| Matcher::new(*op, *n, *v).unwrap())
            .collect();
        p.all_postings()
            .unwrap()
            .iter()
            .filter(|&id| {
                ms.iter().all(|m| {
                    let value = p
                        .label_values(&m.name)
                        .unwrap()
                        .into_iter()
                        .find(|v| p.postings(&m.name, v).unwrap().contains(id));
                    m.matches(value.as_deref().unwrap_or(""))
                })
            })
            .collect()
    }

    use MatchOp::{Equal as Eq, NotEqual as Ne, NotRegex as Nre, Regex as Re};

    #[test]
    fn each_matcher_shape() {
        type Case<'a> = (&'a [(&'a str, MatchOp, &'a str)], &'a [u32]);
        let cases: &[Case] = &[
            (&[("__name__", Eq, "up")], &[0, 1, 2, 5]),
            (&[("__name__", Eq, "up"), ("job", Eq, "api")], &[0]),
            (&[("__name__", Eq, "nope")], &[]),
            (&[("job", Ne, "api")], &[1, 2, 4, 5]),
            (&[("job", Ne, "")], &[0, 1, 2, 3, 5]),
            (&[("job", Eq, "")], &[4]),
            (&[("env", Eq, "")], &[1, 4, 5]),
            (&[("job", Re, "api|db")], &[0, 2, 3]),
            (&[("job", Re, "api.*")], &[0, 1, 3]),
            (&[("job", Re, ".*")], &[0, 1, 2, 3, 4, 5]),
            (&[("job", Re, ".+")], &[0, 1, 2, 3, 5]),
            (&[("job", Re, "a.i|w.b")], &[0, 3, 5]),
            (&[("job", Re, "api|")], &[0, 3, 4]),
            (&[("job", Re, "d.*|")], &[2, 4]),
            (&[("job", Nre, "api|db")], &[1, 4, 5]),
            (&[("job", Nre, "api.*")], &[2, 4, 5]),
            (&[("job", Nre, ".+")], &[4]),
            (&[("job", Nre, ".*")], &[]),
            (&[("job", Nre, "")], &[0, 1, 2, 3, 5]),
            (&[("job", Nre, "a.*|")], &[2, 5]),
            (
                &[
                    ("__name__", Eq, "up"),
                    ("env", Ne, "prod"),
                    ("job", Re, "api.*"),
                ],
                &[1],
            ),
            (&[("missing", Eq, "")], &[0, 1, 2, 3, 4, 5]),
            (&[("missing", Re, ".+")], &[]),
            (&[], &[0, 1, 2, 3, 4, 5]),
        ];
        for (ms, want) in cases {
            assert_eq!(sel(ms), *want, "selector {ms:?}");
            assert_eq!(brute(ms), *want, "reference for {ms:?}");
        }
    }

    #[test]
    fn label_names_and_values_restricted_by_matchers() {
        let p = index();
        let down = [Matcher::equal("__name__", "down")];
        let names: Vec<String> = label_names_for(&p, &down)
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, ["__name__", "env", "job"]);
        let jobs: Vec<String> = label_values_for(&p, "job", &down)
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(jobs, ["api"]);
        let all: Vec<String> = label_values_for(&p, "job", &[])
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(all, ["api", "api-canary", "db", "web"]);
        assert!(label_values_for(&p, "job", &[Matcher::equal("job", "zzz")])
            .unwrap()
            .is_empty());
        assert!(label_names_for(&p, &[Matcher::equal("job", "zzz")])
            .unwrap()
            .is_empty());
    }
}
