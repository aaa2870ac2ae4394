//! Petbridge's model and rules. No HTTP lives here: the API crates parse and
//! authenticate, then call a service with the caller's [`Scope`].

pub mod caches;
pub mod entities;
pub mod error;
pub mod platform;
pub mod ports;
pub mod services;
pub mod types;

pub use error::{Code, DomainError, DomainResult, Kind};
pub use platform::Platform;
pub use sea_orm;
pub use types::{Actor, Cursor, Origin, Page, Scope};

/// Checks over the workspace's own sources.
#[cfg(test)]
pub(crate) mod workspace {
    /// The Rust sources of the workspace's `crates`, concatenated.
    pub(crate) fn sources(crates: &[&str]) -> String {
        fn walk(dir: &std::path::Path, out: &mut String) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut text = String::new();
        for krate in crates {
            walk(&root.join(krate).join("src"), &mut text);
        }
        text
    }

    /// Services choose their connections: the crates that serve requests and
    /// deliveries never name the database, so no handler picks a connection
    /// or opens a transaction for a service.
    #[test]
    fn no_crate_above_the_domain_touches_the_database() {
        for krate in ["http", "dashboard", "mobile-api", "workers"] {
            let text = sources(&[krate]);
            for needle in ["platform.db", "platform.writer", ".begin_write("] {
                assert!(!text.contains(needle), "{krate} names {needle}: call a service instead");
            }
        }
    }
}
