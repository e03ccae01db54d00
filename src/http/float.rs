//! Sample values and timestamps as Prometheus writes them in JSON, fast: a
//! large range query answers millions of points, and formatting them with
//! `core::fmt` was half of the server's time on such a query.
//!
//! Values take the shortest round-trip digits from `ryu` and lay them out the
//! way Go's `strconv.AppendFloat(f, 'f'|'e', -1, 64)` does with the format
//! Prometheus picks (see [`super::format::push_float`]). Between 1e-5 and
//! 1e16 `ryu`'s own text is Go's but for the `.0` of integers; elsewhere its
//! layout (exponent from 1e16 on, none below 1e21 in Go) is not, and only its
//! digits and decimal exponent are used. Timestamps are integer arithmetic.

/// The shortest round-trip decimal digits of a finite, non-zero `|f|` and
/// where the decimal point goes: the value is `0.d1d2d3… × 10^point`.
struct Decimal {
    digits: [u8; 17],
    len: usize,
    point: i32,
}

impl Decimal {
    fn of(abs: f64) -> Decimal {
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(abs).as_bytes();
        let (mantissa, exp) = match s.iter().position(|&b| b == b'e') {
            Some(e) => (&s[..e], parse_exponent(&s[e + 1..])),
            None => (s, 0),
        };
        let mut d = Decimal {
            digits: [0; 17],
            len: 0,
            point: 0,
        };
        let mut int_digits = 0i32;
        let mut seen_point = false;
        for &b in mantissa {
            if b == b'.' {
                seen_point = true;
                continue;
            }
            if !seen_point {
                int_digits += 1;
            }
            // Leading zeros (`0.00123`) move the point instead of being digits.
            if b == b'0' && d.len == 0 {
                d.point -= 1;
                continue;
            }
            if let Some(slot) = d.digits.get_mut(d.len) {
                *slot = b;
                d.len += 1;
            }
        }
        // Trailing zeros (`120.0`, `1.0`) are not significant.
        while d.len > 0 && d.digits.get(d.len - 1) == Some(&b'0') {
            d.len -= 1;
        }
        d.point += int_digits + exp;
        d
    }

    fn digits(&self) -> &[u8] {
        self.digits.get(..self.len).unwrap_or_default()
    }
}

fn parse_exponent(s: &[u8]) -> i32 {
    let (neg, digits) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let v = digits
        .iter()
        .fold(0i32, |acc, b| acc * 10 + i32::from(b.wrapping_sub(b'0')));
    if neg {
        -v
    } else {
        v
    }
}

/// How a finite value is laid out around its shortest digits.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Prometheus's sample values: exponent form below 1e-6 and from 1e21 on,
    /// with at least two exponent digits (`1e-07`), else positional.
    SampleValue,
    /// Go's `'f'`: always positional (`0.0000001`).
    Positional,
    /// Go's `encoding/json` numbers: as `SampleValue` but the exponent as
    /// short as it goes (`1e-7`, `1e+21`).
    JsonNumber,
}

/// Appends `f` as [`super::format::push_float`] specifies (not quoted).
pub fn push_float(out: &mut String, f: f64) {
    push_special_or(out, f, Layout::SampleValue);
}

/// Appends `f` as Go's `strconv.FormatFloat(f, 'f', -1, 64)`: how
/// Prometheus writes the value of a scalar result (not quoted).
pub fn push_float_positional(out: &mut String, f: f64) {
    push_special_or(out, f, Layout::Positional);
}

/// Appends a timestamp in ms as Go's `encoding/json` writes the float
/// `t / 1000` (`1700000000.5`): how Prometheus writes the time of a scalar
/// or string result.
pub fn push_seconds_number(out: &mut String, t_ms: i64) {
    push_finite(out, t_ms as f64 / 1000.0, Layout::JsonNumber);
}

fn push_special_or(out: &mut String, f: f64, layout: Layout) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "+Inf" } else { "-Inf" });
    } else {
        push_finite(out, f, layout);
    }
}

