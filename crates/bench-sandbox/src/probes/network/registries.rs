//! Which package registries pip and npm in this sandbox would use, read the
//! way they read it: environment first, then their configuration files in
//! their order of precedence, then their built-in default.
//!
//! pip: `PIP_INDEX_URL`; else `index-url` of the `[global]` or `[install]`
//! section of, from strongest to weakest, `$PIP_CONFIG_FILE`, the user files
//! (`$XDG_CONFIG_HOME/pip/pip.conf` or `~/.config/pip/pip.conf`, then
//! `~/.pip/pip.conf`; skipped when `$PIP_CONFIG_FILE` exists, as pip does),
//! `$VIRTUAL_ENV/pip.conf`, then `/etc/pip.conf` and `/etc/xdg/pip/pip.conf`;
//! else <https://pypi.org/simple/>.
//!
//! npm: `npm_config_registry` / `NPM_CONFIG_REGISTRY`; else `registry=` in
//! the user npmrc (`$NPM_CONFIG_USERCONFIG` or `~/.npmrc`), the global
//! npmrc (`$NPM_CONFIG_GLOBALCONFIG`, else `<prefix>/etc/npmrc` for the
//! prefix of `node` on PATH, `/usr/local`, `/usr`; then Debian's
//! `/etc/npmrc`) and npm's builtin npmrc; else <https://registry.npmjs.org/>.
//! A project `.npmrc` is not read: installs measured here run in fresh
//! directories.

use std::path::{Path, PathBuf};

/// pip's default index.
pub const PYPI: &str = "https://pypi.org/simple/";
/// npm's default registry.
pub const NPMJS: &str = "https://registry.npmjs.org/";

/// A registry and where its address came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    /// `pip` or `npm`.
    pub manager: &'static str,
    /// The index / registry URL as configured (may hold credentials).
    pub url: String,
    /// `env PIP_INDEX_URL`, `/etc/pip.conf [global]`, `default`, …
    pub source: String,
}

/// Looks up an environment variable (empty counts as unset).
pub type Vars<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(vars: Vars<'_>, name: &str) -> Option<String> {
    vars(name).filter(|v| !v.is_empty())
}

fn home(vars: Vars<'_>) -> Option<PathBuf> {
    var(vars, "HOME").map(PathBuf::from)
}

/// pip's configuration files from strongest to weakest.
pub fn pip_config_files(vars: Vars<'_>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let env_file = var(vars, "PIP_CONFIG_FILE").map(PathBuf::from);
    let skip_user = env_file.as_ref().is_some_and(|p| p.exists());
    files.extend(env_file);
    if let Some(venv) = var(vars, "VIRTUAL_ENV") {
        files.push(Path::new(&venv).join("pip.conf"));
    }
    if !skip_user {
        let config_home = var(vars, "XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| home(vars).map(|h| h.join(".config")));
        files.extend(config_home.map(|c| c.join("pip/pip.conf")));
        files.extend(home(vars).map(|h| h.join(".pip/pip.conf")));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    let xdg_dirs = var(vars, "XDG_CONFIG_DIRS").unwrap_or_else(|| "/etc/xdg".to_owned());
    // pip reads these in order, so a later one wins: strongest first here.
    let mut site: Vec<PathBuf> = xdg_dirs
        .split(':')
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join("pip/pip.conf"))
        .collect();
    site.reverse();
    files.extend(site);
    files
}

/// The `index-url` values of a pip.conf's `[global]` and `[install]` sections.
pub fn parse_pip_conf(text: &str) -> PipConf {
    let mut section = String::new();
    let mut global = None;
    let mut install = None;
    let mut last_key: Option<String> = None;
    for raw in text.lines() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        // configparser continuation lines: a value over several lines.
        if raw.starts_with([' ', '\t']) && last_key.is_some() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_owned();
            last_key = None;
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            continue;
        };
        let key = normalize_pip_key(&line[..split]);
        let value = line[split + 1..].trim().to_owned();
        last_key = Some(key.clone());
        if key != "index-url" || value.is_empty() {
            continue;
        }
        match section.as_str() {
            "global" => global = Some(value),
            "install" => install = Some(value),
            _ => {}
        }
    }
    PipConf { global, install }
}

/// What a pip.conf sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PipConf {
    /// `index-url` of `[global]`.
    pub global: Option<String>,
    /// `index-url` of `[install]`.
    pub install: Option<String>,
}

/// pip's key normalization: lower case, `_` → `-`, no leading `--`.
fn normalize_pip_key(key: &str) -> String {
    key.trim()
        .to_ascii_lowercase()
        .replace('_', "-")
        .trim_start_matches("--")
        .to_owned()
}

