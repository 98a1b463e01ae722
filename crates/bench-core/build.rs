//! Records the Cargo profile this build uses as `BENCH_BUILD_PROFILE`, for
//! `tool.build_profile` in every result document (`src/schema.rs`).
//!
//! Cargo tells neither rustc nor build scripts a custom profile's name
//! (`PROFILE` is only `debug` or `release`, after what the profile inherits),
//! but it names the output directory after it: `OUT_DIR` is
//! `<target>/[<triple>/]<profile dir>/build/bench-core-<hash>/out`, the
//! profile directory being `debug` for `dev` and the profile's name otherwise.
//! The profile directory is taken as the parent of the nearest ancestor named
//! `build`, which holds with or without `--target` and whatever the target
//! directory is called. bench-core is built in the same profile as the binary
//! that links it, so its profile is the binary's.

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let out_dir = std::env::var_os("OUT_DIR").unwrap_or_default();
    let profile = profile_of(Path::new(&out_dir))
        // Not Cargo's layout (another build system): Cargo's coarse answer.
        .or_else(|| std::env::var("PROFILE").ok())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=BENCH_BUILD_PROFILE={profile}");
}

/// The profile name from an `OUT_DIR` path, `None` when it is not Cargo's layout.
fn profile_of(out_dir: &Path) -> Option<String> {
    let build = out_dir
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "build"))?;
    let dir = build.parent()?.file_name()?.to_str()?;
    Some(match dir {
        "debug" => "dev".to_owned(),
        other => other.to_owned(),
    })
}