fn push_finite(out: &mut String, f: f64, layout: Layout) {
    let abs = f.abs();
    // Where `ryu` lays digits out positionally, its text is Go's but for the
    // `.0` it gives integers: most sample values take this path.
    if (1e-5..1e16).contains(&abs) {
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(f);
        out.push_str(text.strip_suffix(".0").unwrap_or(text));
        return;
    }
    if f.is_sign_negative() {
        out.push('-');
    }
    if abs == 0.0 {
        out.push('0');
        return;
    }
    let d = Decimal::of(abs);
    let digits = d.digits();
    // ASCII digits only: each byte is one char.
    let push_digits =
        |out: &mut String, ds: &[u8]| ds.iter().for_each(|&b| out.push(char::from(b)));
    if layout == Layout::Positional || (1e-6..1e21).contains(&abs) {
        if d.point <= 0 {
            out.push_str("0.");
            (0..-d.point).for_each(|_| out.push('0'));
            push_digits(out, digits);
        } else {
            let point = d.point as usize;
            let (int, frac) = digits.split_at(point.min(digits.len()));
            push_digits(out, int);
            (digits.len()..point).for_each(|_| out.push('0'));
            if !frac.is_empty() {
                out.push('.');
                push_digits(out, frac);
            }
        }
    } else {
        let (first, rest) = digits.split_first().unwrap_or((&b'0', &[]));
        out.push(char::from(*first));
        if !rest.is_empty() {
            out.push('.');
            push_digits(out, rest);
        }
        let exp = d.point - 1;
        out.push_str(if exp < 0 { "e-" } else { "e+" });
        if exp.abs() < 10 && layout == Layout::SampleValue {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(exp.unsigned_abs()));
    }
}

