//! Loads `.e2b_env`: the shell file users also `source`.
//!
//! Accepted, line by line (the subset of POSIX shell that such files use):
//! blank lines; `# comments`; `KEY=value` with an optional `export ` prefix;
//! values bare (backslash escapes the next character), in 'single quotes'
//! (literal), or in "double quotes" (`\"`, `\\`, `\$`, `` \` `` escapes);
//! `$NAME` and `${NAME}` expanded in bare and double-quoted values, as
//! `source` would; a trailing `# comment` after a value. Anything else —
//! spaces around `=`, an unterminated quote, `$(…)` — is an error naming the
//! file and line, because guessing what a shell would do is how a benchmark
//! ends up pointed at the wrong cluster.
//!
//! A variable set in the process environment wins over the file
//! ([`Environment::get`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name looked up in the working directory when `--env-file` is not given.
pub const DEFAULT_FILE_NAME: &str = ".e2b_env";

/// A problem with an env file. Display is one line: `file:line: what; fix`.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a valid assignment.
    #[error("{path}:{line}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong and how to write it.
        message: String,
    },
}

/// The variables of one env file, in file order (later lines win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Assignments after quote processing and expansion.
    pub vars: BTreeMap<String, String>,
}

impl EnvFile {
    /// Reads and parses a file. `lookup` resolves `$NAME` for names the file
    /// has not defined yet (normally the process environment).
    pub fn load(
        path: &Path,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, EnvFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| EnvFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text, lookup)
    }

    /// Parses file contents (`path` is only used in error messages).
    pub fn parse(
        path: &Path,
        text: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, EnvFileError> {
        let mut vars = BTreeMap::new();
        for (index, raw) in text.lines().enumerate() {
            let syntax = |message: String| EnvFileError::Syntax {
                path: path.to_owned(),
                line: index + 1,
                message,
            };
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let line = line
                .strip_prefix("export")
                .filter(|rest| rest.starts_with([' ', '\t']))
                .map_or(line, str::trim_start);
            let (key, value) = split_assignment(line).map_err(syntax)?;
            // A process variable wins over the file, so it is also what a
            // later `$KEY` in the file expands to.
            let resolve = |name: &str| lookup(name).or_else(|| vars.get(name).cloned());
            let value = parse_value(value, &resolve).map_err(syntax)?;
            vars.insert(key.to_owned(), value);
        }
        Ok(EnvFile {
            path: path.to_owned(),
            vars,
        })
    }
}

fn split_assignment(line: &str) -> Result<(&str, &str), String> {
    let Some(eq) = line.find('=') else {
        return Err(format!(
            "expected KEY=value, found '{}'; write e.g. export E2B_DOMAIN=example.com",
            truncate(line)
        ));
    };
    let key = &line[..eq];
    if key.ends_with([' ', '\t']) || line[eq + 1..].starts_with([' ', '\t']) {
        return Err(format!(
            "spaces around '=' in '{}'; write KEY=value with no spaces (as the shell requires)",
            truncate(line)
        ));
    }
    let valid = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "'{}' is not a variable name; use letters, digits and '_', not starting with a digit",
            truncate(key)
        ));
    }
    Ok((key, &line[eq + 1..]))
}

