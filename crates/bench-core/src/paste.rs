//! The paste frame: a result document printed between BEGIN/END marker lines
//! (`bench-sandbox --paste`) so a person can copy it out of a terminal, and
//! the reverse (`bench-report import`), which says precisely what went wrong
//! with a copy that was cut short or mangled on the way.
//!
//! ```text
//! -----BEGIN E2B-BENCH RESULT v1 bytes=1234 sha256=9f86d0…-----
//! { …the pretty-printed document… }
//! -----END E2B-BENCH RESULT-----
//! ```
//!
//! `bytes` and `sha256` describe the document with every whitespace
//! character outside JSON strings removed. Terminals re-wrap lines, turn
//! `\n` into `\r\n`, indent and pad with spaces; none of that changes a JSON
//! document, so none of it changes the digest, while any change to a value,
//! a name or a string does.
//!
//! ```
//! use bench_core::paste::{frame, unframe};
//!
//! let text = frame("{\n  \"a\": [1, 2]\n}\n");
//! // Terminals wrap lines and use CRLF; the digest ignores that.
//! let copied = text.replace('\n', "\r\n").replace("[1, 2]", "[1,\r\n 2]");
//! assert_eq!(unframe(&copied).unwrap().json, "{\r\n  \"a\": [1,\r\n 2]\r\n}\r\n");
//! // A changed value is caught.
//! assert!(unframe(&text.replace("2]", "3]")).is_err());
//! ```

use ring::digest::{SHA256, digest};

/// Start of the BEGIN marker line.
pub const BEGIN: &str = "-----BEGIN E2B-BENCH RESULT";
/// The END marker line.
pub const END: &str = "-----END E2B-BENCH RESULT-----";
/// Version of the frame format written in the BEGIN line.
pub const FRAME_VERSION: &str = "v1";

/// `json` framed for a terminal: BEGIN line (with size and digest), the
/// document, END line; always ends with a newline.
pub fn frame(json: &str) -> String {
    let compact = minify(json);
    let mut out = format!(
        "{BEGIN} {FRAME_VERSION} bytes={} sha256={}-----\n",
        compact.len(),
        hex_sha256(compact.as_bytes())
    );
    out.push_str(json);
    if !json.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(END);
    out.push('\n');
    out
}

/// A document taken out of a paste.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unframed {
    /// The JSON text between the markers (or the whole input without them).
    pub json: String,
    /// 1-based line of the input where `json` starts, so parse errors can
    /// point into what the person pasted.
    pub first_line: usize,
    /// True when markers were found and the size and digest matched.
    pub verified: bool,
}

/// What is wrong with a paste.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasteError {
    /// Nothing but whitespace.
    #[error("the paste is empty; copy everything from the BEGIN line to the END line")]
    Empty,
    /// A BEGIN line without an END line: the copy stopped early.
    #[error(
        "truncated: the BEGIN line (line {begin_line}) has no END line after it; the copy stopped {got} of {expected} bytes in — copy again up to and including '{END}'"
    )]
    Truncated {
        /// Line of the BEGIN marker.
        begin_line: usize,
        /// Document bytes (whitespace aside) that arrived.
        got: usize,
        /// Document bytes the BEGIN line announced.
        expected: usize,
    },
    /// An END line without a BEGIN line before it.
    #[error(
        "truncated: the END line (line {end_line}) has no BEGIN line before it; copy again from '{BEGIN} …' on"
    )]
    MissingBegin {
        /// Line of the END marker.
        end_line: usize,
    },
    /// The BEGIN line is not one this version writes.
    #[error("line {line}: the BEGIN line is garbled or from another version ({detail}): {text}")]
    BadBegin {
        /// Line of the BEGIN marker.
        line: usize,
        /// What is wrong with it.
        detail: String,
        /// The line as pasted (shortened).
        text: String,
    },
    /// The frame is complete but the content differs from what was printed.
    #[error(
        "garbled: the document between lines {begin_line} and {end_line} is {got} bytes with sha256 {got_sha}, but the BEGIN line says {expected} bytes with sha256 {expected_sha}{hint}"
    )]
    Garbled {
        /// Line of the BEGIN marker.
        begin_line: usize,
        /// Line of the END marker.
        end_line: usize,
        /// Bytes found (whitespace aside).
        got: usize,
        /// Bytes announced.
        expected: usize,
        /// Digest found.
        got_sha: String,
        /// Digest announced.
        expected_sha: String,
        /// What probably happened.
        hint: String,
    },
    /// More than one framed document.
    #[error("the paste holds {count} documents (BEGIN lines {lines}); import them one at a time")]
    Several {
        /// How many BEGIN lines.
        count: usize,
        /// Their line numbers.
        lines: String,
    },
}

