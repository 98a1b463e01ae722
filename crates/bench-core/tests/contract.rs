//! Every name of `bench_core::contract` is written down where it belongs:
//! an `IN_CONTRACT` name in the contract (`../shared/docs/contract.md`, as
//! docs/ link it), a `DOCUMENTED` name in the repository's docs/*.md. A name
//! counts only as a whole backticked span (`` `disk.iops` ``), so a prefix
//! or a name inside prose does not pass.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bench_core::contract::{file, metric, suite};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text of every backticked span of `markdown`.
fn spans(markdown: &str) -> BTreeSet<String> {
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn missing<'a>(names: &[&'a str], spans: &BTreeSet<String>) -> Vec<&'a str> {
    names
        .iter()
        .copied()
        .filter(|n| !spans.contains(*n))
        .collect()
}

#[test]
fn documented_names_are_in_the_docs() {
    let mut all = BTreeSet::new();
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            all.extend(spans(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    for (group, names) in [
        ("file", file::DOCUMENTED),
        ("suite", suite::DOCUMENTED),
        ("metric", metric::DOCUMENTED),
    ] {
        let gone = missing(names, &all);
        assert!(gone.is_empty(), "{group} names in no docs/*.md: {gone:?}");
    }
}

#[test]
fn contract_names_are_in_the_contract() {
    let path = root().join("../shared/docs/contract.md");
    let Ok(text) = std::fs::read_to_string(&path) else {
        // The contract lives beside the checkout, not in it.
        eprintln!("skipped: {} not found", path.display());
        return;
    };
    let all = spans(&text);
    for (group, names) in [
        ("file", file::IN_CONTRACT),
        ("suite", suite::IN_CONTRACT),
        ("metric", metric::IN_CONTRACT),
    ] {
        let gone = missing(names, &all);
        assert!(
            gone.is_empty(),
            "{group} names not in contract.md: {gone:?}"
        );
    }
}

#[test]
fn names_are_unique_within_a_group() {
    for names in [
        [file::IN_CONTRACT, file::DOCUMENTED].concat(),
        [suite::IN_CONTRACT, suite::DOCUMENTED].concat(),
        [metric::IN_CONTRACT, metric::DOCUMENTED].concat(),
    ] {
        let unique: BTreeSet<&str> = names.iter().copied().collect();
        assert_eq!(unique.len(), names.len(), "{names:?}");
    }
}

#[test]
fn metric_names_follow_the_contract_form() {
    // "Metric names are dot-separated, lower case".
    for name in [metric::IN_CONTRACT, metric::DOCUMENTED].concat() {
        assert!(
            name.contains('.')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c)),
            "{name}"
        );
    }
}
