//! Settings from the environment: [`env_or`] and [`env_opt`] read one variable with a
//! default, and [`ConfigError`] says why a setting cannot be used. Every settings type of the
//! runtime and of the services reads through these, so that an unset or empty variable always
//! means "the default" and a bad one is always named with its value.

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
        path: std::path::PathBuf,
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

/// Reads an environment variable, falling back to `default` when unset or empty.
pub fn env_or<T>(name: &str, default: T) -> Result<T, ConfigError>
where
    T: std::str::FromStr,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    Ok(env_opt(name)?.unwrap_or(default))
}

/// Reads an optional environment variable: `None` when unset or empty.
pub fn env_opt<T>(name: &str) -> Result<Option<T>, ConfigError>
where
    T: std::str::FromStr,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unparseable_variable_names_itself_its_value_and_why() {
        // A name no other test (or the environment) sets.
        let name = "SHARED_EVENTS_CONFIG_TEST_PORT";
        std::env::set_var(name, " eighty ");
        let error = env_or(name, 80u16).unwrap_err();
        std::env::remove_var(name);
        let ConfigError::Invalid { name: n, value, .. } = &error else {
            panic!("not Invalid: {error:?}");
        };
        assert_eq!((n.as_str(), value.as_str()), (name, " eighty "));
        assert_eq!(
            error.to_string(),
            format!("environment variable {name}=\" eighty \" is invalid")
        );
        let cause = std::error::Error::source(&error).expect("the parse error is the source");
        assert_eq!(cause.to_string(), "invalid digit found in string");
        assert_eq!(env_or(name, 80u16).unwrap(), 80, "unset: the default");
    }
}
