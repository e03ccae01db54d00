//! The registration table: every function name Prometheus 3.x knows, with its
//! signature, flags and [`Implementation`], sorted by name.
//!
//! Adding a function is one line here plus its kernel in the file for its
//! family; the tests below check the table against the parser's type checker.

use super::{
    date, math, over_time, rate, regression, DateKernel, EngineFunction, FloatKernel, FunctionSpec,
    Implementation, RangeKernel, ValueType, Variadic,
};

/// Finds a function by name; `None` for names Prometheus does not know.
pub fn lookup(name: &str) -> Option<&'static FunctionSpec> {
    // The table is sorted by name (checked by a test below).
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .and_then(|i| FUNCTIONS.get(i))
}

use ValueType::{Matrix as M, Scalar as S, String as Str, Vector as V};

const fn spec(
    name: &'static str,
    args: &'static [ValueType],
    variadic: Variadic,
    returns: ValueType,
    implementation: Implementation,
) -> FunctionSpec {
    FunctionSpec {
        name,
        args,
        variadic,
        returns,
        experimental: false,
        keeps_metric_name: false,
        expects_counter: false,
        implementation,
    }
}

const fn range(name: &'static str, kernel: RangeKernel) -> FunctionSpec {
    spec(
        name,
        &[M],
        Variadic::Exact,
        V,
        Implementation::Range(kernel),
    )
}

const fn float(name: &'static str, kernel: FloatKernel) -> FunctionSpec {
    spec(
        name,
        &[V],
        Variadic::Exact,
        V,
        Implementation::Float(kernel),
    )
}

const fn date(name: &'static str, kernel: DateKernel) -> FunctionSpec {
    spec(
        name,
        &[V],
        Variadic::Optional(1),
        V,
        Implementation::Date(kernel),
    )
}

const fn engine(
    name: &'static str,
    args: &'static [ValueType],
    variadic: Variadic,
    returns: ValueType,
    f: EngineFunction,
) -> FunctionSpec {
    spec(name, args, variadic, returns, Implementation::Engine(f))
}

const fn experimental(mut s: FunctionSpec) -> FunctionSpec {
    s.experimental = true;
    s
}

const fn keeps_name(mut s: FunctionSpec) -> FunctionSpec {
    s.keeps_metric_name = true;
    s
}

const fn counter(mut s: FunctionSpec) -> FunctionSpec {
    s.expects_counter = true;
    s
}

