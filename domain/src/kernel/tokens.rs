//! Opaque random tokens: only their SHA-256 is ever stored.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

use crate::{DomainError, DomainResult};

/// A new random token: 32 bytes from the OS, base64url.
pub fn random_token() -> DomainResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| DomainError::Unexpected(format!("no randomness: {err}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a token: lower-case hex SHA-256.
pub fn token_hash(token: &str) -> String {
    sha256_hex(token.as_bytes())
}

/// Lower-case hex SHA-256 of `bytes` (a token, a stored document).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex HMAC-SHA256 of `message` under `key` (a webhook's signature).
pub fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(message);
    hex(&mac.finalize().into_bytes())
}

/// `bytes` in lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// Compares two secrets in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// A password made of random words-like characters, for first-start
/// administrators and generated accounts: 20 base64url characters (120 bits).
pub fn random_password() -> DomainResult<String> {
    let mut token = random_token()?;
    token.truncate(20);
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_hashes_stable() {
        let (Ok(a), Ok(b)) = (random_token(), random_token()) else { panic!("no randomness") };
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
    }
}
