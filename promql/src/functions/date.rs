//! Calendar fields of a time given in seconds since the epoch, in UTC:
//! `year`, `month`, `day_of_month`, `day_of_year`, `day_of_week`,
//! `days_in_month`, `hour`, `minute`.
//!
//! The value is truncated to whole seconds towards zero first, as Prometheus
//! 3.x's `dateWrapper` does (`time.Unix(int64(v), 0)`). The proleptic Gregorian
//! calendar is computed with integer arithmetic (days → civil date, after
//! Howard Hinnant's `civil_from_days`), so no time zone database is involved and
//! leap seconds do not exist, as in Go. Non-finite inputs give NaN; Prometheus
//! gives an arbitrary date there (Go's float-to-int conversion of NaN/Inf).

const SECONDS_PER_DAY: i64 = 86_400;

/// A UTC calendar date and time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Civil {
    year: i64,
    /// 1..=12
    month: i64,
    /// 1..=31
    day: i64,
    /// Days since 1970-01-01 (negative before).
    days: i64,
    /// Seconds since midnight, 0..86400.
    second_of_day: i64,
}

fn civil(seconds: f64) -> Option<Civil> {
    if !seconds.is_finite() {
        return None;
    }
    // Saturating truncation towards zero, like Go's int64() for in-range values.
    let secs = seconds as i64;
    let days = secs.div_euclid(SECONDS_PER_DAY);
    let second_of_day = secs.rem_euclid(SECONDS_PER_DAY);
    // Shift the epoch to 0000-03-01 so that leap days end each 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_march_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_march_year + 2) / 153;
    let day = day_of_march_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    Some(Civil {
        year,
        month,
        day,
        days,
        second_of_day,
    })
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn month_length(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn field(seconds: f64, f: fn(&Civil) -> i64) -> f64 {
    civil(seconds).map_or(f64::NAN, |c| f(&c) as f64)
}

/// `year(v)`.
pub fn year(seconds: f64) -> f64 {
    field(seconds, |c| c.year)
}

/// `month(v)`: 1 to 12.
pub fn month(seconds: f64) -> f64 {
    field(seconds, |c| c.month)
}

/// `day_of_month(v)`: 1 to 31.
pub fn day_of_month(seconds: f64) -> f64 {
    field(seconds, |c| c.day)
}

/// `day_of_year(v)`: 1 to 366.
pub fn day_of_year(seconds: f64) -> f64 {
    field(seconds, |c| {
        (1..c.month).map(|m| month_length(c.year, m)).sum::<i64>() + c.day
    })
}

/// `day_of_week(v)`: 0 (Sunday) to 6.
pub fn day_of_week(seconds: f64) -> f64 {
    // 1970-01-01 was a Thursday (4).
    field(seconds, |c| (c.days + 4).rem_euclid(7))
}

/// `days_in_month(v)`: 28 to 31.
pub fn days_in_month(seconds: f64) -> f64 {
    field(seconds, |c| month_length(c.year, c.month))
}

/// `hour(v)`: 0 to 23.
pub fn hour(seconds: f64) -> f64 {
    field(seconds, |c| c.second_of_day / 3600)
}

/// `minute(v)`: 0 to 59.
pub fn minute(seconds: f64) -> f64 {
    field(seconds, |c| c.second_of_day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch() {
        assert_eq!(year(0.0), 1970.0);
        assert_eq!(month(0.0), 1.0);
        assert_eq!(day_of_month(0.0), 1.0);
        assert_eq!(day_of_year(0.0), 1.0);
        assert_eq!(day_of_week(0.0), 4.0);
        assert_eq!(hour(0.0), 0.0);
    }

    #[test]
    fn known_dates() {
        // 2006-01-02 22:04:05 UTC, a Monday.
        let t = 1_136_239_445.0;
        assert_eq!(
            [
                year(t),
                month(t),
                day_of_month(t),
                day_of_year(t),
                day_of_week(t),
                hour(t),
                minute(t)
            ],
            [2006.0, 1.0, 2.0, 2.0, 1.0, 22.0, 4.0]
        );
        assert_eq!(year(1_230_767_999.0), 2008.0);
        assert_eq!(year(1_230_768_000.0), 2009.0);
        // 2016-02-29 23:59:59 and 2016-03-01 00:00:00.
        assert_eq!(
            (month(1_456_790_399.0), day_of_month(1_456_790_399.0)),
            (2.0, 29.0)
        );
        assert_eq!(
            (month(1_456_790_400.0), day_of_month(1_456_790_400.0)),
            (3.0, 1.0)
        );
        assert_eq!(day_of_year(1_483_191_420.0), 366.0);
        assert_eq!(day_of_year(1_672_493_820.0), 365.0);
        assert_eq!(days_in_month(1_454_284_800.0), 29.0);
        assert_eq!(days_in_month(1_485_907_200.0), 28.0);
    }

    #[test]
    fn before_epoch_and_fractions() {
        // 1969-12-31 23:59:59.
        assert_eq!(year(-1.0), 1969.0);
        assert_eq!(day_of_month(-1.0), 31.0);
        assert_eq!(hour(-1.0), 23.0);
        assert_eq!(day_of_week(-1.0), 3.0);
        // Fractions truncate toward zero: -0.5 s is the epoch itself.
        assert_eq!(year(-0.5), 1970.0);
        // 2000-02-29 (divisible by 400) is a leap day; 1900 was not a leap year.
        assert_eq!(days_in_month(951_782_400.0), 29.0);
        assert_eq!(days_in_month(-2_206_310_400.0), 28.0);
    }

    #[test]
    fn non_finite_is_nan() {
        assert!(year(f64::NAN).is_nan());
        assert!(minute(f64::INFINITY).is_nan());
    }
}
