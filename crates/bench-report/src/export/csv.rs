//! `report.csv`: one line per row and cloud, raw numbers, for spreadsheets.

use super::Exporter;

/// The CSV report.
#[derive(Debug, Clone, Copy)]
pub struct Csv;

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }
    fn template(&self) -> &'static str {
        "report.csv.tera"
    }
    fn file_name(&self) -> &'static str {
        "report.csv"
    }
    fn escape(&self) -> fn(&str) -> String {
        escape_csv
    }
}

/// One RFC 4180 field: quoted (with `"` doubled) when it holds a comma,
/// quote or line break. A text that a spreadsheet would run as a formula
/// (`=`, `+`, `-`, `@`, tab or CR first) gets a leading `'` (OWASP's CSV
/// injection advice); numbers, negative ones too, stay numbers.
pub fn escape_csv(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && s.parse::<f64>().is_err();
    let s = if formula {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_and_defuses() {
        assert_eq!(escape_csv("plain"), "plain");
        assert_eq!(escape_csv("a,b"), "\"a,b\"");
        assert_eq!(escape_csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(
            escape_csv("=HYPERLINK(\"x\")"),
            "\"'=HYPERLINK(\"\"x\"\")\""
        );
        assert_eq!(escape_csv("-0.04"), "-0.04");
        assert_eq!(escape_csv("-cmd"), "'-cmd");
        assert_eq!(escape_csv("line\nbreak"), "\"line\nbreak\"");
    }
}
