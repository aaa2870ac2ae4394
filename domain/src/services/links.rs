//! Links in emails that act without a login (the preference centre, one-click
//! unsubscribe): the household id and an HMAC over it, keyed by a secret the
//! first use makes and every instance shares through the database.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use sha2::Sha256;
use uuid::Uuid;

use crate::{DomainError, DomainResult, Platform, entities::signing_key};

const PREFERENCE_KEY: &str = "preference_links";
/// Bytes of the HMAC kept in a link: 128 bits is plenty against forgery
/// and keeps links short.
const TAG_BYTES: usize = 16;

/// The key that signs preference links, made on first use.
pub async fn preference_key(platform: &Platform) -> DomainResult<Vec<u8>> {
    if let Some(key) = signing_key::Entity::find_by_id(PREFERENCE_KEY).one(&platform.db).await? {
        return decode_key(&key.secret);
    }
    let secret = super::tokens::random_token()?;
    let inserted = signing_key::ActiveModel {
        name: Set(PREFERENCE_KEY.to_owned()),
        secret: Set(secret),
        created_at: Set(platform.clock.now()),
    }
    .insert(&platform.db)
    .await;
    if let Err(err) = inserted {
        // Another instance made it first: use theirs.
        tracing::debug!(error = %err, "preference key made elsewhere");
    }
    let key = signing_key::Entity::find_by_id(PREFERENCE_KEY)
        .one(&platform.db)
        .await?
        .ok_or_else(|| DomainError::Unexpected("the preference key vanished".into()))?;
    decode_key(&key.secret)
}

fn decode_key(secret: &str) -> DomainResult<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(secret).map_err(|err| DomainError::Unexpected(format!("bad signing key: {err}")))
}

fn tag(key: &[u8], client_id: Uuid) -> DomainResult<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|err| DomainError::Unexpected(err.to_string()))?;
    mac.update(b"preferences:");
    mac.update(client_id.as_bytes());
    let mut tag = mac.finalize().into_bytes().to_vec();
    tag.truncate(TAG_BYTES);
    Ok(tag)
}

/// The token of a household's preference links.
pub fn preference_token(key: &[u8], client_id: Uuid) -> DomainResult<String> {
    let mut bytes = client_id.as_bytes().to_vec();
    bytes.extend(tag(key, client_id)?);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The household a preference token names; `NotFound` when it was not
/// signed by us (one answer for every bad token).
pub async fn verify_preference_token(platform: &Platform, token: &str) -> DomainResult<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| DomainError::NotFound)?;
    if bytes.len() != 16 + TAG_BYTES {
        return Err(DomainError::NotFound);
    }
    let client_id = Uuid::from_slice(&bytes[..16]).map_err(|_| DomainError::NotFound)?;
    let expected = tag(&preference_key(platform).await?, client_id)?;
    use subtle::ConstantTimeEq;
    if bool::from(expected.ct_eq(&bytes[16..])) { Ok(client_id) } else { Err(DomainError::NotFound) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_household_and_depend_on_the_key() {
        let client = Uuid::new_v4();
        let (Ok(a), Ok(b)) = (preference_token(b"key-one", client), preference_token(b"key-two", client)) else {
            panic!("tokens");
        };
        assert_ne!(a, b);
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(&a) else { panic!("base64") };
        assert_eq!(&bytes[..16], client.as_bytes());
        assert_eq!(a.len(), 43);
    }
}