/// The index pip would use.
pub fn pip_index(vars: Vars<'_>, files: &[PathBuf]) -> Registry {
    let registry = |url: String, source: String| Registry {
        manager: "pip",
        url,
        source,
    };
    if let Some(url) = var(vars, "PIP_INDEX_URL") {
        return registry(url, "env PIP_INDEX_URL".to_owned());
    }
    // pip merges the files first, then lets the command's section
    // ([install]) beat [global]: an [install] value in a weaker file still
    // beats a [global] one in a stronger file.
    let confs: Vec<(&PathBuf, PipConf)> = files
        .iter()
        .filter_map(|f| Some((f, parse_pip_conf(&std::fs::read_to_string(f).ok()?))))
        .collect();
    let install = confs
        .iter()
        .find_map(|(f, c)| Some((f, "install", c.install.clone()?)));
    let global = confs
        .iter()
        .find_map(|(f, c)| Some((f, "global", c.global.clone()?)));
    if let Some((file, section, url)) = install.or(global) {
        return registry(url, format!("{} [{section}]", file.display()));
    }
    registry(PYPI.to_owned(), "default".to_owned())
}

/// npm's configuration files from strongest to weakest.
pub fn npmrc_files(vars: Vars<'_>) -> Vec<PathBuf> {
    let env = |name: &str| var(vars, &name.to_ascii_lowercase()).or_else(|| var(vars, name));
    let mut files = Vec::new();
    match env("NPM_CONFIG_USERCONFIG") {
        Some(path) => files.push(PathBuf::from(path)),
        None => files.extend(home(vars).map(|h| h.join(".npmrc"))),
    }
    let mut prefixes: Vec<PathBuf> = Vec::new();
    if let Some(prefix) = env("NPM_CONFIG_PREFIX") {
        prefixes.push(prefix.into());
    }
    if let Some(path) = var(vars, "PATH") {
        let node_prefix = path
            .split(':')
            .map(|dir| Path::new(dir).join("node"))
            .find(|node| node.is_file())
            .and_then(|node| node.parent()?.parent().map(Path::to_path_buf));
        prefixes.extend(node_prefix);
    }
    prefixes.extend([PathBuf::from("/usr/local"), PathBuf::from("/usr")]);
    prefixes.dedup();
    match env("NPM_CONFIG_GLOBALCONFIG") {
        Some(path) => files.push(PathBuf::from(path)),
        None => {
            files.extend(prefixes.iter().map(|p| p.join("etc/npmrc")));
            files.push(PathBuf::from("/etc/npmrc"));
        }
    }
    files.extend(
        prefixes
            .iter()
            .map(|p| p.join("lib/node_modules/npm/npmrc")),
    );
    files.push(PathBuf::from("/usr/share/nodejs/npm/npmrc"));
    let mut seen = Vec::new();
    files.retain(|f| {
        let new = !seen.contains(f);
        seen.push(f.clone());
        new
    });
    files
}

/// The top-level `registry=` of an npmrc, with `${VAR}` replaced.
pub fn parse_npmrc(text: &str, vars: Vars<'_>) -> Option<String> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            break; // keys under a section are not top-level config
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "registry" {
            continue;
        }
        let mut value = value.trim();
        if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
            value = &value[1..value.len() - 1];
        }
        let value = expand_env(value, vars);
        if !value.is_empty() {
            found = Some(value);
        }
    }
    found
}

/// npm's `${VAR}` substitution (unset variables become empty).
fn expand_env(value: &str, vars: Vars<'_>) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&var(vars, name).unwrap_or_default());
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    out
}

