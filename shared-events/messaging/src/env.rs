//! Settings from the environment. Every settings type of the runtime, the service kit and the
//! services reads through an [`Env`]: [`Env::or`] and [`Env::opt`] read one variable with a
//! default, [`Env::secret`] a password from a variable or from the file its `…_FILE` names,
//! and [`ConfigError`] says why a setting cannot be used. An unset or empty variable always
//! means "the default"; a bad one is always named with its value.
//!
//! An [`Env`] reads from a [`Source`]: the process's environment and files
//! ([`Env::process`]), or the variables and files a caller gives ([`Vars`]), which notes every
//! variable and file asked for. That is how a test learns, from the settings types themselves,
//! which variables a service reads (`tests/tests/compose.rs` checks each compose service's
//! environment against them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use secrecy::SecretString;

/// A setting read from the environment that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The variable is set (not empty) but does not parse as the type the setting needs, e.g.
    /// `HTTP_PORT=eighty`. An unset or empty variable is not an error: its default applies.
    #[error("environment variable {name}={value:?} is invalid")]
    Invalid {
        /// The variable's name.
        name: String,
        /// Its value, as set (before trimming).
        value: String,
        /// Why it does not parse.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `NAME_FILE` names a file that cannot be read (missing, or not readable by the service).
    #[error("environment variable {name}={path:?}: cannot read the file")]
    SecretFile {
        /// The variable (`…_FILE`).
        name: String,
        /// The file it names.
        path: PathBuf,
        /// Why it cannot be read.
        #[source]
        source: std::io::Error,
    },
    /// Both `NAME` and `NAME_FILE` are set: which one holds the secret is ambiguous.
    #[error("both {name} and {name}_FILE are set; set one")]
    Ambiguous {
        /// The variable without `_FILE`.
        name: String,
    },
    /// A required secret is not set, and the local stack's default file is not there either.
    #[error("{name} (or {name}_FILE) is required: {hint}")]
    Missing {
        /// The variable.
        name: String,
        /// Where the default would have come from, and how to provide one.
        hint: String,
    },
}

/// Where settings come from: variables, and the files some of them name (a secret's
/// `…_FILE`, the local stack's default credentials).
pub trait Source: Sync {
    /// The value of the variable `name`, if it is set.
    fn var(&self, name: &str) -> Option<String>;
    /// Every variable whose name starts with `prefix`, as (name, value), sorted by name.
    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)>;
    /// The content of the file at `path`.
    fn read_file(&self, path: &Path) -> std::io::Result<String>;
    /// Whether there is a file at `path`.
    fn is_file(&self, path: &Path) -> bool;
}

/// The process's environment variables and the machine's files: what a service reads.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Source for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = std::env::vars()
            .filter(|(name, _)| name.starts_with(prefix))
            .collect();
        vars.sort();
        vars
    }

    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }
}

/// Variables and files given by the caller instead of the process's, which notes every
/// variable (and every prefix of variables) and every file asked for. A file not given is not
/// there: no local stack either. Its `Debug` names the variables and files, never their values
/// (a file may be a password).
#[derive(Default)]
pub struct Vars {
    vars: BTreeMap<String, String>,
    files: BTreeMap<PathBuf, String>,
    asked: Mutex<Asked>,
}

/// What a [`Vars`] was asked for.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The variables read, set or not.
    pub names: BTreeSet<String>,
    /// The prefixes whose variables were all read (`LIBRDKAFKA_`).
    pub prefixes: BTreeSet<String>,
    /// The files read or looked for, there or not.
    pub files: BTreeSet<PathBuf>,
}

