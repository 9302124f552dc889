//! Where the history is: a SQLite file (a path or `sqlite://PATH`) or a
//! PostgreSQL database (`postgres://…`). Without `--history PATH|URL` and
//! `MAILAUDIT_HISTORY`, it is `$XDG_DATA_HOME/mailaudit/history.sqlite`
//! (`~/.local/share/…` when XDG_DATA_HOME is unset or not absolute, as the
//! XDG Base Directory specification says).

use super::HistoryError;
use std::path::{Path, PathBuf};

/// A history store's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (kept whole, password included; shown
    /// only through [`Location::describe`]).
    Postgres(String),
}

impl Location {
    /// Reads `--history` or `MAILAUDIT_HISTORY`.
    pub fn parse(input: &str) -> Result<Location, HistoryError> {
        let bad = |reason: &str| HistoryError::BadLocation {
            input: redact(input),
            reason: reason.to_string(),
        };
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(bad("it is empty"));
        }
        if trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://") {
            let options: Result<sqlx::postgres::PgConnectOptions, _> = trimmed.parse();
            return match options {
                Ok(_) => Ok(Location::Postgres(trimmed.to_string())),
                Err(error) => Err(bad(&format!("the PostgreSQL URL is malformed ({error})"))),
            };
        }
        if let Some(path) = trimmed
            .strip_prefix("sqlite://")
            .or_else(|| trimmed.strip_prefix("sqlite:"))
        {
            if path.is_empty() || path == ":memory:" {
                return Err(bad("a SQLite history needs a file path"));
            }
            return Ok(Location::Sqlite(PathBuf::from(path)));
        }
        if let Some((scheme, _)) = trimmed.split_once("://") {
            return Err(bad(&format!("the scheme '{scheme}' is not supported")));
        }
        Ok(Location::Sqlite(PathBuf::from(trimmed)))
    }

    /// The default SQLite file: `DATA/mailaudit/history.sqlite`, where DATA
    /// is `xdg_data_home` if absolute, else `home/.local/share`.
    pub fn default_in(
        xdg_data_home: Option<&Path>,
        home: Option<&Path>,
    ) -> Result<Location, HistoryError> {
        let data = match (xdg_data_home, home) {
            (Some(xdg), _) if xdg.is_absolute() => xdg.to_path_buf(),
            (_, Some(home)) if !home.as_os_str().is_empty() => home.join(".local/share"),
            _ => return Err(HistoryError::NoDataDirectory),
        };
        Ok(Location::Sqlite(
            data.join("mailaudit").join("history.sqlite"),
        ))
    }

    /// The default of this process's environment.
    pub fn default_for_user() -> Result<Location, HistoryError> {
        let xdg = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from);
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Location::default_in(xdg.as_deref(), home.as_deref())
    }

    /// The location for messages: the file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(path) => path.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// A URL with its password replaced by `***`.
fn redact(input: &str) -> String {
    let Some((scheme, rest)) = input.split_once("://") else {
        return input.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials.split(':').next().unwrap_or_default();
            let hidden = if credentials.contains(':') {
                ":***"
            } else {
                ""
            };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => input.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_sqlite_and_postgres_urls_are_told_apart() {
        assert_eq!(
            Location::parse("/tmp/h.sqlite").unwrap(),
            Location::Sqlite("/tmp/h.sqlite".into())
        );
        assert_eq!(
            Location::parse("sqlite:///tmp/h.sqlite").unwrap(),
            Location::Sqlite("/tmp/h.sqlite".into())
        );
        assert!(matches!(
            Location::parse("postgres://audit@127.0.0.1:5432/history").unwrap(),
            Location::Postgres(_)
        ));
    }

    #[test]
    fn bad_locations_are_named_without_their_password() {
        let error = Location::parse("mysql://u:secret@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("mysql") && !error.contains("secret"),
            "{error}"
        );
        let error = Location::parse("postgres://u:secret@h:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("malformed") && !error.contains("secret"),
            "{error}"
        );
        assert!(Location::parse("  ").is_err());
    }

    #[test]
    fn the_default_follows_xdg_and_falls_back_to_home() {
        let xdg = Location::default_in(Some(Path::new("/data")), Some(Path::new("/home/a")));
        assert_eq!(
            xdg.unwrap(),
            Location::Sqlite("/data/mailaudit/history.sqlite".into())
        );
        // A relative XDG_DATA_HOME is invalid under the specification.
        let home = Location::default_in(Some(Path::new("rel")), Some(Path::new("/home/a")));
        assert_eq!(
            home.unwrap(),
            Location::Sqlite("/home/a/.local/share/mailaudit/history.sqlite".into())
        );
        assert!(Location::default_in(None, None).is_err());
    }

    #[test]
    fn descriptions_hide_the_password() {
        let location = Location::Postgres("postgres://audit:pw@127.0.0.1/h".into());
        assert_eq!(location.describe(), "postgres://audit:***@127.0.0.1/h");
    }
}