/// Appends a timestamp in ms as Prometheus's JSON number of seconds
/// (see [`super::format::push_timestamp`]).
pub fn push_timestamp(out: &mut String, t_ms: i64) {
    if t_ms < 0 {
        out.push('-');
    }
    let abs = t_ms.unsigned_abs();
    out.push_str(itoa::Buffer::new().format(abs / 1000));
    let fraction = abs % 1000;
    if fraction != 0 {
        let digit = |v: u64| char::from(b'0' + (v % 10) as u8);
        out.push('.');
        out.push(digit(fraction / 100));
        out.push(digit(fraction / 10));
        out.push(digit(fraction));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// The reference: the shortest digits from `core::fmt`, laid out as
    /// Prometheus does (the formatter this module replaced). It differs from
    /// Go on exact ties between two shortest candidates: Go (and `ryu`) pick
    /// the even last digit, `core::fmt` rounds up; see [`check`].
    fn reference(f: f64) -> String {
        if f.is_nan() {
            return "NaN".into();
        }
        if f.is_infinite() {
            return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
        }
        let abs = f.abs();
        if abs == 0.0 || (1e-6..1e21).contains(&abs) {
            return format!("{f}");
        }
        let rust = format!("{f:e}");
        let (mantissa, exponent) = rust.split_once('e').unwrap_or((rust.as_str(), "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        let pad = if digits.len() < 2 { "0" } else { "" };
        format!("{mantissa}e{sign}{pad}{digits}")
    }

    fn fast(f: f64) -> String {
        let mut s = String::new();
        push_float(&mut s, f);
        s
    }

    /// `fast(f)` is the reference's layout, or on a tie the other candidate
    /// with an even last digit; either way it reads back as `f`.
    fn check(f: f64) {
        let (got, want) = (fast(f), reference(f));
        if f.is_finite() {
            let back: f64 = got.parse().unwrap_or(f64::NAN);
            assert_eq!(back.to_bits(), f.to_bits(), "{got} must read back as {f:e}");
        }
        if got != want {
            let last_digit = |s: &str| s.split('e').next().and_then(|m| m.bytes().last());
            let even = last_digit(&got).is_some_and(|d| (d - b'0').is_multiple_of(2));
            assert!(
                got.len() == want.len() && even,
                "{f:e} bits {:#x}: {got} vs {want}",
                f.to_bits()
            );
        }
    }

    #[test]
    fn go_rounds_exact_ties_to_even() {
        // Exactly halfway between ...797.2 and ...797.3; Prometheus 2.42
        // answers `-1149636667324797.2` for this literal.
        let tie = f64::from_bits(0xc310_565a_94b4_e5f5); // -1149636667324797.25
        assert_eq!(fast(tie), "-1149636667324797.2");
    }

    #[test]
    fn agrees_with_core_fmt_on_edges() {
        let mut cases = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            10.0,
            100.0,
            120.0,
            1e15,
            1e16,
            1e17,
            1.5e16,
            123456789.0,
            1e20,
            9.999999999999999e20,
            1e21,
            1e-6,
            9.99e-7,
            1e-5,
            1.0000000000000002e-6,
            0.000123,
            5e-324,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            2.5,
            1e100,
            1e-100,
            0.30000000000000004,
            4503599627370496.5,
            9007199254740993.0,
        ];
        // Every power of ten and its neighbours.
        for e in -323..=308 {
            let p = format!("1e{e}").parse::<f64>().unwrap_or(1.0);
            let b = p.to_bits();
            cases.extend([p, f64::from_bits(b + 1), f64::from_bits(b - 1)]);
        }
        for f in cases {
            check(f);
            check(-f);
        }
    }

    #[test]
    fn agrees_with_core_fmt_on_random_bits() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for i in 0..300_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Random bit patterns cover every exponent; values with few digits
            // (counters, gauges in whole units) are what servers answer most.
            let f = match i % 3 {
                0 => f64::from_bits(x),
                1 => (x % 1_000_000_007) as f64 / 1000.0,
                _ => (x >> 11) as f64 / (1u64 << 53) as f64 * 100.0,
            };
            check(f);
        }
    }

    #[test]
    fn scalar_results_are_laid_out_as_prometheus_does() {
        // What Prometheus 2.42 answered for `/api/v1/query?query=<v>&time=<t>`.
        let cases: &[(f64, &str)] = &[
            (1e-7, "0.0000001"),
            (-2.5e22, "-25000000000000000000000"),
            (0.1, "0.1"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
            (5e-324, &format!("0.{}5", "0".repeat(323))),
        ];
        for (v, want) in cases {
            let mut got = String::new();
            push_float_positional(&mut got, *v);
            assert_eq!(got, *want, "{v:e}");
        }
        let times: &[(i64, &str)] = &[
            (1_700_000_000_500, "1700000000.5"),
            (1_700_000_000_000, "1700000000"),
            (1_700_000_000_123, "1700000000.123"),
            (0, "0"),
            (-1_500, "-1.5"),
        ];
        for (t, want) in times {
            let mut got = String::new();
            push_seconds_number(&mut got, *t);
            assert_eq!(got, *want, "{t}");
        }
        // Go's encoding/json exponent form: no padding.
        let mut tiny = String::new();
        push_finite(&mut tiny, 1e-7, Layout::JsonNumber);
        assert_eq!(tiny, "1e-7");
    }

    #[test]
    fn timestamps_match_integer_layout() {
        for t in [
            0,
            1,
            10,
            999,
            1000,
            1001,
            -1,
            -1500,
            1_700_000_000_010,
            i64::MIN,
            i64::MAX,
        ] {
            let mut want = String::new();
            if t < 0 {
                want.push('-');
            }
            let abs = t.unsigned_abs();
            let _ = write!(want, "{}", abs / 1000);
            if abs % 1000 != 0 {
                let _ = write!(want, ".{:03}", abs % 1000);
            }
            let mut got = String::new();
            push_timestamp(&mut got, t);
            assert_eq!(got, want, "{t}");
        }
    }
}
