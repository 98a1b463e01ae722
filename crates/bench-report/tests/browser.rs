//! report.html in a real browser: headless Chromium loads the page from
//! disk, its DOM has every chart, and the screenshot shows them (the clouds'
//! bar colours are on the rendered pixels).
//!
//! Chromium comes from `E2B_BENCH_CHROMIUM` or PATH (`chromium`, Debian's
//! package, which scripts/test.sh installs); without it the test is
//! skipped, unless `E2B_BENCH_REQUIRE_SERVICES=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use support::fixtures::{self, ClientSpec, CloudSpec};
use support::{report, run};

fn chromium() -> Option<PathBuf> {
    support::tool(
        &["chromium", "chromium-browser", "google-chrome"],
        "E2B_BENCH_CHROMIUM",
        "apt-get install chromium",
    )
}

/// Runs headless Chromium on `page` with `args`, killing it after a minute;
/// returns its stdout.
fn headless(exe: &Path, profile: &Path, page: &Path, args: &[String]) -> String {
    let out_file = profile.with_extension("stdout");
    let mut child = Command::new(exe)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    // A hang guard only: chromium on a loaded machine is slow, not stuck.
    let status = bench_testkit::e2e::wait_or_kill(&mut child, "chromium");
    assert!(status.success(), "chromium exited with {status}");
    std::fs::read_to_string(&out_file).unwrap()
}

/// Pixels of colour `rgb` (within 12 on every channel) that are the corner
/// of a solid 8 × 8 square of it: the inside of chart bars and boxes, not
/// text, 4-pixel card borders or thin lines.
fn solid_area(pixels: &[u8], width: usize, channels: usize, rgb: [u8; 3]) -> usize {
    let height = pixels.len() / channels / width;
    let is = |x: usize, y: usize| {
        let p = &pixels[(y * width + x) * channels..][..3];
        (0..3).all(|i| p[i].abs_diff(rgb[i]) <= 12)
    };
    let mut n = 0;
    for y in 0..height.saturating_sub(8) {
        for x in 0..width.saturating_sub(8) {
            if is(x, y) && is(x + 7, y) && is(x, y + 7) && is(x + 7, y + 7) && is(x + 3, y + 4) {
                n += 1;
            }
        }
    }
    n
}

#[test]
fn chromium_loads_the_report_and_draws_its_charts() {
    let Some(exe) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (root, out) = (dir.path().join("outputs"), dir.path().join("reports"));
    fixtures::write_cloud(&root, &CloudSpec::small("aws", 1.0, 1));
    fixtures::write_cloud(&root, &CloudSpec::small("gcp", 0.85, 2));
    fixtures::write_cloud(
        &root,
        &CloudSpec {
            hostile: true,
            ..CloudSpec::small("azure", 1.2, 3)
        },
    );
    // A concurrency sweep on two clouds: its chart is an SVG too.
    fixtures::write_sweep(
        &root,
        &CloudSpec::small("aws", 1.0, 1),
        &ClientSpec::saturating_at(4),
    );
    fixtures::write_sweep(
        &root,
        &CloudSpec::small("gcp", 0.85, 2),
        &ClientSpec::saturating_at(2),
    );
    let (code, _, stderr) = run(report(&root).arg("render").arg("--output-dir").arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    let charts_in_file = html.matches("<svg ").count();

    // The DOM after loading: the page parsed, every chart is an SVG element
    // the browser built, and no hostile string became an element.
    let dom = headless(
        &exe,
        &dir.path().join("p1"),
        &page,
        &["--dump-dom".to_owned()],
    );
    assert!(dom.contains("<h1>E2B cluster benchmark</h1>"), "{dom:.400}");
    assert!(dom.contains("<footer>"), "the whole page loaded");
    assert_eq!(dom.matches("<svg ").count(), charts_in_file);
    assert!(charts_in_file >= 10, "{charts_in_file}");
    for id in [
        "chart-start-latency",
        "chart-phases",
        "chart-host-disk-latency-us",
        "chart-concurrency-base-burst",
        "chart-client-pause-resume",
    ] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(!dom.contains("<script"), "no script element in the DOM");

    // The screenshot of the first 4000 pixels of the page.
    let shot = dir.path().join("shot.png");
    headless(
        &exe,
        &dir.path().join("p2"),
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,4000".to_owned(),
        ],
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (1280, 4000));
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let pixels = &pixels[..info.buffer_size()];
    let white = solid_area(pixels, 1280, channels, [255, 255, 255]);
    let total = pixels.len() / channels;
    assert!(
        white < total * 95 / 100,
        "the page is not blank ({white}/{total} white)"
    );
    // Tableau blue, orange and red: aws (the baseline), azure and gcp. The
    // first bar charts (host CPU, memory) are in the window; each cloud's
    // bars there cover thousands of pixels, its swatches and card border
    // (not solid 8 × 8) almost none.
    for (name, rgb) in [
        ("aws", [0x4e, 0x79, 0xa7]),
        ("azure", [0xf2, 0x8e, 0x2b]),
        ("gcp", [0xe1, 0x57, 0x59]),
    ] {
        let n = solid_area(pixels, 1280, channels, rgb);
        eprintln!("{name}: {n} pixels");
        assert!(n > 3000, "{name}'s colour fills only {n} pixels of bars");
    }
}