fn truncate(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Quote processing and `$NAME` expansion of the text after `=`.
fn parse_value(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = input.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => {
                        return Err("unterminated single quote; close it on the same line".into());
                    }
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(c @ ('"' | '\\' | '$' | '`')) => out.push(c),
                        Some(c) => {
                            out.push('\\');
                            out.push(c);
                        }
                        None => {
                            return Err(
                                "unterminated double quote; close it on the same line".into()
                            );
                        }
                    },
                    Some('$') => expand(&mut chars, &mut out, lookup)?,
                    Some('`') => {
                        return Err(
                            "command substitution (`…`) is not supported; write the value itself"
                                .into(),
                        );
                    }
                    Some(c) => out.push(c),
                    None => {
                        return Err("unterminated double quote; close it on the same line".into());
                    }
                }
            },
            '\\' => match chars.next() {
                Some(c) => out.push(c),
                None => {
                    return Err("a trailing backslash (line continuation) is not supported".into());
                }
            },
            '$' => expand(&mut chars, &mut out, lookup)?,
            '`' => {
                return Err(
                    "command substitution (`…`) is not supported; write the value itself".into(),
                );
            }
            c if c == ' ' || c == '\t' => {
                let rest: String = chars.collect();
                let rest = rest.trim_start();
                if rest.is_empty() || rest.starts_with('#') {
                    break;
                }
                return Err(format!(
                    "unquoted space in value before '{}'; quote the value: KEY=\"a b\"",
                    truncate(rest)
                ));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Expands `$NAME` or `${NAME}` (the `$` already consumed). Unknown names
/// expand to nothing, as in the shell.
fn expand(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut String,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), String> {
    let mut name = String::new();
    match chars.peek() {
        Some('{') => {
            chars.next();
            loop {
                match chars.next() {
                    Some('}') => break,
                    Some(c) if c.is_ascii_alphanumeric() || c == '_' => name.push(c),
                    Some(c) => {
                        return Err(format!(
                            "'${{…{c}' is not supported; only ${{NAME}} expansion is"
                        ));
                    }
                    None => return Err("unterminated ${…}".into()),
                }
            }
        }
        Some('(') => {
            return Err(
                "command substitution $(…) is not supported; write the value itself".into(),
            );
        }
        _ => {
            while let Some(&c) = chars.peek() {
                if c.is_ascii_alphanumeric() || c == '_' {
                    name.push(c);
                    chars.next();
                } else {
                    break;
                }
            }
        }
    }
    if name.is_empty() {
        out.push('$');
    } else if let Some(value) = lookup(&name) {
        out.push_str(&value);
    }
    Ok(())
}

/// The effective configuration: the process environment over an env file.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    file: Option<EnvFile>,
    process: BTreeMap<String, String>,
}

impl Environment {
    /// Loads `explicit` (must exist) or, when `None`, `.e2b_env` in the
    /// working directory if there is one; the process environment is
    /// captured now. Secret-looking values of both are registered with the
    /// redactor.
    pub fn load(explicit: Option<&Path>) -> Result<Self, EnvFileError> {
        let process: BTreeMap<String, String> = std::env::vars().collect();
        let path = match explicit {
            Some(p) => Some(p.to_owned()),
            None => Some(PathBuf::from(DEFAULT_FILE_NAME)).filter(|p| p.is_file()),
        };
        let file = match path {
            Some(path) => Some(EnvFile::load(&path, &|name| process.get(name).cloned())?),
            None => None,
        };
        Ok(Self::from_parts(file, process))
    }

    /// Builds an environment from parts (tests, or a caller with its own env).
    pub fn from_parts(file: Option<EnvFile>, process: BTreeMap<String, String>) -> Self {
        let env = Environment { file, process };
        crate::redact::register_env_secrets(env.iter());
        env
    }

