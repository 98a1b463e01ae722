//! `--format table`: the inventory as aligned plain-text tables.

use std::fmt::Write;

use bench_core::contract::metric;
use bench_core::schema::ResultDocument;

use super::Inventory;

/// Every section: builds, caches, the audit (with a database), read bandwidth
/// (with `--read`) and errors.
pub fn render(doc: &ResultDocument, inv: &Inventory) -> String {
    let mut out = String::new();
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    let rows: Vec<Vec<String>> = inv
        .templates
        .iter()
        .map(|b| {
            vec![
                b.build_id.clone(),
                dash(&b.template_id),
                match (&b.alias_of, b.status) {
                    (Some(target), "alias") => format!("alias → {target}"),
                    _ => b.status.to_owned(),
                },
                dash(&b.kernel_version),
                dash(&b.firecracker_version),
                dash(&b.envd_version),
                b.metadata_format.unwrap_or("-").to_owned(),
                b.rootfs_bytes.map_or_else(|| "-".to_owned(), bytes),
                b.rootfs_allocated_bytes
                    .map_or_else(|| "-".to_owned(), bytes),
                dash(&b.reason),
            ]
        })
        .collect();
    let _ = writeln!(out, "Template builds ({})", inv.templates.len());
    table(
        &mut out,
        &[
            "BUILD",
            "TEMPLATE",
            "STATUS",
            "KERNEL",
            "FIRECRACKER",
            "ENVD",
            "METADATA",
            "ROOTFS",
            "ALLOCATED",
            "REASON",
        ],
        &rows,
    );
    let rows: Vec<Vec<String>> = inv
        .caches
        .iter()
        .map(|c| {
            if c.present {
                vec![
                    c.name.to_owned(),
                    bytes(c.bytes),
                    bytes(c.allocated_bytes),
                    c.files.to_string(),
                ]
            } else {
                vec![c.name.to_owned(), "absent".into(), "-".into(), "-".into()]
            }
        })
        .collect();
    let _ = writeln!(out, "\nCaches");
    table(&mut out, &["CACHE", "BYTES", "ALLOCATED", "FILES"], &rows);
    if let Some(audit) = &inv.audit {
        let _ = writeln!(
            out,
            "\nAudit against the database ({} findings)",
            audit.len()
        );
        let rows: Vec<Vec<String>> = audit
            .iter()
            .map(|f| {
                vec![
                    f.kind.to_owned(),
                    dash(&f.template_id),
                    f.build_id.clone(),
                    f.detail.clone(),
                ]
            })
            .collect();
        table(&mut out, &["KIND", "TEMPLATE", "BUILD", "DETAIL"], &rows);
    }
    let reads: Vec<Vec<String>> = doc
        .samples
        .iter()
        .filter(|s| s.metric == metric::TEMPLATES_ROOTFS_READ_BANDWIDTH)
        .map(|s| {
            let l = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
            vec![
                l("build_id"),
                l("template_id"),
                l("cache"),
                format!("{}/s", bytes(s.value as u64)),
            ]
        })
        .collect();
    if !reads.is_empty() {
        let _ = writeln!(out, "\nRootfs sequential read");
        table(
            &mut out,
            &["BUILD", "TEMPLATE", "CACHE", "BANDWIDTH"],
            &reads,
        );
    }
    if !doc.errors.is_empty() {
        let _ = writeln!(out, "\nErrors");
        for e in &doc.errors {
            let _ = writeln!(out, "  {} {}: {}", e.probe, e.kind.as_str(), e.message);
        }
    }
    out
}

/// Columns padded to their widest cell; `(none)` for no rows.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        let _ = writeln!(out, "  (none)");
        return;
    }
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut String, cells: Vec<&str>| {
        let mut text = String::from(" ");
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            text.push(' ');
            text.push_str(cell);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(w - cell.chars().count() + 1));
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(out, header.to_vec());
    for row in rows {
        line(out, row.iter().map(String::as_str).collect());
    }
}

/// `1.50 GiB` style sizes (binary units), exact below 1 KiB.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.2} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(1 << 30), "1.00 GiB");
    }
}