/// Takes the document out of a paste. Text before the BEGIN line and after
/// the END line (a shell prompt, the command) is ignored. Input without any
/// marker is returned whole and unverified: it may be a plain JSON file.
pub fn unframe(input: &str) -> Result<Unframed, PasteError> {
    if input.trim().is_empty() {
        return Err(PasteError::Empty);
    }
    // Line starts (byte offsets) of every marker line; a marker may follow a
    // prompt or indentation on its line.
    let mut begins = Vec::new();
    let mut ends = Vec::new();
    let mut offset = 0;
    for (index, line) in input.split_inclusive('\n').enumerate() {
        if let Some(at) = line.find(BEGIN) {
            begins.push((
                index + 1,
                offset,
                offset + line.len(),
                line[at..].trim_end(),
            ));
        } else if line.contains(END) {
            ends.push((index + 1, offset));
        }
        offset += line.len();
    }
    if begins.len() > 1 {
        let lines: Vec<String> = begins.iter().map(|b| b.0.to_string()).collect();
        return Err(PasteError::Several {
            count: begins.len(),
            lines: lines.join(", "),
        });
    }
    let Some(&(begin_line, _, body_start, begin_text)) = begins.first() else {
        if let Some(&(end_line, _)) = ends.first() {
            return Err(PasteError::MissingBegin { end_line });
        }
        return Ok(Unframed {
            json: input.to_owned(),
            first_line: 1,
            verified: false,
        });
    };
    let (expected, expected_sha) =
        parse_begin(begin_text).map_err(|detail| PasteError::BadBegin {
            line: begin_line,
            detail,
            text: shorten(begin_text),
        })?;
    let Some(&(end_line, body_end)) = ends.iter().find(|e| e.0 > begin_line) else {
        return Err(PasteError::Truncated {
            begin_line,
            got: minify(&input[body_start..]).len(),
            expected,
        });
    };
    let json = &input[body_start..body_end];
    let compact = minify(json);
    let got_sha = hex_sha256(compact.as_bytes());
    if compact.len() != expected || got_sha != expected_sha {
        let hint = if compact.len() < expected {
            "; part of the document is missing (a line lost in the copy?)"
        } else if compact.len() > expected {
            "; something was added (a prompt or another command's output inside the frame?)"
        } else {
            "; characters were changed on the way (a terminal or editor replacing quotes or digits?)"
        };
        return Err(PasteError::Garbled {
            begin_line,
            end_line,
            got: compact.len(),
            expected,
            got_sha,
            expected_sha,
            hint: hint.to_owned(),
        });
    }
    Ok(Unframed {
        json: json.to_owned(),
        first_line: begin_line + 1,
        verified: true,
    })
}

/// `bytes` and `sha256` of a BEGIN line.
fn parse_begin(line: &str) -> Result<(usize, String), String> {
    let rest = line[BEGIN.len()..]
        .trim()
        .strip_suffix("-----")
        .ok_or("it does not end with '-----'")?;
    let mut fields = rest.split_whitespace();
    match fields.next() {
        Some(FRAME_VERSION) => {}
        Some(other) => {
            return Err(format!(
                "frame version '{other}', expected '{FRAME_VERSION}'"
            ));
        }
        None => return Err("no frame version".into()),
    }
    let (mut bytes, mut sha) = (None, None);
    for field in fields {
        match field.split_once('=') {
            Some(("bytes", v)) => {
                bytes = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("bytes='{v}' is not a number"))?,
                )
            }
            Some(("sha256", v)) if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) => {
                sha = Some(v.to_ascii_lowercase())
            }
            Some(("sha256", v)) => {
                return Err(format!("sha256='{}' is not 64 hex digits", shorten(v)));
            }
            _ => return Err(format!("unexpected field '{}'", shorten(field))),
        }
    }
    match (bytes, sha) {
        (Some(b), Some(s)) => Ok((b, s)),
        _ => Err("bytes= or sha256= is missing".into()),
    }
}

