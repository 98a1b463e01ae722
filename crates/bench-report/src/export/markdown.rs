//! `visual_report.md`: the report for chat and pull requests (GitHub
//! Markdown), tables only.

use super::Exporter;

/// The Markdown report.
#[derive(Debug, Clone, Copy)]
pub struct Markdown;

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "md"
    }
    fn template(&self) -> &'static str {
        "visual_report.md.tera"
    }
    fn file_name(&self) -> &'static str {
        "visual_report.md"
    }
    fn escape(&self) -> fn(&str) -> String {
        escape_markdown
    }
}

/// Makes a string inert in GitHub Markdown, also inside a table cell: HTML
/// is shown as text, `|` cannot end a cell, links, code, `*` emphasis and
/// headings do not start, and a line break cannot end the table. `_` is
/// left alone: metric names are full of it, and GitHub does not emphasise
/// inside words.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '|' | '*' | '`' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_stay_text() {
        assert_eq!(
            escape_markdown("<script>x</script>"),
            "&lt;script&gt;x&lt;/script&gt;"
        );
        assert_eq!(escape_markdown("a|b\nc"), "a\\|b c");
        assert_eq!(
            escape_markdown("[x](javascript:1)"),
            "\\[x\\](javascript:1)"
        );
        assert_eq!(escape_markdown("max_prime=10000"), "max_prime=10000");
        assert_eq!(escape_markdown("**bold** `x`"), "\\*\\*bold\\*\\* \\`x\\`");
    }
}
