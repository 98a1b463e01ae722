#!/usr/bin/env python3
"""Summarise the parity lines of scripts/parity/{cpu,memory,disk}.sh.

Input lines: `name ours peer ratio`, `# cv name ours=X% peer=Y% (N rounds)`,
`# rounds name min=R max=R` (the per-round ratios' range), `# best name BUILD`
(which C build was the fastest reference), `# noise name min=R max=R` (the
peer's second run ÷ its first in each round) and `# device name ours=R fio=R`
(device bytes ÷ the bytes each tool's figure implies).
Prints a table with each comparison's target and whether it was met, and
with --markdown FILE writes the same table as Markdown, headed with the date
and the machine, for docs/parity.md. Exit status 0 even when a target is
missed: parity is evidence to read, not a gate on a noisy machine.
"""
import argparse
import datetime
import os
import platform
import re
import subprocess
import sys

# (name pattern, low, high): the targets for ours / peer.
TARGETS = [
    (r"^cpu\.events_per_second\.threads=1\.", 0.95, 1.10),
    # Against the fastest C build (gcc -O2, -O3 -march=native, and the latter
    # with non-temporal stores). The -O2 row has no target: a scalar build with
    # ordinary stores is a floor, not a ceiling.
    (r"^memory\.bandwidth_bytes_per_second\.op=triad\..*\.vs=best$", 0.95, 1.10),
    (r"^disk\.randread_4k_qd32\.iops$", 0.95, 1.05),
    (r"^disk\.read_1m_qd8\.bandwidth_bytes_per_second$", 0.95, 1.05),
]
CV_TARGETS = [(r"^cpu\.events_per_second\.", 3.0)]


def target_for(name, table):
    for pattern, *bounds in table:
        if re.search(pattern, name):
            return bounds
    return None


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    root = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE", "-T", "."], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} × {cpu}, {mem:.0f} GiB, kernel {platform.release()}, filesystem {root or 'unknown'}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--markdown")
    args = parser.parse_args()
    rows, cvs, spans, best, noise, device = [], {}, {}, {}, {}, {}
    for line in open(args.results):
        line = line.strip()
        m = re.match(r"# rounds (\S+) min=([0-9.]+) max=([0-9.]+)", line)
        if m:
            spans[m.group(1)] = f"{float(m.group(2)):.3f}–{float(m.group(3)):.3f}"
            continue
        m = re.match(r"# noise (\S+) min=([0-9.]+) max=([0-9.]+)", line)
        if m:
            noise[m.group(1)] = f"{float(m.group(2)):.3f}–{float(m.group(3)):.3f}"
            continue
        m = re.match(r"# device (\S+) ours=([0-9.]+) fio=([0-9.]+)", line)
        if m:
            device[m.group(1)] = f"{float(m.group(2)):.3f} / {float(m.group(3)):.3f}"
            continue
        m = re.match(r"# best (\S+) (.+)", line)
        if m:
            best[m.group(1) + ".vs=best"] = m.group(2)
            continue
        if line.startswith("# cv "):
            m = re.match(r"# cv (\S+) ours=([0-9.]+)% (\S+)=([0-9.]+)%", line)
            if m:
                cvs[m.group(1)] = (float(m.group(2)), m.group(3), float(m.group(4)))
            continue
        parts = line.split()
        if len(parts) != 4 or line.startswith("#"):
            continue
        name, ours, peer, ratio = parts[0], float(parts[1]), float(parts[2]), float(parts[3])
        rows.append((name, ours, peer, ratio))

    table = []
    for name, ours, peer, ratio in rows:
        target = target_for(name, TARGETS)
        verdict = "" if target is None else ("met" if target[0] <= ratio <= target[1] else "MISSED")
        goal = "" if target is None else f"{target[0]:.2f}–{target[1]:.2f}"
        peer_text = f"{peer:.4g}" + (f" ({best[name]})" if name in best else "")
        table.append((name, f"{ours:.4g}", peer_text, f"{ratio:.3f}", spans.get(name, ""),
                      noise.get(name, ""), device.get(name, ""), goal, verdict))
    for name, (ours_cv, peer_name, peer_cv) in cvs.items():
        limit = target_for(name, CV_TARGETS)
        if limit is None:
            continue
        verdict = "met" if ours_cv <= limit[0] else "MISSED"
        table.append((f"{name} run-to-run CV", f"{ours_cv:.2f}%", f"{peer_cv:.2f}% ({peer_name})", "", "", "", "",
                      f"≤ {limit[0]:.0f}%", verdict))

    header = ("comparison", "ours", "peer", "ours/peer", "rounds min–max", "peer/peer", "device bytes ours/peer",
              "target", "")
    widths = [max(len(str(r[i])) for r in [header] + table) for i in range(len(header))]
    for r in [header] + table:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(f"Measured {datetime.date.today().isoformat()} on {machine()}.\n\n")
            out.write("| " + " | ".join(header) + " |\n")
            out.write("|" + "---|" * len(header) + "\n")
            for r in table:
                out.write("| " + " | ".join(f"`{r[0]}`" if i == 0 else str(c) for i, c in enumerate(r)) + " |\n")
        print(f"parity: table written to {args.markdown}", file=sys.stderr)


if __name__ == "__main__":
    main()
