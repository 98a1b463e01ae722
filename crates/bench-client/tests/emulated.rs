//! Against the emulator, which names itself in an answer header, every file
//! bench-client writes records it: `parameters.emulator` in each result
//! document and `emulator` in the summary. bench-report badges such a cloud
//! "emulated".

mod support;

use serde_json::Value;
use support::*;

#[test]
fn every_file_of_a_run_against_the_emulator_names_it() {
    let sim = quick_sim();
    let ran = Client::new(&sim)
        .args(["run", "--quick", "--skip", "sandbox"])
        .run_code(0);
    let written = files(&ran.out_dir());
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
        .collect();
    for expected in [
        "01_cold_start.json",
        "01_warm_start.json",
        "02_concurrency.json",
        "02_pause_resume.json",
        "summary_report.json",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    for path in &written {
        let value: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let recorded = if value.get("schema_version").is_some() {
            &value["parameters"]["emulator"]
        } else {
            &value["emulator"]
        };
        assert_eq!(
            recorded.as_str(),
            Some(e2b_sim::IDENTITY),
            "{}",
            path.display()
        );
    }
}
