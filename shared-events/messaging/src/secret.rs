//! Secrets from the environment, and where the local stack keeps its own.
//!
//! A secret (a password) is read from `NAME`, or from the file that `NAME_FILE` names, as
//! container secrets are mounted; setting both is an error. Its value is a [`SecretString`]:
//! `Debug` prints it redacted, so a settings struct that holds one can be logged.
//!
//! `scripts/stack up` makes one password per principal under `<repo>/.stack/secrets/` (mode
//! 0600) and one CA at `<repo>/.stack/tls/ca.crt`. [`LocalStack`] names those files, so that a
//! service started on a developer's machine with no variable set finds its own credentials
//! (SPEC §6); anywhere else the variables say where they are.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::env::ConfigError;

/// Reads the secret `name` from `name` or from the file `name_FILE` names (its content without
/// a trailing newline); `None` when neither is set.
pub fn env_secret(name: &str) -> Result<Option<SecretString>, ConfigError> {
    let file_var = format!("{name}_FILE");
    let direct = std::env::var(name).ok().filter(|v| !v.is_empty());
    let file = std::env::var_os(&file_var).filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(ConfigError::Ambiguous {
            name: name.to_owned(),
        }),
        (Some(v), None) => Ok(Some(SecretString::from(v))),
        (None, Some(path)) => read_secret_file(&file_var, Path::new(&path)).map(Some),
        (None, None) => Ok(None),
    }
}

/// The secret in `path` (read for the variable `variable`), without a trailing newline.
pub fn read_secret_file(variable: &str, path: &Path) -> Result<SecretString, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::SecretFile {
        name: variable.to_owned(),
        path: path.to_owned(),
        source,
    })?;
    Ok(SecretString::from(
        text.trim_end_matches(['\r', '\n']).to_owned(),
    ))
}

/// The secret `name` from the environment, or else from the local stack's file `default`; an
/// error naming both when neither is there.
pub fn env_secret_or_file(name: &str, default: &Path) -> Result<SecretString, ConfigError> {
    if let Some(secret) = env_secret(name)? {
        return Ok(secret);
    }
    if default.is_file() {
        return read_secret_file(name, default);
    }
    Err(ConfigError::Missing {
        name: name.to_owned(),
        hint: format!(
            "the local stack's {} does not exist (scripts/stack up makes it)",
            default.display()
        ),
    })
}

/// Where `scripts/stack` keeps the local stack's CA and passwords: `<repo>/.stack`, the
/// repository this crate was built from.
#[derive(Debug, Clone)]
pub struct LocalStack {
    dir: PathBuf,
}

impl Default for LocalStack {
    fn default() -> Self {
        LocalStack {
            // This crate is `<repo>/shared-events/messaging`.
            dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.stack"),
        }
    }
}

impl LocalStack {
    /// The local stack kept in `dir` (a `.stack` directory).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        LocalStack { dir: dir.into() }
    }

    /// The CA that signed the broker's, PostgreSQL's and Redis's certificates.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("tls/ca.crt")
    }

    /// The file of the password `name` (`kafka-orders`, `postgres-billing`, `redis-notification`).
    pub fn password_file(&self, name: &str) -> PathBuf {
        self.dir.join("secrets").join(format!("{name}.password"))
    }

    /// The certificate of the stack's server `name` (`broker`, `postgres`, `redis`), signed by
    /// [`ca_file`](Self::ca_file).
    pub fn server_cert_file(&self, name: &str) -> PathBuf {
        self.dir.join("tls").join(format!("{name}.crt"))
    }

    /// The private key of the stack's server `name`.
    pub fn server_key_file(&self, name: &str) -> PathBuf {
        self.dir.join("tls").join(format!("{name}.key"))
    }

    /// Redis's ACL users (`default` and `notification`, passwords as SHA-256), the file that
    /// `scripts/stack up` writes and every Redis of the stack (and of a test) loads.
    pub fn redis_acl_file(&self) -> PathBuf {
        self.dir.join("redis/users.acl")
    }

    /// The password `name`, read now.
    pub fn password(&self, name: &str) -> Result<SecretString, ConfigError> {
        let path = self.password_file(name);
        read_secret_file(&format!("(local stack) {name}"), &path)
    }

    /// The password `name` for a client of a server on `host`: only when `host` is loopback
    /// (the local stack's servers) and the stack has that password; `None` otherwise, so a
    /// remote server is never sent a local password.
    pub fn password_for_host(
        &self,
        host: &str,
        name: &str,
    ) -> Result<Option<SecretString>, ConfigError> {
        if !is_loopback(host) || !self.password_file(name).is_file() {
            return Ok(None);
        }
        self.password(name).map(Some)
    }
}

/// Whether `host` (a name or an address, IPv6 with or without brackets) is this machine.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_local_stack_is_the_repositorys_own() {
        let repo = LocalStack::default().dir.join("..");
        let manifest = std::fs::read_to_string(repo.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("[workspace]"), "{}", repo.display());
        assert!(repo.join("scripts/stack").is_file(), "{}", repo.display());
    }

    #[test]
    fn a_secret_comes_from_the_variable_or_its_file_never_both() {
        let name = "SHARED_EVENTS_SECRET_TEST";
        let file = std::env::temp_dir().join(format!("secret-test-{}", std::process::id()));
        std::fs::write(&file, "s3cret\n").unwrap();

        assert!(env_secret(name).unwrap().is_none(), "neither set");
        std::env::set_var(format!("{name}_FILE"), &file);
        assert_eq!(env_secret(name).unwrap().unwrap().expose_secret(), "s3cret");
        std::env::set_var(name, "direct");
        let both = env_secret(name).unwrap_err();
        assert!(matches!(both, ConfigError::Ambiguous { .. }), "{both}");
        std::env::remove_var(format!("{name}_FILE"));
        assert_eq!(env_secret(name).unwrap().unwrap().expose_secret(), "direct");
        std::env::remove_var(name);

        std::env::set_var(format!("{name}_FILE"), file.with_extension("missing"));
        let missing = env_secret(name).unwrap_err();
        std::env::remove_var(format!("{name}_FILE"));
        assert!(
            matches!(&missing, ConfigError::SecretFile { name: n, .. } if n == &format!("{name}_FILE")),
            "{missing}"
        );
        std::fs::remove_file(&file).unwrap();
    }

    #[test]
    fn a_secret_is_redacted_in_debug_output() {
        let secret = SecretString::from("hunter2".to_owned());
        assert!(!format!("{secret:?}").contains("hunter2"));
    }

    #[test]
    fn without_a_variable_the_local_stack_file_is_read_and_its_absence_named() {
        let dir = std::env::temp_dir().join(format!("local-stack-{}", std::process::id()));
        let stack = LocalStack::at(&dir);
        let name = "SHARED_EVENTS_SECRET_DEFAULT_TEST";
        let error = env_secret_or_file(name, &stack.password_file("kafka-x")).unwrap_err();
        assert!(
            error.to_string().contains("kafka-x.password"),
            "names the file: {error}"
        );
        std::fs::create_dir_all(dir.join("secrets")).unwrap();
        std::fs::write(stack.password_file("kafka-x"), "pw\n").unwrap();
        let pw = env_secret_or_file(name, &stack.password_file("kafka-x")).unwrap();
        assert_eq!(pw.expose_secret(), "pw");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
