//! The native-histogram value notation of test scripts, `{{schema:0 sum:5
//! count:4 buckets:[1 2 1]}}`, parsed into a plain description.
//!
//! The engine has no native histograms yet, so this module only parses the
//! notation (so that scripts using it load and compare deterministically) and
//! expands `{{a}}+{{b}}xN` series; storing or comparing histogram samples is a
//! later issue. Fields default to 0 and may come in any order, as upstream.

use super::lexer::parse_number;

/// Counter-reset hint of a histogram sample, as written in the notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetHint {
    /// `counter_reset_hint:unknown`.
    Unknown,
    /// `counter_reset_hint:reset`.
    Reset,
    /// `counter_reset_hint:not_reset`.
    NotReset,
    /// `counter_reset_hint:gauge`.
    Gauge,
}

/// One native histogram sample as a script describes it. Buckets are absolute
/// counts; `offset` is the index of the first listed positive bucket.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HistogramDesc {
    /// Bucket schema (-4..8 exponential, -53 custom buckets).
    pub schema: i64,
    /// Sum of observations.
    pub sum: f64,
    /// Count of observations.
    pub count: f64,
    /// Zero-bucket count.
    pub zero_count: f64,
    /// Zero-bucket threshold.
    pub zero_threshold: f64,
    /// Positive bucket counts starting at index `offset`.
    pub buckets: Vec<f64>,
    /// Index of the first positive bucket.
    pub offset: i64,
    /// Negative bucket counts starting at index `n_offset`.
    pub n_buckets: Vec<f64>,
    /// Index of the first negative bucket.
    pub n_offset: i64,
    /// Upper bounds for custom-bucket histograms (`+Inf` implied).
    pub custom_values: Vec<f64>,
    /// The counter-reset hint, if the script states one.
    pub reset_hint: Option<ResetHint>,
}

/// Parses the text between `{{` and `}}`.
pub(crate) fn parse_histogram(inner: &str) -> Result<HistogramDesc, String> {
    let mut h = HistogramDesc::default();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let colon = rest
            .find(':')
            .ok_or_else(|| format!("histogram field without ':' in {inner:?}"))?;
        let key = rest[..colon].trim();
        rest = rest[colon + 1..].trim_start();
        let value;
        if rest.starts_with('[') {
            let close = rest
                .find(']')
                .ok_or_else(|| format!("unclosed '[' in histogram {inner:?}"))?;
            value = &rest[..=close];
            rest = rest[close + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = &rest[..end];
            rest = rest[end..].trim_start();
        }
        set_field(&mut h, key, value)?;
    }
    Ok(h)
}

fn set_field(h: &mut HistogramDesc, key: &str, value: &str) -> Result<(), String> {
    let int = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| format!("invalid integer {v:?} for {key}"))
    };
    match key {
        "schema" => h.schema = int(value)?,
        "sum" => h.sum = parse_number(value)?,
        "count" => h.count = parse_number(value)?,
        "z_bucket" => h.zero_count = parse_number(value)?,
        "z_bucket_w" => h.zero_threshold = parse_number(value)?,
        "offset" => h.offset = int(value)?,
        "n_offset" => h.n_offset = int(value)?,
        "buckets" => h.buckets = parse_list(value)?,
        "n_buckets" => h.n_buckets = parse_list(value)?,
        "custom_values" => h.custom_values = parse_list(value)?,
        "counter_reset_hint" => {
            h.reset_hint = Some(match value {
                "unknown" => ResetHint::Unknown,
                "reset" => ResetHint::Reset,
                "not_reset" => ResetHint::NotReset,
                "gauge" => ResetHint::Gauge,
                other => return Err(format!("invalid counter_reset_hint {other:?}")),
            })
        }
        other => return Err(format!("unknown histogram field {other:?}")),
    }
    Ok(())
}

fn parse_list(value: &str) -> Result<Vec<f64>, String> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or_else(|| format!("expected [..] list, got {value:?}"))?;
    inner.split_whitespace().map(parse_number).collect()
}

/// Expands `{{a}}+{{b}}xN` (or `-` when `negate`): `N+1` histograms
/// `a, a+b, ..., a+N*b`, adding field by field with buckets aligned on their
/// absolute index. Schema, threshold, custom bounds and hint come from `a`.
pub(crate) fn expand(
    a: &HistogramDesc,
    b: &HistogramDesc,
    n: u64,
    negate: bool,
) -> Vec<HistogramDesc> {
    let sign = if negate { -1.0 } else { 1.0 };
    let mut out = Vec::new();
    let mut cur = a.clone();
    for i in 0..=n {
        if i > 0 {
            cur = add(&cur, b, sign);
        }
        out.push(cur.clone());
    }
    out
}

fn add(a: &HistogramDesc, b: &HistogramDesc, sign: f64) -> HistogramDesc {
    let (offset, buckets) = add_buckets(a.offset, &a.buckets, b.offset, &b.buckets, sign);
    let (n_offset, n_buckets) =
        add_buckets(a.n_offset, &a.n_buckets, b.n_offset, &b.n_buckets, sign);
    HistogramDesc {
        sum: a.sum + sign * b.sum,
        count: a.count + sign * b.count,
        zero_count: a.zero_count + sign * b.zero_count,
        buckets,
        offset,
        n_buckets,
        n_offset,
        ..a.clone()
    }
}

fn add_buckets(oa: i64, a: &[f64], ob: i64, b: &[f64], sign: f64) -> (i64, Vec<f64>) {
    if b.is_empty() {
        return (oa, a.to_vec());
    }
    if a.is_empty() {
        return (ob, b.iter().map(|v| sign * v).collect());
    }
    let start = oa.min(ob);
    let end = (oa + a.len() as i64).max(ob + b.len() as i64);
    let at = |o: i64, v: &[f64], idx: i64| {
        usize::try_from(idx - o)
            .ok()
            .and_then(|i| v.get(i).copied())
            .unwrap_or(0.0)
    };
    let out = (start..end)
        .map(|idx| at(oa, a, idx) + sign * at(ob, b, idx))
        .collect();
    (start, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_in_any_order() {
        let h = parse_histogram(
            "sum:10 schema:2 count:4 buckets:[1 0 2] offset:-1 counter_reset_hint:gauge",
        )
        .unwrap_or_default();
        assert_eq!(h.schema, 2);
        assert_eq!(h.sum, 10.0);
        assert_eq!(h.count, 4.0);
        assert_eq!(h.buckets, vec![1.0, 0.0, 2.0]);
        assert_eq!(h.offset, -1);
        assert_eq!(h.reset_hint, Some(ResetHint::Gauge));
        assert!(parse_histogram("bogus:1").is_err());
        assert!(parse_histogram("buckets:[1 2").is_err());
        assert_eq!(parse_histogram(" ").ok(), Some(HistogramDesc::default()));
    }

    #[test]
    fn expands_with_aligned_buckets() {
        let a = parse_histogram("count:1 buckets:[1]").unwrap_or_default();
        let b = parse_histogram("count:2 buckets:[1 1] offset:-1").unwrap_or_default();
        let v = expand(&a, &b, 2, false);
        assert_eq!(v.len(), 3);
        assert_eq!(v[2].count, 5.0);
        assert_eq!(v[2].offset, -1);
        assert_eq!(v[2].buckets, vec![2.0, 3.0]);
    }
}
