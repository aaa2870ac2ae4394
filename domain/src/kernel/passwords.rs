//! Argon2id password hashing with OWASP's parameters (19 MiB, 2 passes, 1
//! lane). Hashing runs on blocking threads behind a semaphore, so a flood of
//! logins queues instead of starving every other request.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use tokio::sync::Semaphore;

use crate::{Code, DomainError, DomainResult};

const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Hashes and verifies passwords.
#[derive(Clone, Debug)]
pub struct Passwords {
    permits: Arc<Semaphore>,
    /// A hash of nothing in particular, verified when the user is unknown so
    /// that "no such user" takes as long as "wrong password".
    decoy: Arc<str>,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The password is wrong (or there was no user to check against).
    No,
    /// Right, and the stored hash is current.
    Yes,
    /// Right, but hashed with older parameters: store this new hash.
    YesRehashed(String),
}

fn hasher() -> DomainResult<Argon2<'static>> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| DomainError::Unexpected(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_now(password: &str) -> DomainResult<String> {
    let hash = hasher()?
        .hash_password(password.as_bytes())
        .map_err(|e| DomainError::Unexpected(format!("hashing failed: {e}")))?;
    Ok(hash.to_string())
}

fn is_current(phc: &str) -> bool {
    phc.starts_with("$argon2id$v=19$") && phc.contains(&format!("m={MEMORY_KIB},t={PASSES},p={LANES}"))
}

impl Passwords {
    /// At most `parallel` hashes run at once (one per core is plenty).
    pub fn new(parallel: usize) -> DomainResult<Self> {
        Ok(Self {
            permits: Arc::new(Semaphore::new(parallel.max(1))),
            decoy: hash_now("decoy password that nobody has")?.into(),
        })
    }

    async fn bounded<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> DomainResult<T> {
        let _permit = self.permits.acquire().await.map_err(DomainError::unexpected)?;
        tokio::task::spawn_blocking(work).await.map_err(DomainError::unexpected)
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: &str) -> DomainResult<String> {
        let password = password.to_owned();
        self.bounded(move || hash_now(&password)).await?
    }

    /// Checks `password` against `stored`; with no stored hash it checks a
    /// decoy and answers `No`, in the same time.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> DomainResult<Verified> {
        let password = password.to_owned();
        let known = stored.is_some();
        let phc: String = stored.map_or_else(|| self.decoy.to_string(), str::to_owned);
        self.bounded(move || {
            let ok = hasher()?.verify_password(password.as_bytes(), phc.as_str()).is_ok();
            Ok(match (known && ok, is_current(&phc)) {
                (false, _) => Verified::No,
                (true, true) => Verified::Yes,
                (true, false) => Verified::YesRehashed(hash_now(&password)?),
            })
        })
        .await?
    }
}

/// Passwords are at least this long…
pub const MIN_PASSWORD_CHARS: usize = 10;
/// …and at most this long (hashing cost stays bounded).
pub const MAX_PASSWORD_CHARS: usize = 256;

/// NIST SP 800-63B rules, for staff and owners alike: long passphrases
/// welcome, no composition rules; refused when short or easy to guess
/// (zxcvbn, told the person's own words in `personal`).
pub fn check_strength(password: &str, personal: &[&str]) -> DomainResult<()> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(DomainError::with(
            Code::WeakPassword,
            format!("a password has {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    let mut words = vec!["petbridge", "password"];
    words.extend_from_slice(personal);
    let estimate = zxcvbn::zxcvbn(password, &words);
    if estimate.score() < zxcvbn::Score::Three {
        let hint = estimate
            .feedback()
            .and_then(|f| {
                f.warning().map(|w| w.to_string()).or_else(|| f.suggestions().first().map(ToString::to_string))
            })
            .unwrap_or_else(|| "add a few more uncommon words".to_owned());
        return Err(DomainError::with(Code::WeakPassword, format!("that password is too easy to guess: {hint}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_and_rehashes_old_parameters() {
        let Ok(passwords) = Passwords::new(1) else { panic!("no hasher") };
        let Ok(hash) = passwords.hash("correct horse battery staple").await else { panic!("no hash") };
        assert!(hash.starts_with("$argon2id$"));
        assert_eq!(passwords.verify("correct horse battery staple", Some(&hash)).await.ok(), Some(Verified::Yes));
        assert_eq!(passwords.verify("wrong", Some(&hash)).await.ok(), Some(Verified::No));
        assert_eq!(passwords.verify("anything", None).await.ok(), Some(Verified::No));

        let weak =
            Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8 * 1024, 1, 1, None).unwrap_or_default())
                .hash_password(b"pw-old-params")
                .map(|h| h.to_string())
                .unwrap_or_default();
        let verdict = passwords.verify("pw-old-params", Some(&weak)).await.ok();
        assert!(matches!(verdict, Some(Verified::YesRehashed(ref new)) if is_current(new)));
    }
}