/// Every function Prometheus 3.x knows, sorted by name.
pub static FUNCTIONS: &[FunctionSpec] = &[
    float("abs", math::abs),
    keeps_name(engine(
        "absent",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::Absent,
    )),
    keeps_name(engine(
        "absent_over_time",
        &[M],
        Variadic::Exact,
        V,
        EngineFunction::AbsentOverTime,
    )),
    float("acos", math::acos),
    float("acosh", math::acosh),
    float("asin", math::asin),
    float("asinh", math::asinh),
    float("atan", math::atan),
    float("atanh", math::atanh),
    range("avg_over_time", over_time::avg_over_time),
    float("ceil", math::ceil),
    range("changes", over_time::changes),
    spec(
        "clamp",
        &[V, S, S],
        Variadic::Exact,
        V,
        Implementation::Float(math::clamp),
    ),
    spec(
        "clamp_max",
        &[V, S],
        Variadic::Exact,
        V,
        Implementation::Float(math::clamp_max),
    ),
    spec(
        "clamp_min",
        &[V, S],
        Variadic::Exact,
        V,
        Implementation::Float(math::clamp_min),
    ),
    float("cos", math::cos),
    float("cosh", math::cosh),
    range("count_over_time", over_time::count_over_time),
    date("day_of_month", date::day_of_month),
    date("day_of_week", date::day_of_week),
    date("day_of_year", date::day_of_year),
    date("days_in_month", date::days_in_month),
    float("deg", math::deg),
    range("delta", rate::delta),
    range("deriv", regression::deriv),
    experimental(spec(
        "double_exponential_smoothing",
        &[M, S, S],
        Variadic::Exact,
        V,
        Implementation::Range(regression::double_exponential_smoothing),
    )),
    experimental(engine("end", &[], Variadic::Exact, S, EngineFunction::End)),
    float("exp", math::exp),
    keeps_name(experimental(range(
        "first_over_time",
        over_time::first_over_time,
    ))),
    float("floor", math::floor),
    engine(
        "histogram_avg",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramAvg,
    ),
    engine(
        "histogram_count",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramCount,
    ),
    engine(
        "histogram_fraction",
        &[S, S, V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramFraction,
    ),
    engine(
        "histogram_quantile",
        &[S, V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramQuantile,
    ),
    experimental(engine(
        "histogram_quantiles",
        &[V, Str, S, S],
        Variadic::Optional(9),
        V,
        EngineFunction::HistogramQuantiles,
    )),
    engine(
        "histogram_stddev",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramStddev,
    ),
    engine(
        "histogram_stdvar",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramStdvar,
    ),
    engine(
        "histogram_sum",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::HistogramSum,
    ),
    date("hour", date::hour),
    range("idelta", rate::idelta),
    counter(range("increase", rate::increase)),
    keeps_name(experimental(engine(
        "info",
        &[V, V],
        Variadic::Optional(1),
        V,
        EngineFunction::Info,
    ))),
    range("irate", rate::irate),
    keeps_name(engine(
        "label_join",
        &[V, Str, Str, Str],
        Variadic::Unbounded,
        V,
        EngineFunction::LabelJoin,
    )),
    keeps_name(engine(
        "label_replace",
        &[V, Str, Str, Str, Str],
        Variadic::Exact,
        V,
        EngineFunction::LabelReplace,
    )),
    keeps_name(range("last_over_time", over_time::last_over_time)),
    float("ln", math::ln),
    float("log10", math::log10),
    float("log2", math::log2),
    experimental(range("mad_over_time", over_time::mad_over_time)),
    experimental(engine(
        "max_of",
        &[S, S],
        Variadic::Exact,
        S,
        EngineFunction::MaxOf,
    )),
    range("max_over_time", over_time::max_over_time),
    experimental(engine(
        "min_of",
        &[S, S],
        Variadic::Exact,
        S,
        EngineFunction::MinOf,
    )),
    range("min_over_time", over_time::min_over_time),
    date("minute", date::minute),
    date("month", date::month),
    spec(
        "pi",
        &[],
        Variadic::Exact,
        S,
        Implementation::Nullary(math::pi),
    ),
    spec(
        "predict_linear",
        &[M, S],
        Variadic::Exact,
        V,
        Implementation::Range(regression::predict_linear),
    ),
    range("present_over_time", over_time::present_over_time),
    spec(
        "quantile_over_time",
        &[S, M],
        Variadic::Exact,
        V,
        Implementation::Range(over_time::quantile_over_time),
    ),
    float("rad", math::rad),
    experimental(engine(
        "range",
        &[],
        Variadic::Exact,
        S,
        EngineFunction::Range,
    )),
    counter(range("rate", rate::rate)),
    range("resets", over_time::resets),
    spec(
        "round",
        &[V, S],
        Variadic::Optional(1),
        V,
        Implementation::Float(math::round),
    ),
    engine("scalar", &[V], Variadic::Exact, S, EngineFunction::Scalar),
    float("sgn", math::sgn),
    float("sin", math::sin),
    float("sinh", math::sinh),
    keeps_name(engine(
        "sort",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::Sort,
    )),
    keeps_name(experimental(engine(
        "sort_by_label",
        &[V, Str],
        Variadic::Unbounded,
        V,
        EngineFunction::SortByLabel,
    ))),
    keeps_name(experimental(engine(
        "sort_by_label_desc",
        &[V, Str],
        Variadic::Unbounded,
        V,
        EngineFunction::SortByLabelDesc,
    ))),
    keeps_name(engine(
        "sort_desc",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::SortDesc,
    )),
    float("sqrt", math::sqrt),
    experimental(engine(
        "start",
        &[],
        Variadic::Exact,
        S,
        EngineFunction::Start,
    )),
    experimental(engine(
        "start_timestamp",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::StartTimestamp,
    )),
    range("stddev_over_time", over_time::stddev_over_time),
    range("stdvar_over_time", over_time::stdvar_over_time),
    experimental(engine(
        "step",
        &[],
        Variadic::Exact,
        S,
        EngineFunction::Step,
    )),
    range("sum_over_time", over_time::sum_over_time),
    float("tan", math::tan),
    float("tanh", math::tanh),
    spec(
        "time",
        &[],
        Variadic::Exact,
        S,
        Implementation::Nullary(math::time),
    ),
    engine(
        "timestamp",
        &[V],
        Variadic::Exact,
        V,
        EngineFunction::Timestamp,
    ),
    experimental(range(
        "ts_of_first_over_time",
        over_time::ts_of_first_over_time,
    )),
    experimental(range(
        "ts_of_last_over_time",
        over_time::ts_of_last_over_time,
    )),
    experimental(range("ts_of_max_over_time", over_time::ts_of_max_over_time)),
    experimental(range("ts_of_min_over_time", over_time::ts_of_min_over_time)),
    keeps_name(engine(
        "vector",
        &[S],
        Variadic::Exact,
        V,
        EngineFunction::Vector,
    )),
    date("year", date::year),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for pair in FUNCTIONS.windows(2) {
            if let [a, b] = pair {
                assert!(a.name < b.name, "{} must sort before {}", a.name, b.name);
            }
        }
    }

    #[test]
    fn parser_accepts_every_spec_signature() {
        // Builds a call with exactly the listed argument types; the parser's own
        // type checker must agree with our table.
        for f in FUNCTIONS {
            let args: Vec<&str> = f
                .args
                .iter()
                .map(|t| match t {
                    ValueType::Scalar => "1",
                    ValueType::Vector => "x",
                    ValueType::Matrix => "x[1m]",
                    ValueType::String => "\"a\"",
                })
                .collect();
            let query = format!("{}({})", f.name, args.join(", "));
            assert!(
                promql_parser::parser::parse(&query).is_ok(),
                "parser rejects {query}"
            );
        }
    }

    #[test]
    fn integral_is_a_parser_extension_not_a_prometheus_function() {
        assert!(promql_parser::parser::parse("integral(x[1m])").is_ok());
        assert!(lookup("integral").is_none());
    }

    #[test]
    fn lookup_finds_specs() {
        let rate = lookup("rate").map(|f| (f.args, f.expects_counter, f.keeps_metric_name));
        assert_eq!(rate, Some((&[ValueType::Matrix][..], true, false)));
        assert!(lookup("last_over_time").is_some_and(|f| f.keeps_metric_name));
        assert!(lookup("mad_over_time").is_some_and(|f| f.experimental));
        assert!(lookup("no_such_function").is_none());
    }
}
