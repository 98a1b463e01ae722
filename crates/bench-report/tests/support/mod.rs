//! Shared by bench-report's integration tests: the fixture generator, the
//! binary, and a strict CSV reader.

#![allow(dead_code)]

pub mod fixtures;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A tool the tests need: `env_var` when set, else the first of `names` on
/// PATH. `None` (the caller skips, saying why) when absent, but a failure
/// when `E2B_BENCH_REQUIRE_SERVICES=1` (scripts/test.sh sets it).
pub fn tool(names: &[&str], env_var: &str, install: &str) -> Option<PathBuf> {
    let found = std::env::var_os(env_var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let path = std::env::var_os("PATH")?;
            std::env::split_paths(&path)
                .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                .find(|p| p.is_file())
        });
    if found.is_none() {
        let why = format!(
            "{} not found ({env_var} unset, not on PATH); {install}",
            names[0]
        );
        assert!(
            std::env::var("E2B_BENCH_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "E2B_BENCH_REQUIRE_SERVICES=1 but {why}"
        );
        eprintln!("skipped: {why}");
    }
    found
}

/// Writes `doc` as `<root>/<cloud>/<file>`, as a tier would have.
pub fn put(root: &Path, cloud: &str, file: &str, doc: &bench_core::schema::ResultDocument) {
    let dir = root.join(cloud);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(file), serde_json::to_vec(doc).unwrap()).unwrap();
}

/// A CSV field as a number.
pub fn num(field: &str) -> f64 {
    field
        .parse()
        .unwrap_or_else(|e| panic!("{field:?} is not a number: {e}"))
}

/// The rows of a `report.csv` as maps from header to field; every row has
/// the 18 fields of the header.
pub fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let rows = parse_csv(text);
    let header = rows[0].clone();
    assert_eq!(header.len(), 18, "{header:?}");
    rows[1..]
        .iter()
        .map(|r| {
            assert_eq!(r.len(), header.len(), "{r:?}");
            header.iter().cloned().zip(r.iter().cloned()).collect()
        })
        .collect()
}

/// `render --format csv` of `root` into `out` (exit 0 required): the rows.
pub fn render_csv(root: &Path, out: &Path) -> Vec<BTreeMap<String, String>> {
    let (code, _, stderr) = run(report(root)
        .args(["render", "--format", "csv", "--output-dir"])
        .arg(out));
    assert_eq!(code, 0, "{stderr}");
    csv_rows(&std::fs::read_to_string(out.join("report.csv")).unwrap())
}

/// `bench-report --input <input> ARGS...`.
pub fn report(input: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bench-report"));
    cmd.arg("--input").arg(input);
    cmd
}

/// Runs `cmd`, asserting it did not panic; returns (exit code, stdout, stderr).
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out: Output = cmd.output().expect("bench-report runs");
    let stdout = String::from_utf8(out.stdout).expect("stdout is UTF-8");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Parses RFC 4180 CSV strictly: quoted fields may hold commas, quotes
/// (doubled) and line breaks; anything else malformed panics.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    quoted = false;
                    assert!(
                        matches!(chars.peek(), None | Some(',' | '\n')),
                        "text after a closing quote in {field:?}"
                    );
                }
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '"' => panic!("a quote inside an unquoted field: {field:?}"),
            ',' => {
                row.push(std::mem::take(&mut field));
                at_start = true;
            }
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            c => {
                field.push(c);
                at_start = false;
            }
        }
    }
    assert!(!quoted, "unterminated quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}
