//! Metadata lookups answered from the postings index: `/api/v1/labels`,
//! `/api/v1/label/<name>/values` and `/api/v1/series`.
//!
//! Grafana calls these constantly (metrics browser, code completion, template
//! variables, ad-hoc filters), so they never read samples: label names and
//! values come from the index of the series selected by `match[]`. Parameters
//! and messages follow Prometheus's `web/api/v1/api.go` (`labelNames`,
//! `labelValues`, `series`): several `match[]` are a union, each must have a
//! matcher that does not match the empty string, results are sorted, and
//! `limit` cuts them with the warning [`TRUNCATED_WARNING`].

use axum::extract::{Path, State};
use promlite_tsdb::{Limited, Matcher, Symbol};

use super::api_error::ApiError;
use super::format::{self, JsonBody};
use super::params::Params;
use super::query::TRUNCATED_WARNING;
use super::read_state::ReadState;

/// `/api/v1/labels`: sorted label names of the selected series.
pub async fn label_names(
    State(state): State<ReadState>,
    params: Params,
) -> Result<JsonBody, ApiError> {
    state.count_query("labels");
    let limit = params.limit()?;
    let (start, end) = params.time_range()?;
    let matcher_sets = match_params(&params)?;
    let names = blocking(move || {
        let q = state.db.querier(start, end).map_err(ApiError::internal)?;
        union_of(&matcher_sets, limit, |m| {
            q.label_names_limited(m, limit).map_err(ApiError::internal)
        })
    })
    .await?;
    Ok(string_list(names))
}

/// `/api/v1/label/<name>/values`: sorted values of one label. `<name>` may be
/// `U__`-escaped for names outside the legacy character set.
pub async fn label_values(
    State(state): State<ReadState>,
    Path(raw_name): Path<String>,
    params: Params,
) -> Result<JsonBody, ApiError> {
    state.count_query("label_values");
    let name = unescape_label_name(&raw_name);
    if name.is_empty() {
        return Err(ApiError::BadData(format!("invalid label name: {name:?}")));
    }
    let limit = params.limit()?;
    let (start, end) = params.time_range()?;
    let matcher_sets = match_params(&params)?;
    let values = blocking(move || {
        let q = state.db.querier(start, end).map_err(ApiError::internal)?;
        union_of(&matcher_sets, limit, |m| {
            q.label_values_limited(&name, m, limit)
                .map_err(ApiError::internal)
        })
    })
    .await?;
    Ok(string_list(values))
}

/// `/api/v1/series`: the label sets of the series selected by `match[]`.
pub async fn series(State(state): State<ReadState>, params: Params) -> Result<JsonBody, ApiError> {
    state.count_query("series");
    if params.get_all("match[]").next().is_none() {
        return Err(ApiError::BadData(
            "no match[] parameter provided".to_owned(),
        ));
    }
    let limit = params.limit()?;
    let (start, end) = params.time_range()?;
    let matcher_sets = match_params(&params)?;
    let series = blocking(move || {
        let q = state.db.querier(start, end).map_err(ApiError::internal)?;
        // Labels only: no chunk is snapshotted, and only `limit` series are sorted.
        union_of(&matcher_sets, limit, |m| {
            q.series_labels(m, limit).map_err(ApiError::internal)
        })
    })
    .await?;
    let warnings = truncation_warning(&series);
    let series = series.items;
    Ok(format::success(
        |out| {
            out.push('[');
            for (i, labels) in series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                format::push_label_pairs(out, labels.iter().map(|l| (&*l.name, &*l.value)));
            }
            out.push(']');
        },
        &warnings,
        &[],
    ))
}

/// Runs index work off the async threads: a regex over a million label values
/// takes long enough to stall other requests.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