/// The registry npm would use.
pub fn npm_registry(vars: Vars<'_>, files: &[PathBuf]) -> Registry {
    let registry = |url: String, source: String| Registry {
        manager: "npm",
        url,
        source,
    };
    for name in ["npm_config_registry", "NPM_CONFIG_REGISTRY"] {
        if let Some(url) = var(vars, name) {
            return registry(url, format!("env {name}"));
        }
    }
    for file in files {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Some(url) = parse_npmrc(&text, vars)
        {
            return registry(url, file.display().to_string());
        }
    }
    registry(NPMJS.to_owned(), "default".to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pip_conf_install_beats_global() {
        let text = "# comment\n[global]\nindex-url = https://g.example/simple\n\
                    extra-index-url =\n    https://x/one\n    https://x/two\n\n\
                    [install]\nIndex_URL: https://i.example/simple\n";
        assert_eq!(
            parse_pip_conf(text),
            PipConf {
                global: Some("https://g.example/simple".into()),
                install: Some("https://i.example/simple".into()),
            }
        );
        assert_eq!(
            parse_pip_conf("[global]\n--index-url=https://g/\n[freeze]\nindex-url=https://f/\n"),
            PipConf {
                global: Some("https://g/".into()),
                install: None,
            }
        );
        assert_eq!(
            parse_pip_conf("index-url=https://nosection/\n"),
            PipConf::default()
        );
        assert_eq!(
            parse_pip_conf("[global]\ntimeout = 60\n"),
            PipConf::default()
        );
    }

    #[test]
    fn pip_files_follow_pips_precedence() {
        let dir = tempfile::tempdir().unwrap();
        let env_file = dir.path().join("env.conf");
        std::fs::write(&env_file, "[global]\nindex-url=https://env/simple\n").unwrap();
        let v = vars(&[
            ("HOME", "/home/u"),
            ("PIP_CONFIG_FILE", env_file.to_str().unwrap()),
        ]);
        let get = |k: &str| v.get(k).cloned();
        let files = pip_config_files(&get);
        assert_eq!(files[0], env_file);
        // An existing PIP_CONFIG_FILE hides the user files, as in pip.
        assert!(!files.iter().any(|f| f.starts_with("/home/u")));
        assert!(files.contains(&PathBuf::from("/etc/pip.conf")));
        assert!(files.contains(&PathBuf::from("/etc/xdg/pip/pip.conf")));
        let reg = pip_index(&get, &files);
        assert_eq!(reg.url, "https://env/simple");
        assert_eq!(reg.source, format!("{} [global]", env_file.display()));
        // [install] in a weaker file beats [global] in a stronger one.
        let weak = dir.path().join("weak.conf");
        std::fs::write(&weak, "[install]\nindex-url=https://weak/simple\n").unwrap();
        let reg = pip_index(&get, &[env_file.clone(), weak.clone()]);
        assert_eq!(reg.source, format!("{} [install]", weak.display()));

        let v = vars(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/cfg")]);
        let get = |k: &str| v.get(k).cloned();
        let files = pip_config_files(&get);
        assert_eq!(
            files[..2],
            [
                PathBuf::from("/cfg/pip/pip.conf"),
                PathBuf::from("/home/u/.pip/pip.conf")
            ]
        );

        let v = vars(&[("PIP_INDEX_URL", "http://env-var/simple/")]);
        let get = |k: &str| v.get(k).cloned();
        let reg = pip_index(&get, &[env_file]);
        assert_eq!(
            (reg.url.as_str(), reg.source.as_str()),
            ("http://env-var/simple/", "env PIP_INDEX_URL")
        );
        let none = |_: &str| None;
        let reg = pip_index(&none, &[dir.path().join("missing.conf")]);
        assert_eq!((reg.url.as_str(), reg.source.as_str()), (PYPI, "default"));
    }

    #[test]
    fn npmrc_registry_and_env_expansion() {
        let v = vars(&[("HOST", "reg.example")]);
        let get = |k: &str| v.get(k).cloned();
        let text = "; comment\n@scope:registry=https://scoped/\nregistry = https://${HOST}/npm/\n\
                    //reg.example/:_authToken=${TOKEN}\n";
        assert_eq!(
            parse_npmrc(text, &get).as_deref(),
            Some("https://reg.example/npm/")
        );
        assert_eq!(
            parse_npmrc("registry=\"https://q/\"\n", &get).as_deref(),
            Some("https://q/")
        );
        assert_eq!(parse_npmrc("[section]\nregistry=https://s/\n", &get), None);
        assert_eq!(parse_npmrc("registry=\n", &get), None);
    }

    #[test]
    fn npm_env_beats_files_beat_default() {
        let dir = tempfile::tempdir().unwrap();
        let user = dir.path().join("npmrc");
        std::fs::write(&user, "registry=https://user/\n").unwrap();
        let v = vars(&[
            ("HOME", "/home/u"),
            ("NPM_CONFIG_USERCONFIG", user.to_str().unwrap()),
            ("NPM_CONFIG_GLOBALCONFIG", "/g/npmrc"),
            ("PATH", ""),
        ]);
        let get = |k: &str| v.get(k).cloned();
        let files = npmrc_files(&get);
        assert_eq!(files[..2], [user.clone(), PathBuf::from("/g/npmrc")]);
        assert!(!files.contains(&PathBuf::from("/home/u/.npmrc")));
        let reg = npm_registry(&get, &files);
        assert_eq!(reg.url, "https://user/");
        assert_eq!(reg.source, user.display().to_string());

        let v = vars(&[("npm_config_registry", "http://lower/")]);
        let get = |k: &str| v.get(k).cloned();
        let reg = npm_registry(&get, &files);
        assert_eq!(
            (reg.url.as_str(), reg.source.as_str()),
            ("http://lower/", "env npm_config_registry")
        );
        let none = |_: &str| None;
        let reg = npm_registry(&none, &[dir.path().join("missing")]);
        assert_eq!((reg.url.as_str(), reg.source.as_str()), (NPMJS, "default"));
        let files = npmrc_files(&|k: &str| (k == "HOME").then(|| "/h".to_owned()));
        assert_eq!(files[0], PathBuf::from("/h/.npmrc"));
        assert!(files.contains(&PathBuf::from("/usr/local/etc/npmrc")));
        assert!(files.contains(&PathBuf::from("/etc/npmrc")));
    }
}
