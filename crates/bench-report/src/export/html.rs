//! `report.html`: one self-contained page, charts inline as SVG.

use super::Exporter;

/// The HTML report.
#[derive(Debug, Clone, Copy)]
pub struct Html;

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }
    fn template(&self) -> &'static str {
        "report.html.tera"
    }
    fn file_name(&self) -> &'static str {
        "report.html"
    }
    fn escape(&self) -> fn(&str) -> String {
        tera::escape_html
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup_and_quotes() {
        let e = tera::escape_html("<script>alert('x')</script> \"q\" &");
        assert!(
            !e.contains('<') && !e.contains('"') && !e.contains('\''),
            "{e}"
        );
    }
}