/// Runs `lookup` (cut to `limit`) once per matcher set (once without
/// matchers when there is no `match[]`) and returns the sorted union cut to
/// `limit`. Each lookup already answers sorted and unique, so the common
/// single selector is passed through as is. The first `limit` items of a
/// union are among the first `limit` of its parts, so cutting each part first
/// loses nothing.
fn union_of<T: Ord>(
    sets: &[Vec<Matcher>],
    limit: Option<usize>,
    mut lookup: impl FnMut(&[Matcher]) -> Result<Limited<T>, ApiError>,
) -> Result<Limited<T>, ApiError> {
    if let [] | [_] = sets {
        return lookup(sets.first().map_or(&[][..], Vec::as_slice));
    }
    let mut all = Vec::new();
    let mut truncated = false;
    for set in sets {
        let part = lookup(set)?;
        truncated |= part.truncated;
        all.extend(part.items);
    }
    all.sort_unstable();
    all.dedup();
    if let Some(l) = limit.filter(|&l| all.len() > l) {
        all.truncate(l);
        truncated = true;
    }
    Ok(Limited {
        items: all,
        truncated,
    })
}

/// Parses every `match[]` selector into matcher sets (Prometheus
/// `parseMatchersParam`): each must hold a matcher that rejects `""`.
pub fn match_params(params: &Params) -> Result<Vec<Vec<Matcher>>, ApiError> {
    let mut sets = Vec::new();
    for selector in params.get_all("match[]") {
        sets.extend(crate::storage::parse_selector(selector).map_err(ApiError::BadData)?);
    }
    if sets
        .iter()
        .any(|set| set.iter().all(Matcher::matches_empty))
    {
        return Err(ApiError::BadData(
            "match[] must contain at least one non-empty matcher".to_owned(),
        ));
    }
    Ok(sets)
}

/// The truncation warning, if the lookup was cut by its limit.
fn truncation_warning<T>(found: &Limited<T>) -> Vec<String> {
    if found.truncated {
        vec![TRUNCATED_WARNING.to_owned()]
    } else {
        Vec::new()
    }
}

/// A JSON list of strings, with the truncation warning if it was cut.
fn string_list(found: Limited<Symbol>) -> JsonBody {
    let warnings = truncation_warning(&found);
    format::success(
        |out| format::push_str_array(out, found.items.iter().map(|s| &**s)),
        &warnings,
        &[],
    )
}

/// Undoes Prometheus's `U__` value-encoding escape of label names
/// (`U__http_2e_status__code` → `http.status_code`: `__` is `_`, `_<hex>_` a
/// code point). A name that is not validly escaped is returned unchanged, as
/// Prometheus's `model.UnescapeName` does.
pub fn unescape_label_name(name: &str) -> String {
    let Some(escaped) = name.strip_prefix("U__") else {
        return name.to_owned();
    };
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        let mut code: u32 = 0;
        let mut digits = 0;
        loop {
            match chars.next() {
                Some('_') if digits == 0 => {
                    out.push('_');
                    break;
                }
                Some('_') => match char::from_u32(code) {
                    Some(decoded) => {
                        out.push(decoded);
                        break;
                    }
                    None => return name.to_owned(),
                },
                Some(h) if digits < 6 => match h.to_digit(16) {
                    Some(d) => {
                        code = code * 16 + d;
                        digits += 1;
                    }
                    None => return name.to_owned(),
                },
                _ => return name.to_owned(),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_u_names() {
        assert_eq!(
            unescape_label_name("U__http_2e_status__code"),
            "http.status_code"
        );
        assert_eq!(unescape_label_name("job"), "job");
        assert_eq!(unescape_label_name("U__a_1f600_b"), "a😀b");
        // Invalid escapes are kept as written.
        assert_eq!(unescape_label_name("U__a_zz_"), "U__a_zz_");
        assert_eq!(unescape_label_name("U__a_"), "U__a_");
        assert_eq!(unescape_label_name("U__a_d800_"), "U__a_d800_");
        assert_eq!(unescape_label_name("U__a_1234567_"), "U__a_1234567_");
    }
}
