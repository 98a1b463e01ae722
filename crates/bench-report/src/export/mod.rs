//! Report formats. Each format is one file here implementing [`Exporter`]:
//! which template it renders, which file it writes and how it escapes. The
//! templates are Tera files in `templates/` (built into the binary; a
//! `--templates DIR` of the user's overrides them by name).
//!
//! Escaping is automatic and per format: every `{{ value }}` in a
//! `*.html.tera` root template is HTML-escaped, in `*.md.tera` Markdown-escaped,
//! in `*.csv.tera` CSV-quoted, because every string in a result file is
//! untrusted. Only the chart SVG, escaped when it was drawn, is marked `| safe`.

mod csv;
mod html;
mod markdown;

use std::path::Path;

use bench_core::exit::Failure;
use tera::Tera;

pub use csv::Csv;
pub use html::Html;
pub use markdown::{Markdown, escape_markdown};

use crate::model::Report;

/// One output format.
pub trait Exporter: Sync {
    /// The name of `--format` (`md`, `html`, `csv`).
    fn name(&self) -> &'static str;
    /// The root template (`report.html.tera`).
    fn template(&self) -> &'static str;
    /// The file written under `--output-dir` (contract).
    fn file_name(&self) -> &'static str;
    /// How an interpolated value is escaped.
    fn escape(&self) -> fn(&str) -> String;
}

/// Every format, in the order they are written.
pub fn all() -> Vec<Box<dyn Exporter>> {
    vec![Box::new(Markdown), Box::new(Html), Box::new(Csv)]
}

/// The built-in templates: name → text.
const BUILT_IN: [(&str, &str); 6] = [
    (
        "visual_report.md.tera",
        include_str!("../../../../templates/visual_report.md.tera"),
    ),
    (
        "report.html.tera",
        include_str!("../../../../templates/report.html.tera"),
    ),
    (
        "report.csv.tera",
        include_str!("../../../../templates/report.csv.tera"),
    ),
    (
        "partials/macros.html.tera",
        include_str!("../../../../templates/partials/macros.html.tera"),
    ),
    (
        "partials/style.css.tera",
        include_str!("../../../../templates/partials/style.css.tera"),
    ),
    (
        "partials/macros.md.tera",
        include_str!("../../../../templates/partials/macros.md.tera"),
    ),
];

/// The template set: the built-in ones, overridden by name by the `*.tera`
/// files under `dir` (searched recursively, named by their path relative to
/// it with `/`).
#[derive(Debug, Clone)]
pub struct Templates {
    sources: Vec<(String, String)>,
}

impl Templates {
    /// The built-in set with `dir`'s files over it.
    pub fn load(dir: Option<&Path>) -> Result<Self, Failure> {
        let mut sources: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        if let Some(dir) = dir {
            let mut found = Vec::new();
            collect_tera_files(dir, dir, &mut found).map_err(|e| {
                Failure::usage(format!(
                    "--templates {}: {e}; give a directory of *.tera files",
                    dir.display()
                ))
            })?;
            if found.is_empty() {
                return Err(Failure::usage(format!(
                    "--templates {}: no *.tera files in it; copy templates/ from e2b-bench as a start",
                    dir.display()
                )));
            }
            for (name, text) in found {
                match sources.iter_mut().find(|(n, _)| *n == name) {
                    Some(slot) => slot.1 = text,
                    None => sources.push((name, text)),
                }
            }
        }
        Ok(Templates { sources })
    }

    /// A Tera instance for `exporter`: every template parsed, autoescaping
    /// on for its root template's suffix with its escape function.
    pub fn engine(&self, exporter: &dyn Exporter) -> Result<Tera, Failure> {
        let mut tera = Tera::default();
        // `report.html.tera` → `.html.tera`: the root template decides
        // the escaping of everything it includes.
        let root = exporter.template();
        let suffix: &'static str = root.find('.').map_or(root, |i| &root[i..]);
        tera.autoescape_on(vec![suffix]);
        tera.set_escape_fn(exporter.escape());
        tera.add_raw_templates(self.sources.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| Failure::usage(format!("templates: {}", chain(&e))))?;
        if tera.get_template(exporter.template()).is_err() {
            return Err(Failure::usage(format!(
                "templates: no {} (the {} report's template)",
                exporter.template(),
                exporter.name()
            )));
        }
        Ok(tera)
    }
}

/// Renders `report` with `exporter`'s template.
pub fn render(tera: &Tera, exporter: &dyn Exporter, report: &Report) -> Result<String, Failure> {
    let context = tera::Context::from_serialize(report)
        .map_err(|e| Failure::runtime(format!("report model: {}", chain(&e))))?;
    tera.render(exporter.template(), &context)
        .map_err(|e| Failure::usage(format!("template {}: {}", exporter.template(), chain(&e))))
}

/// A Tera error with its causes on one line (Tera puts the useful part,
/// the line and what is wrong, in the source chain).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    parts.dedup();
    parts.join(": ").replace('\n', " ")
}

fn collect_tera_files(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, String)>,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if path.is_dir() {
            collect_tera_files(root, &path, out)?;
        } else if path.extension().is_some_and(|x| x == "tera") {
            let name = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            let text = std::fs::read_to_string(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            out.push((name, text));
        }
    }
    Ok(())
}
