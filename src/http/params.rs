//! Request parameters of the query API, read the way Prometheus reads them.
//!
//! Every endpoint answers GET and POST. Parameters come from the URL query
//! string and, for a form-encoded body (`application/x-www-form-urlencoded`,
//! with or without `;charset=…`), from the body too. As in Go's
//! `Request.FormValue`, a body value wins over a URL value of the same key and
//! repeated keys (`match[]`) accumulate from both: Grafana puts `stats=all` in
//! the URL of a form POST, and `prometheus-api-client` POSTs everything in the
//! URL with an empty body and no content type. Unknown keys are ignored.
//!
//! Times are float seconds (rounded to the millisecond), RFC3339 with optional
//! fraction, or one of the sentinels clients use for "unbounded"; they are
//! converted to milliseconds with saturating arithmetic, so Grafana's exemplar
//! probe, which sends milliseconds as if they were seconds (year ≈ 58 000),
//! is accepted as Prometheus accepts it (`web/api/v1/api.go` `parseTime`,
//! `parseDuration`, `parseLimitParam`).

use crate::civil::{days_from_civil, days_in_month};
use axum::extract::{FromRequest, Request};
use axum::http::header;

use super::api_error::ApiError;

/// Upper bound of a form body, as Go's `ParseForm` (10 MiB).
const MAX_FORM_BYTES: usize = 10 << 20;

/// Prometheus's `minTime` in ms: the earliest time its API can represent.
pub const MIN_TIME_MS: i64 = -9_223_309_901_258_974_000;
/// Prometheus's `maxTime` in ms: the latest time its API can represent.
pub const MAX_TIME_MS: i64 = 9_223_309_901_258_974_999;

/// The literal spellings of the unbounded times that clients send: Prometheus's
/// `minTime`/`maxTime` formatted as RFC3339Nano, and `i64::MIN`/`i64::MAX`
/// milliseconds formatted by clients that keep times in ms.
const TIME_SENTINELS: [(&str, i64); 4] = [
    ("-292273086-05-16T16:47:06Z", MIN_TIME_MS),
    ("292277025-08-18T07:12:54.999999999Z", MAX_TIME_MS),
    ("-292275055-05-16T16:47:04.192Z", i64::MIN),
    ("292277025-08-17T07:12:55.807Z", i64::MAX),
];

/// The merged parameters of one request: body pairs first, then URL pairs.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Builds parameters from a URL query string and a form body (body wins).
    pub fn from_parts(url_query: Option<&str>, form_body: Option<&[u8]>) -> Self {
        let mut pairs = Vec::new();
        if let Some(body) = form_body {
            pairs.extend(form_urlencoded::parse(body).into_owned());
        }
        if let Some(q) = url_query {
            pairs.extend(form_urlencoded::parse(q.as_bytes()).into_owned());
        }
        Params { pairs }
    }

    /// The first value of `key`, body before URL; `None` if absent.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The first non-empty value of `key` (Prometheus treats `time=` as absent).
    pub fn get_non_empty(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|v| !v.is_empty())
    }

    /// Every value of `key`, body values first.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Parameter `key` as a time in ms, or `default` when absent or empty.
    pub fn time_or(&self, key: &str, default: i64) -> Result<i64, ApiError> {
        match self.get_non_empty(key) {
            None => Ok(default),
            Some(s) => parse_time(s).map_err(|e| ApiError::invalid_param(key, e)),
        }
    }

    /// `start`/`end` for the metadata endpoints: each defaults to the unbounded
    /// end of time, as in Prometheus.
    pub fn time_range(&self) -> Result<(i64, i64), ApiError> {
        let start = self.time_or("start", MIN_TIME_MS)?;
        let end = self.time_or("end", MAX_TIME_MS)?;
        Ok((start, end))
    }

    /// `limit`: absent or `0` means unlimited, negative or non-integer is `bad_data`.
    pub fn limit(&self) -> Result<Option<usize>, ApiError> {
        let Some(s) = self.get_non_empty("limit") else {
            return Ok(None);
        };
        let n: i64 = s.parse().map_err(|_| {
            ApiError::invalid_param("limit", format!("cannot parse {s:?} as an integer"))
        })?;
        if n < 0 {
            return Err(ApiError::invalid_param(
                "limit",
                "limit must be non-negative",
            ));
        }
        Ok(usize::try_from(n).ok().filter(|&n| n > 0))
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let url_query = req.uri().query().map(str::to_owned);
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                mime.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let body = if is_form {
            // Read with our own bound rather than axum's 2 MiB default for
            // `Bytes`: Prometheus accepts form bodies up to 10 MiB.
            let bytes = axum::body::to_bytes(req.into_body(), MAX_FORM_BYTES)
                .await
                .map_err(|e| ApiError::BadData(format!("error parsing form body: {e}")))?;
            Some(bytes)
        } else {
            None
        };
        Ok(Params::from_parts(url_query.as_deref(), body.as_deref()))
    }
}