/// `json` without whitespace outside strings (what the digest covers).
/// Inside strings nothing is removed; a raw line break inside a string is
/// not valid JSON and is left for the parser to report.
pub fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    digest(&SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn shorten(text: &str) -> String {
    const MAX: usize = 80;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "{\n  \"tool\": \"bench-sandbox\",\n  \"note\": \"a b\\\" c\",\n  \"raw\": [1.5, 2, 3]\n}\n";

    #[test]
    fn round_trip_and_terminal_damage_that_does_not_matter() {
        let framed = frame(DOC);
        let out = unframe(&framed).unwrap();
        assert_eq!(
            (out.json.as_str(), out.first_line, out.verified),
            (DOC, 2, true)
        );
        // A prompt before, the next prompt after, CRLF, indentation, re-wrapping.
        let copied = format!(
            "user@sandbox:~$ ./bench-sandbox run --paste\r\n  {}user@sandbox:~$ \n",
            framed
                .replace('\n', "\r\n")
                .replace("[1.5, 2, 3]", "[1.5,\r\n    2,   3]")
        );
        let out = unframe(&copied).unwrap();
        assert!(out.verified);
        assert_eq!(out.first_line, 3);
        assert_eq!(minify(&out.json), minify(DOC));
    }

    #[test]
    fn whitespace_inside_strings_counts() {
        let framed = frame(DOC);
        let err = unframe(&framed.replace("a b", "a  b")).unwrap_err();
        assert!(
            matches!(
                err,
                PasteError::Garbled {
                    got: 58,
                    expected: 57,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("something was added"), "{err}");
    }

    #[test]
    fn truncated_and_garbled_are_told_apart() {
        let framed = frame(DOC);
        // Cut inside the document, after the BEGIN line.
        let begin_len = framed.find('\n').unwrap() + 1;
        let cut = &framed[..begin_len + 30];
        let err = unframe(cut).unwrap_err();
        assert!(
            matches!(err, PasteError::Truncated { begin_line: 1, .. }),
            "{err}"
        );
        assert!(err.to_string().starts_with("truncated:"), "{err}");

        let lost_line: String = framed
            .lines()
            .filter(|l| !l.contains("\"note\""))
            .map(|l| format!("{l}\n"))
            .collect();
        let err = unframe(&lost_line).unwrap_err();
        assert!(
            err.to_string().contains("part of the document is missing"),
            "{err}"
        );

        let changed = framed.replace("1.5", "1.6");
        let err = unframe(&changed).unwrap_err();
        assert!(err.to_string().starts_with("garbled:"), "{err}");
        assert!(err.to_string().contains("characters were changed"), "{err}");

        let no_begin = framed.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert!(matches!(
            unframe(&no_begin).unwrap_err(),
            PasteError::MissingBegin { end_line: 6 }
        ));
    }

    #[test]
    fn bad_begin_lines_several_frames_and_no_frame() {
        let framed = frame(DOC);
        for (from, to, says) in [
            (" v1 ", " v9 ", "frame version 'v9'"),
            ("sha256=", "sha256=zz", "not 64 hex digits"),
            ("bytes=", "bytes=x", "is not a number"),
        ] {
            let err = unframe(&framed.replacen(from, to, 1)).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("line 1: the BEGIN line is garbled"),
                "{err}"
            );
            assert!(err.to_string().contains(says), "{err}");
        }
        let two = format!("{framed}{framed}");
        assert_eq!(
            unframe(&two).unwrap_err().to_string(),
            "the paste holds 2 documents (BEGIN lines 1, 8); import them one at a time"
        );
        let plain = unframe(DOC).unwrap();
        assert_eq!((plain.json.as_str(), plain.verified), (DOC, false));
        assert_eq!(unframe(" \n\t").unwrap_err(), PasteError::Empty);
    }

    #[test]
    fn digest_is_sha256_of_the_minified_text() {
        // sha256("{}") from coreutils' sha256sum.
        let framed = frame("{ }");
        assert!(
            framed.starts_with(
                "-----BEGIN E2B-BENCH RESULT v1 bytes=2 sha256=44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a-----\n"
            ),
            "{framed}"
        );
        assert_eq!(
            minify("{ \"a b\" : [ 1 , \"\\\" x\" ] }"),
            "{\"a b\":[1,\"\\\" x\"]}"
        );
    }
}