    /// The value of `key`: the process environment first, then the file.
    /// Empty values count as unset.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.process
            .get(key)
            .or_else(|| self.file.as_ref().and_then(|f| f.vars.get(key)))
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The env file that was read, if any.
    pub fn file_path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.path.as_path())
    }

    /// Every variable, process values shadowing file values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let file_only = self
            .file
            .iter()
            .flat_map(|f| f.vars.iter())
            .filter(|(k, _)| !self.process.contains_key(*k));
        self.process
            .iter()
            .chain(file_only)
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
        let lookup = |name: &str| (name == "HOME").then(|| "/root".to_owned());
        EnvFile::parse(Path::new(".e2b_env"), text, &lookup)
            .map(|f| f.vars)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_what_the_template_and_users_write() {
        let vars = parse(
            "# comment\n\
             \n\
             export E2B_DOMAIN=e2b.example.com\n\
             E2B_API_KEY='e2b_abc#not-a-comment'   # trailing comment\n\
             export E2B_TEMPLATES=\"base,code-interpreter\"\r\n\
             E2B_API_URL=\"https://api.${E2B_DOMAIN}\"\n\
             CACHE=$HOME/.cache\n\
             EMPTY=\n\
             QUOTE=\"say \\\"hi\\\" \\$5\"\n\
             \texport   INDENTED=1\n\
             ESCAPED=a\\ b\n\
             LITERAL='$HOME'\n",
        )
        .unwrap();
        assert_eq!(vars["E2B_DOMAIN"], "e2b.example.com");
        assert_eq!(vars["E2B_API_KEY"], "e2b_abc#not-a-comment");
        assert_eq!(vars["E2B_TEMPLATES"], "base,code-interpreter");
        assert_eq!(vars["E2B_API_URL"], "https://api.e2b.example.com");
        assert_eq!(vars["CACHE"], "/root/.cache");
        assert_eq!(vars["EMPTY"], "");
        assert_eq!(vars["QUOTE"], "say \"hi\" $5");
        assert_eq!(vars["INDENTED"], "1");
        assert_eq!(vars["ESCAPED"], "a b");
        assert_eq!(vars["LITERAL"], "$HOME");
    }

    #[test]
    fn malformed_lines_name_file_and_line() {
        let cases = [
            ("A=1\nnot an assignment\n", ".e2b_env:2: expected KEY=value"),
            ("A = 1\n", ".e2b_env:1: spaces around '='"),
            ("A='open\n", ".e2b_env:1: unterminated single quote"),
            ("A=\"open\n", ".e2b_env:1: unterminated double quote"),
            ("1A=x\n", ".e2b_env:1: '1A' is not a variable name"),
            ("A=$(whoami)\n", ".e2b_env:1: command substitution"),
            ("A=two words\n", ".e2b_env:1: unquoted space"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(expected), "{text:?}: got {err}");
            assert!(!err.contains('\n'), "one line: {err}");
        }
    }

    #[test]
    fn process_environment_wins_and_feeds_expansion() {
        let process: BTreeMap<String, String> =
            [("E2B_DOMAIN".to_owned(), "from-process.dev".to_owned())].into();
        let lookup = |name: &str| process.get(name).cloned();
        let file = EnvFile::parse(
            Path::new("x"),
            "E2B_DOMAIN=from-file.dev\nE2B_API_URL=https://api.$E2B_DOMAIN\nCLOUD_PROVIDER=gcp\n",
            &lookup,
        )
        .unwrap();
        let env = Environment::from_parts(Some(file), process.clone());
        assert_eq!(env.get("E2B_DOMAIN"), Some("from-process.dev"));
        assert_eq!(env.get("E2B_API_URL"), Some("https://api.from-process.dev"));
        assert_eq!(env.get("CLOUD_PROVIDER"), Some("gcp"));
        assert_eq!(env.get("MISSING"), None);
        assert_eq!(env.iter().filter(|(k, _)| *k == "E2B_DOMAIN").count(), 1);
    }

    #[test]
    fn secrets_from_the_file_are_registered_for_redaction() {
        let file = EnvFile::parse(
            Path::new("x"),
            "export E2B_API_KEY=zq-file-api-key-1\n",
            &|_| None,
        )
        .unwrap();
        let _env = Environment::from_parts(Some(file), BTreeMap::new());
        assert_eq!(
            crate::redact::redact_str("key is zq-file-api-key-1"),
            "key is ***"
        );
    }

    /// Every key of the contract's "Configuration" section is in the template,
    /// and the template itself parses.
    #[test]
    fn template_parses_and_documents_every_contract_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.e2b_env.template");
        let text = std::fs::read_to_string(&path).unwrap();
        EnvFile::parse(&path, &text, &|_| None).unwrap();
        for key in [
            "E2B_API_KEY",
            "E2B_DOMAIN",
            "E2B_API_URL",
            "E2B_SANDBOX_URL",
            "E2B_TEMPLATES",
            "CLOUD_PROVIDER",
            "STORAGE_URL",
            "S3_BUCKET",
            "E2B_STORAGE_DIR",
            "DATABASE_URL",
        ] {
            assert!(
                text.contains(&format!("export {key}=")),
                "{key} missing from the template"
            );
        }
    }

    #[test]
    fn missing_explicit_file_is_an_error() {
        let err = Environment::load(Some(Path::new("/nonexistent/.e2b_env"))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/.e2b_env: cannot read")
        );
    }
}
