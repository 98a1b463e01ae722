//! Numbers for people: three significant digits, a scaled unit (`2.38 GiB/s`,
//! `128k ops/s`, `3.47 ms`), ratios and percentages. Raw numbers go to CSV
//! unformatted; these strings are for the Markdown and HTML reports.

/// `value` in `unit`, scaled to a readable unit.
pub fn value(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    match unit {
        "bytes/s" | "B/s" => binary(value, "/s"),
        "bytes" | "B" => binary(value, ""),
        "ns" | "us" | "µs" | "ms" | "s" => duration(value, unit),
        "ratio" => sig3(value),
        "%" => format!("{}%", sig3(value)),
        "" => si(value, ""),
        u if u.ends_with("/s") => si(value, &format!(" {u}")),
        u => format!("{} {u}", sig3(value)),
    }
}

/// A ratio as `1.07×`.
pub fn ratio(r: f64) -> String {
    if r.is_finite() {
        format!(
            "{}×",
            fixed(
                r,
                if (0.995..100.0).contains(&r.abs()) {
                    2
                } else {
                    3
                }
            )
        )
    } else {
        "n/a".to_owned()
    }
}

/// A relative change as `+12.3%` / `-4.0%`.
pub fn change(rel: f64) -> String {
    if !rel.is_finite() {
        return "n/a".to_owned();
    }
    let pct = rel * 100.0;
    let shown = if pct.abs() >= 100.0 {
        format!("{pct:.0}")
    } else {
        format!("{pct:.1}")
    };
    if pct > 0.0 && shown != "0.0" {
        format!("+{shown}%")
    } else if shown == "-0.0" {
        "0.0%".to_owned()
    } else {
        format!("{shown}%")
    }
}

/// A fraction as a percentage without trailing zeros (`5%`, `2.5%`).
pub fn percent(fraction: f64) -> String {
    let s = format!("{:.2}", fraction * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}%")
}

/// A share of 0..1 (a success rate) as a percentage with at most one
/// decimal (`100%`, `96.7%`). A share below 1 never shows as `100%` (one
/// failure in 10 000 attempts is `99.9%`), nor one above 0 as `0%`.
pub fn share(fraction: f64) -> String {
    if !fraction.is_finite() {
        return "n/a".to_owned();
    }
    let mut tenths = (fraction * 1000.0).round();
    if fraction < 1.0 && tenths >= 1000.0 {
        tenths = 999.0;
    } else if fraction > 0.0 && tenths <= 0.0 {
        tenths = 1.0;
    }
    let s = format!("{:.1}", tenths / 10.0);
    format!("{}%", s.strip_suffix(".0").unwrap_or(&s))
}

