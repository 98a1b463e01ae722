//! Progress on stderr: a bar redrawn in place on a terminal, plain
//! `[k/n] step` lines otherwise (CI logs, `2>file`), nothing with `-q`.
//! stdout is never touched: it carries only results.

use std::io::{IsTerminal, Write};

use crate::cli::Verbosity;

const BAR_WIDTH: usize = 24;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Nothing (`-q`).
    Hidden,
    /// One line redrawn in place (stderr is a terminal).
    Bar,
    /// One line per step (stderr is a file or pipe).
    Lines,
}

/// Counts steps of a fixed-size job.
#[derive(Debug)]
pub struct Progress {
    style: Style,
    total: u64,
    done: u64,
}

impl Progress {
    /// A progress display for `total` steps, styled for this stderr.
    pub fn new(total: u64, verbosity: Verbosity) -> Self {
        let style = if verbosity == Verbosity::Quiet {
            Style::Hidden
        } else if std::io::stderr().is_terminal() {
            Style::Bar
        } else {
            Style::Lines
        };
        Self::with_style(total, style)
    }

    /// A progress display with an explicit style.
    pub fn with_style(total: u64, style: Style) -> Self {
        Progress {
            style,
            total: total.max(1),
            done: 0,
        }
    }

    /// Announces the step about to run.
    pub fn start(&mut self, step: &str) {
        let line = self.render(step);
        self.emit(&line);
    }

    /// Marks the current step done.
    pub fn advance(&mut self) {
        self.done = (self.done + 1).min(self.total);
    }

    /// Ends the display (the bar gets its final state and a newline).
    pub fn finish(&mut self) {
        if self.style == Style::Bar {
            let line = self.render("done");
            self.emit(&line);
            eprintln!();
        }
    }

    /// The text shown for a step in the current state.
    pub fn render(&self, step: &str) -> String {
        let position = (self.done + 1).min(self.total);
        match self.style {
            Style::Hidden => String::new(),
            Style::Lines => format!("[{position}/{}] {step}", self.total),
            Style::Bar => {
                let filled = (self.done as usize * BAR_WIDTH) / self.total as usize;
                format!(
                    "\r\x1b[2K[{}{}] {}/{} {step}",
                    "#".repeat(filled),
                    "-".repeat(BAR_WIDTH - filled),
                    self.done,
                    self.total
                )
            }
        }
    }

    fn emit(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        // Progress must never fail the run: a closed stderr is ignored.
        let _ = match self.style {
            Style::Hidden => Ok(()),
            Style::Lines => writeln!(err, "{line}"),
            Style::Bar => write!(err, "{line}").and_then(|()| err.flush()),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_steps() {
        let mut p = Progress::with_style(3, Style::Lines);
        assert_eq!(p.render("cpu"), "[1/3] cpu");
        p.advance();
        assert_eq!(p.render("memory"), "[2/3] memory");
        p.advance();
        p.advance();
        p.advance(); // never past the total
        assert_eq!(p.render("x"), "[3/3] x");
    }

    #[test]
    fn bar_fills_in_proportion() {
        let mut p = Progress::with_style(4, Style::Bar);
        p.advance();
        let line = p.render("disk");
        assert!(line.starts_with("\r\x1b[2K["), "{line:?}");
        assert_eq!(line.matches('#').count(), BAR_WIDTH / 4);
        assert!(line.ends_with("1/4 disk"));
        assert_eq!(Progress::with_style(2, Style::Hidden).render("x"), "");
    }
}