/// Parses a time: float seconds (fraction rounded to ms), RFC3339 with an
/// optional fraction and `Z` or `±hh:mm`, or a sentinel. Returns ms.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        if secs.is_nan() {
            return Err(format!("cannot parse {s:?} to a valid timestamp"));
        }
        // Split as Prometheus does (math.Modf, then round the fraction to ms) so
        // `1700000000.1235` gives ...123.5 → 124 ms without binary drift on the
        // integer part. Float-to-int `as` saturates, which keeps absurd inputs valid.
        let whole = secs.trunc();
        let frac_ms = ((secs - whole) * 1000.0).round() as i64;
        return Ok((whole as i64).saturating_mul(1000).saturating_add(frac_ms));
    }
    if let Some((_, ms)) = TIME_SENTINELS.iter().find(|(text, _)| *text == s) {
        return Ok(*ms);
    }
    parse_rfc3339(s).ok_or_else(|| format!("cannot parse {s:?} to a valid timestamp"))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` → ms. Four-digit years only, as
/// Go's `time.Parse`; the far sentinels are matched literally before this.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, c: u8| b.get(at) == Some(&c);
    if !(sep(4, b'-')
        && sep(7, b'-')
        && (sep(10, b'T') || sep(10, b't'))
        && sep(13, b':')
        && sep(16, b':'))
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let mut pos = 19;
    let mut millis = 0i64;
    if sep(pos, b'.') {
        pos += 1;
        let start = pos;
        while b.get(pos).is_some_and(u8::is_ascii_digit) {
            pos += 1;
        }
        let digits = b.get(start..pos)?;
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        // Truncate to ms, as Prometheus's timestamp.FromTime does.
        millis = digits
            .iter()
            .take(3)
            .fold(0i64, |acc, &d| acc * 10 + i64::from(d - b'0'));
        for _ in digits.len()..3 {
            millis *= 10;
        }
    }
    let offset_secs = match b.get(pos..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (oh, om) = (num(pos + 1, 2)?, num(pos + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'-' {
                -off
            } else {
                off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1000 + millis)
}

/// Parses a duration: float seconds (`"15"`, `"0.5"`) or Prometheus units in
/// order `y w d h m s ms`, compound allowed (`1m15s`, `1h0m0s`); the unit form
/// is read by the engine's [`promlite_promql::parse_duration_ms`]. Returns
/// nanoseconds, as Go's `time.Duration`; negative floats stay negative so the
/// caller can refuse them with its own message.
pub fn parse_duration(s: &str) -> Result<i64, String> {
    if let Ok(secs) = s.parse::<f64>() {
        let ns = secs * 1e9;
        if ns.is_nan() || ns >= i64::MAX as f64 || ns <= i64::MIN as f64 {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i64);
    }
    promlite_promql::parse_duration_ms(s)
        .and_then(|ms| ms.checked_mul(1_000_000))
        .ok_or_else(|| format!("cannot parse {s:?} to a valid duration"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_accepted_form() {
        assert_eq!(parse_time("4"), Ok(4_000));
        assert_eq!(parse_time("1700000000.123"), Ok(1_700_000_000_123));
        assert_eq!(parse_time("1700000000.1235"), Ok(1_700_000_000_124));
        assert_eq!(parse_time("-1.5"), Ok(-1_500));
        assert_eq!(
            parse_time("2026-11-26T19:42:09.935Z"),
            Ok(1_795_722_129_935)
        );
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_time("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(parse_time("2000-02-29T00:00:00.5Z"), Ok(951_782_400_500));
        assert_eq!(parse_time("-292273086-05-16T16:47:06Z"), Ok(MIN_TIME_MS));
        assert_eq!(
            parse_time("292277025-08-18T07:12:54.999999999Z"),
            Ok(MAX_TIME_MS)
        );
        assert_eq!(parse_time("292277025-08-17T07:12:55.807Z"), Ok(i64::MAX));
        // Grafana's exemplar probe: milliseconds sent as seconds.
        assert_eq!(parse_time("1795763499267"), Ok(1_795_763_499_267_000));
        assert_eq!(parse_time("1e300"), Ok(i64::MAX));
    }

    #[test]
    fn bad_times_are_refused() {
        for s in [
            "",
            "abc",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-01-01",
            "NaN",
            "2026-01-01T00:00:00",
        ] {
            assert!(parse_time(s).is_err(), "{s:?} should not parse");
        }
    }

    #[test]
    fn durations_as_seconds_or_units() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert_eq!(parse_duration("1m15s"), Ok(75_000_000_000));
        assert_eq!(parse_duration("75"), parse_duration("1m15s"));
        assert_eq!(parse_duration("1h0m0s"), Ok(3_600_000_000_000));
        assert_eq!(parse_duration("5ms"), Ok(5_000_000));
        assert_eq!(parse_duration("1d2h"), Ok(26 * 3_600_000_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("-10"), Ok(-10_000_000_000));
        for bad in ["", "1s1m", "1x", "m", "1.5m", "1e30", "1m1m"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn body_wins_and_lists_accumulate() {
        let p = Params::from_parts(
            Some("query=url&stats=all&match[]=a"),
            Some(b"query=sum+by+%28job%29+%28up%29&match[]=b"),
        );
        assert_eq!(p.get("query"), Some("sum by (job) (up)"));
        assert_eq!(p.get("stats"), Some("all"));
        assert_eq!(p.get_all("match[]").collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(p.get("absent"), None);
    }

    #[test]
    fn limit_rules() {
        let lim = |q: &str| Params::from_parts(Some(q), None).limit();
        assert_eq!(lim("").ok(), Some(None));
        assert_eq!(lim("limit=0").ok(), Some(None));
        assert_eq!(lim("limit=5").ok(), Some(Some(5)));
        assert!(lim("limit=-1").is_err());
        assert!(lim("limit=x").is_err());
    }
}
