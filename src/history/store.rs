//! Opening the history: the SQLite file is created with mode 600 (its
//! directory 700) before SQLite touches it, since it holds mailbox
//! statistics, which are personal data; WAL lets readers work beside a
//! writer, a busy timeout makes concurrent writers wait instead of fail,
//! and `secure_delete` overwrites what `history prune` removes. The tables
//! come from versioned migrations (`migrations/sqlite`, `migrations/postgres`),
//! embedded in the binary and run on every open.

use super::{HistoryError, Location};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::path::Path;
use std::time::Duration;

/// Every SQLite connection: a writer waits up to a minute for another's
/// transaction; foreign keys are enforced; deleted records are overwritten.
const SQLITE_PRAGMAS: &str =
    "PRAGMA busy_timeout = 60000; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;";

/// The migrations of one backend, oldest first. A released file is never
/// edited (sqlx checks its checksum); a change is a new file.
const SQLITE: [(i64, &str, &str); 3] = [
    (
        1,
        "history",
        include_str!("../../migrations/sqlite/0001_history.sql"),
    ),
    (
        2,
        "dashboard",
        include_str!("../../migrations/sqlite/0002_dashboard.sql"),
    ),
    (
        3,
        "latest",
        include_str!("../../migrations/sqlite/0003_latest.sql"),
    ),
];
const POSTGRES: [(i64, &str, &str); 3] = [
    (
        1,
        "history",
        include_str!("../../migrations/postgres/0001_history.sql"),
    ),
    (
        2,
        "dashboard",
        include_str!("../../migrations/postgres/0002_dashboard.sql"),
    ),
    (
        3,
        "latest",
        include_str!("../../migrations/postgres/0003_latest.sql"),
    ),
];

/// The table sqlx records applied migrations in: named for mailaudit, so a
/// PostgreSQL database shared with another sqlx application keeps apart.
const MIGRATIONS_TABLE: &str = "mailaudit_history_migrations";

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// An open history store.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    pub(crate) location: String,
    /// The kill test's pause inside a write ([`Store::pause_inside_write`]).
    pub(crate) pause_inside_write: Option<(std::path::PathBuf, Duration)>,
}

impl Store {
    /// Opens (and for SQLite creates) the store and brings its tables up
    /// to date.
    pub async fn open(location: &Location) -> Result<Store, HistoryError> {
        sqlx::any::install_default_drivers();
        let described = location.describe();
        let connect = |error| HistoryError::Connect {
            location: described.clone(),
            error,
        };
        let (options, backend) = match location {
            Location::Sqlite(path) => {
                create_private(path)?;
                let url = sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .to_url_lossy();
                (
                    AnyConnectOptions::from_url(&url).map_err(connect)?,
                    Backend::Sqlite,
                )
            }
            Location::Postgres(url) => (
                url.parse::<AnyConnectOptions>().map_err(connect)?,
                Backend::Postgres,
            ),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            // Also how long an unreachable server is retried before the
            // command gives up (sqlx retries a refused connection).
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        connection.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(connect)?;
        let store = Store {
            pool,
            backend,
            location: described,
            pause_inside_write: None,
        };
        store.prepare().await?;
        super::index::backfill(&store).await?;
        Ok(store)
    }

    /// The store's location, without a password.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Which database holds the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// WAL (SQLite) and the migrations. Two processes opening a new store
    /// at once may both try the first migration; the loser's transaction
    /// fails and rolls back, and its retry finds the tables there.
    async fn prepare(&self) -> Result<(), HistoryError> {
        if self.backend == Backend::Sqlite {
            // Persistent in the file; switching needs a moment without
            // other connections, so it is retried like the migrations.
            let mut attempt = 0;
            loop {
                match self.pool.execute("PRAGMA journal_mode = WAL").await {
                    Ok(_) => break,
                    Err(_) if attempt < 50 => {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => return Err(self.query_error("switching to WAL", error)),
                }
            }
        }
        let mut migrator = Migrator::with_migrations(
            match self.backend {
                Backend::Sqlite => &SQLITE[..],
                Backend::Postgres => &POSTGRES[..],
            }
            .iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    (*description).into(),
                    MigrationType::Simple,
                    sqlx::SqlSafeStr::into_sql_str(*sql),
                    false,
                )
            })
            .collect(),
        );
        migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
        let mut attempt = 0;
        loop {
            match migrator.run(&self.pool).await {
                Ok(()) => return Ok(()),
                Err(_) if attempt < 5 => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
                }
                Err(error) => {
                    return Err(HistoryError::Migrate {
                        location: self.location.clone(),
                        error,
                    });
                }
            }
        }
    }

    /// A failed query, named by what it was doing.
    pub(crate) fn query_error(&self, what: &'static str, error: sqlx::Error) -> HistoryError {
        HistoryError::Query {
            location: self.location.clone(),
            what,
            error,
        }
    }
}

/// Creates the SQLite file with mode 600 (and its directory with 700) if
/// it does not exist; an existing file keeps the mode its owner gave it.
fn create_private(path: &Path) -> Result<(), HistoryError> {
    let failed = |error| HistoryError::Create {
        path: path.display().to_string(),
        error,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(parent).map_err(failed)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop).map_err(failed)
}