/// Three significant digits without trailing zeros (`4`, `0.5`, `2.25`):
/// concurrency levels and axis ticks.
pub fn number(v: f64) -> String {
    let s = sig3(v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A p-value as `0.003`, `<0.001`.
pub fn p_value(p: f64) -> String {
    if !p.is_finite() {
        "n/a".to_owned()
    } else if p < 0.001 {
        "<0.001".to_owned()
    } else {
        format!("{p:.3}")
    }
}

/// Three significant digits without a unit (`0.0123`, `12.3`, `12300`).
pub fn sig3(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v == 0.0 { "0" } else { "n/a" }.to_owned();
    }
    let magnitude = |x: f64| x.abs().log10().floor() as i32;
    let factor = 10f64.powi(2 - magnitude(v));
    // Round first: 9.996 becomes 10.0, which needs one decimal less.
    let rounded = (v * factor).round() / factor;
    let decimals = (2 - magnitude(rounded)).clamp(0, 12) as usize;
    format!("{rounded:.decimals$}")
}

fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// Powers of 1024 with IEC prefixes.
fn binary(v: f64, suffix: &str) -> String {
    let (scaled, unit) = scale(v, 1024.0, &["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]);
    format!("{} {unit}{suffix}", sig3(scaled))
}

/// Powers of 1000 with k, M, G, T.
fn si(v: f64, unit: &str) -> String {
    let (scaled, prefix) = scale(v, 1000.0, &["", "k", "M", "G", "T"]);
    format!("{}{prefix}{unit}", sig3(scaled))
}

/// `v` divided by `step` until it is below 1000 (or the names run out),
/// with the name of the power reached.
fn scale<'a>(v: f64, step: f64, names: &[&'a str]) -> (f64, &'a str) {
    let mut scaled = v;
    let mut i = 0;
    while scaled.abs() >= 1000.0 && i + 1 < names.len() {
        scaled /= step;
        i += 1;
    }
    (scaled, names[i])
}

/// A duration in the largest unit (ns, µs, ms, s) that keeps it ≥ 1.
fn duration(v: f64, unit: &str) -> String {
    if v == 0.0 {
        return format!("0 {}", if unit == "us" { "µs" } else { unit });
    }
    let ns = v * match unit {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        _ => 1e9,
    };
    let (scaled, name) = if ns.abs() >= 1e9 {
        (ns / 1e9, "s")
    } else if ns.abs() >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns.abs() >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{} {name}", sig3(scaled))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_significant_digits() {
        assert_eq!(sig3(0.0), "0");
        assert_eq!(sig3(1.0), "1.00");
        assert_eq!(sig3(12.345), "12.3");
        assert_eq!(sig3(123.45), "123");
        assert_eq!(sig3(12345.0), "12300");
        assert_eq!(sig3(0.012345), "0.0123");
        assert_eq!(sig3(9.996), "10.0");
        assert_eq!(sig3(99.96), "100");
        assert_eq!(sig3(-2.71234), "-2.71");
    }

    #[test]
    fn scaled_units() {
        assert_eq!(value(2_382_364_672.0, "bytes/s"), "2.22 GiB/s");
        assert_eq!(value(512.0, "bytes"), "512 B");
        assert_eq!(value(1536.0, "bytes"), "1.50 KiB");
        assert_eq!(value(128_490.67, "ops/s"), "128k ops/s");
        assert_eq!(value(3488.1, "events/s"), "3.49k events/s");
        assert_eq!(value(3471.3, "us"), "3.47 ms");
        assert_eq!(value(210.0, "us"), "210 µs");
        assert_eq!(value(8191.0, "ns"), "8.19 µs");
        assert_eq!(value(1250.0, "ms"), "1.25 s");
        assert_eq!(value(0.0, "ms"), "0 ms");
        assert_eq!(value(0.99, "ratio"), "0.990");
        assert_eq!(value(3.0, "pages"), "3.00 pages");
        assert_eq!(value(f64::NAN, "ms"), "n/a");
    }

    #[test]
    fn ratios_changes_and_p_values() {
        assert_eq!(ratio(1.0712), "1.07×");
        assert_eq!(ratio(0.5), "0.500×");
        assert_eq!(ratio(f64::INFINITY), "n/a");
        assert_eq!(change(0.123), "+12.3%");
        assert_eq!(change(-0.04), "-4.0%");
        assert_eq!(change(-0.00001), "0.0%");
        assert_eq!(change(1.5), "+150%");
        assert_eq!(p_value(0.0001), "<0.001");
        assert_eq!(percent(0.05), "5%");
        assert_eq!(percent(0.025), "2.5%");
        assert_eq!(percent(0.1), "10%");
        assert_eq!(p_value(0.0123), "0.012");
    }

    #[test]
    fn shares_and_plain_numbers() {
        assert_eq!(share(1.0), "100%");
        assert_eq!(share(29.0 / 30.0), "96.7%");
        assert_eq!(share(0.00001), "0.1%");
        assert_eq!(share(0.5), "50%");
        assert_eq!(share(0.9999), "99.9%");
        assert_eq!(share(0.0), "0%");
        assert_eq!(share(f64::NAN), "n/a");
        assert_eq!(number(4.0), "4");
        assert_eq!(number(0.5), "0.5");
        assert_eq!(number(2.25), "2.25");
        assert_eq!(number(12300.0), "12300");
        assert_eq!(number(0.30000000000000004), "0.3");
    }
}