impl Asked {
    /// Whether the variable `name` was read, by its name or by a prefix.
    pub fn reads(&self, name: &str) -> bool {
        self.names.contains(name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

impl Vars {
    /// These variables, and no file.
    pub fn new<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Vars
    where
        K: Into<String>,
        V: Into<String>,
    {
        Vars {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            ..Vars::default()
        }
    }

    /// With a file at `path` holding `content`.
    pub fn with_file(mut self, path: impl Into<PathBuf>, content: impl Into<String>) -> Vars {
        self.files.insert(path.into(), content.into());
        self
    }

    /// What was asked for so far.
    pub fn asked(&self) -> Asked {
        self.note(|_| {})
    }

    fn note(&self, f: impl FnOnce(&mut Asked)) -> Asked {
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut asked);
        asked.clone()
    }
}

impl Source for Vars {
    fn var(&self, name: &str) -> Option<String> {
        self.note(|a| {
            a.names.insert(name.to_owned());
        });
        self.vars.get(name).cloned()
    }

    fn vars_with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.note(|a| {
            a.prefixes.insert(prefix.to_owned());
        });
        self.vars
            .iter()
            .filter(|(name, _)| name.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn read_file(&self, path: &Path) -> std::io::Result<String> {
        self.note(|a| {
            a.files.insert(path.to_owned());
        });
        self.files
            .get(path)
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    }

    fn is_file(&self, path: &Path) -> bool {
        self.note(|a| {
            a.files.insert(path.to_owned());
        });
        self.files.contains_key(path)
    }
}

/// Reads settings from a [`Source`].
#[derive(Clone, Copy)]
pub struct Env<'a> {
    source: &'a dyn Source,
}

impl std::fmt::Debug for Vars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vars")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

impl Env<'static> {
    /// The process's environment and files ([`ProcessEnv`]).
    pub fn process() -> Env<'static> {
        Env {
            source: &ProcessEnv,
        }
    }
}

impl<'a> Env<'a> {
    /// Reads from `source`.
    pub fn new(source: &'a dyn Source) -> Env<'a> {
        Env { source }
    }

    /// The variable `name`, falling back to `default` when unset or empty.
    pub fn or<T>(&self, name: &str, default: T) -> Result<T, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        Ok(self.opt(name)?.unwrap_or(default))
    }

    /// The variable `name`, trimmed and parsed: `None` when unset or empty.
    pub fn opt<T>(&self, name: &str) -> Result<Option<T>, ConfigError>
    where
        T: std::str::FromStr,
        T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        match self.source.var(name) {
            Some(v) if !v.trim().is_empty() => {
                v.trim()
                    .parse()
                    .map(Some)
                    .map_err(|e: T::Err| ConfigError::Invalid {
                        name: name.to_owned(),
                        value: v.clone(),
                        source: e.into(),
                    })
            }
            _ => Ok(None),
        }
    }

    /// The secret `name`, from the variable `name` or from the file that `name_FILE` names
    /// (its content without a trailing newline); `None` when neither is set, an error when
    /// both are.
    pub fn secret(&self, name: &str) -> Result<Option<SecretString>, ConfigError> {
        let file_var = format!("{name}_FILE");
        let direct = self.source.var(name).filter(|v| !v.is_empty());
        let file = self.source.var(&file_var).filter(|v| !v.is_empty());
        match (direct, file) {
            (Some(_), Some(_)) => Err(ConfigError::Ambiguous {
                name: name.to_owned(),
            }),
            (Some(v), None) => Ok(Some(SecretString::from(v))),
            (None, Some(path)) => self.secret_file(&file_var, Path::new(&path)).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The secret `name` ([`secret`](Self::secret)), or else the one in the file `default`
    /// (the local stack's); an error naming both when neither is there.
    pub fn secret_or_file(&self, name: &str, default: &Path) -> Result<SecretString, ConfigError> {
        if let Some(secret) = self.secret(name)? {
            return Ok(secret);
        }
        if self.source.is_file(default) {
            return self.secret_file(name, default);
        }
        Err(ConfigError::Missing {
            name: name.to_owned(),
            hint: format!(
                "the local stack's {} does not exist (scripts/stack up makes it)",
                default.display()
            ),
        })
    }

    /// The secret in the file `path` (read for the variable `variable`), without a trailing
    /// newline.
    pub fn secret_file(&self, variable: &str, path: &Path) -> Result<SecretString, ConfigError> {
        let text = self
            .source
            .read_file(path)
            .map_err(|source| ConfigError::SecretFile {
                name: variable.to_owned(),
                path: path.to_owned(),
                source,
            })?;
        Ok(SecretString::from(
            text.trim_end_matches(['\r', '\n']).to_owned(),
        ))
    }

    /// Whether there is a file at `path` (a local stack's default).
    pub fn is_file(&self, path: &Path) -> bool {
        self.source.is_file(path)
    }

    /// Every variable whose name starts with `prefix`, as (name, value), sorted by name.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.source.vars_with_prefix(prefix)
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn an_unparseable_variable_names_itself_its_value_and_why() {
        let vars = Vars::new([("HTTP_PORT", " eighty ")]);
        let env = Env::new(&vars);
        let error = env.or("HTTP_PORT", 80u16).unwrap_err();
        let ConfigError::Invalid { name, value, .. } = &error else {
            panic!("not Invalid: {error:?}");
        };
        assert_eq!((name.as_str(), value.as_str()), ("HTTP_PORT", " eighty "));
        assert_eq!(
            error.to_string(),
            "environment variable HTTP_PORT=\" eighty \" is invalid"
        );
        let cause = std::error::Error::source(&error).expect("the parse error is the source");
        assert_eq!(cause.to_string(), "invalid digit found in string");
        assert_eq!(
            env.or("OTHER_PORT", 80u16).unwrap(),
            80,
            "unset: the default"
        );
        let empty = Vars::new([("HTTP_PORT", " ")]);
        assert_eq!(
            Env::new(&empty).or("HTTP_PORT", 80u16).unwrap(),
            80,
            "empty: the default"
        );
    }

    #[test]
    fn a_secret_comes_from_the_variable_or_its_file_never_both() {
        let file = Path::new("/run/secrets/pw");
        let none = Vars::new::<&str, &str>([]);
        assert!(
            Env::new(&none).secret("PW").unwrap().is_none(),
            "neither set"
        );
        let from_file = Vars::new([("PW_FILE", "/run/secrets/pw")]).with_file(file, "s3cret\n");
        let secret = Env::new(&from_file).secret("PW").unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "s3cret");
        let direct = Vars::new([("PW", "direct")]);
        let secret = Env::new(&direct).secret("PW").unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "direct");
        let both = Vars::new([("PW", "direct"), ("PW_FILE", "/run/secrets/pw")]);
        let error = Env::new(&both).secret("PW").unwrap_err();
        assert!(matches!(error, ConfigError::Ambiguous { .. }), "{error}");
        let missing = Vars::new([("PW_FILE", "/run/secrets/other")]);
        let error = Env::new(&missing).secret("PW").unwrap_err();
        assert!(
            matches!(&error, ConfigError::SecretFile { name, .. } if name == "PW_FILE"),
            "{error}"
        );
    }

    #[test]
    fn without_a_variable_the_default_file_is_read_and_its_absence_named() {
        let default = Path::new("/stack/secrets/kafka-x.password");
        let none = Vars::new::<&str, &str>([]);
        let error = Env::new(&none).secret_or_file("PW", default).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Missing { .. })
                && error.to_string().contains("kafka-x.password"),
            "names the file: {error}"
        );
        let stack = Vars::new::<&str, &str>([]).with_file(default, "pw\n");
        let pw = Env::new(&stack).secret_or_file("PW", default).unwrap();
        assert_eq!(pw.expose_secret(), "pw");
    }

    #[test]
    fn vars_note_every_name_prefix_and_file_asked_for() {
        let vars = Vars::new([("A", "1"), ("LIBRDKAFKA_X", "y")]);
        let env = Env::new(&vars);
        let _ = env.opt::<String>("A");
        let _ = env.opt::<String>("UNSET");
        let _ = env.secret("PW");
        assert_eq!(env.with_prefix("LIBRDKAFKA_").len(), 1);
        assert!(!env.is_file(Path::new("/nothing")));
        let asked = vars.asked();
        let names: Vec<&str> = asked.names.iter().map(String::as_str).collect();
        assert_eq!(names, ["A", "PW", "PW_FILE", "UNSET"]);
        assert!(asked.reads("LIBRDKAFKA_Y") && !asked.reads("B"));
        assert_eq!(asked.files, BTreeSet::from([PathBuf::from("/nothing")]));
    }

    #[test]
    fn vars_debug_names_variables_and_files_but_no_value() {
        let vars = Vars::new([("DATABASE_PASSWORD", "hunter2")]).with_file("/run/pw", "swordfish");
        let shown = format!("{vars:?}");
        assert!(
            shown.contains("DATABASE_PASSWORD") && shown.contains("/run/pw"),
            "{shown}"
        );
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
    }
}
