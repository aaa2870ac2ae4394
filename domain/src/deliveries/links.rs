//! Links that act without a login: the preference centre and one-click
//! unsubscribe in emails, the page where an owner pays a declined plan
//! payment, and the public address of a favourite selfie a push
//! notification shows. Each is an id and an HMAC over it and what the
//! link is for, keyed by a secret the first use makes and every instance
//! shares through the database.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use sha2::Sha256;
use uuid::Uuid;

use crate::{DomainError, DomainResult, Platform, db::entities::signing_key};

/// The signing key's stored name (it signed preference links first).
const LINK_KEY: &str = "preference_links";
/// Bytes of the HMAC kept in a link: 128 bits is plenty against forgery
/// and keeps links short.
const TAG_BYTES: usize = 16;

/// What a signed link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// A household's preference centre (the id is the household's).
    Preferences,
    /// A favourite selfie's photo, public while it stays a favourite.
    FavouriteSelfie,
    /// A plan payment the owner is asked to pay, confirm or move to another card.
    Payment,
}

impl LinkPurpose {
    fn domain(self) -> &'static [u8] {
        match self {
            Self::Preferences => b"preferences:",
            Self::FavouriteSelfie => b"selfie:",
            Self::Payment => b"payment:",
        }
    }
}

/// The key that signs links, made on first use.
pub async fn link_key(platform: &Platform) -> DomainResult<Vec<u8>> {
    if let Some(key) = signing_key::Entity::find_by_id(LINK_KEY).one(&platform.db).await? {
        return decode_key(&key.secret);
    }
    let secret = crate::kernel::tokens::random_token()?;
    let inserted = signing_key::ActiveModel {
        name: Set(LINK_KEY.to_owned()),
        secret: Set(secret),
        created_at: Set(platform.clock.now()),
    }
    .insert(&platform.db)
    .await;
    if let Err(err) = inserted {
        // Another instance made it first: use theirs.
        tracing::debug!(error = %err, "link key made elsewhere");
    }
    let key = signing_key::Entity::find_by_id(LINK_KEY)
        .one(&platform.db)
        .await?
        .ok_or_else(|| DomainError::Unexpected("the link key vanished".into()))?;
    decode_key(&key.secret)
}

fn decode_key(secret: &str) -> DomainResult<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(secret).map_err(|err| DomainError::Unexpected(format!("bad signing key: {err}")))
}

fn tag(key: &[u8], purpose: LinkPurpose, id: Uuid) -> DomainResult<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|err| DomainError::Unexpected(err.to_string()))?;
    mac.update(purpose.domain());
    mac.update(id.as_bytes());
    let mut tag = mac.finalize().into_bytes().to_vec();
    tag.truncate(TAG_BYTES);
    Ok(tag)
}

/// The token of a link to `id` for `purpose`.
pub fn token(key: &[u8], purpose: LinkPurpose, id: Uuid) -> DomainResult<String> {
    let mut bytes = id.as_bytes().to_vec();
    bytes.extend(tag(key, purpose, id)?);
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The id a token for `purpose` names; `NotFound` when it was not signed by
/// us for that purpose (one answer for every bad token).
pub async fn verify(platform: &Platform, purpose: LinkPurpose, token: &str) -> DomainResult<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(token.trim()).map_err(|_| DomainError::NotFound)?;
    if bytes.len() != 16 + TAG_BYTES {
        return Err(DomainError::NotFound);
    }
    let id = Uuid::from_slice(&bytes[..16]).map_err(|_| DomainError::NotFound)?;
    let expected = tag(&link_key(platform).await?, purpose, id)?;
    use subtle::ConstantTimeEq;
    if bool::from(expected.ct_eq(&bytes[16..])) { Ok(id) } else { Err(DomainError::NotFound) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_id_and_depend_on_the_key_and_purpose() {
        let client = Uuid::new_v4();
        let (Ok(a), Ok(b)) =
            (token(b"key-one", LinkPurpose::Preferences, client), token(b"key-two", LinkPurpose::Preferences, client))
        else {
            panic!("tokens");
        };
        assert_ne!(a, b);
        let Ok(other) = token(b"key-one", LinkPurpose::FavouriteSelfie, client) else { panic!("token") };
        assert_ne!(a, other, "a link for one purpose opens nothing else");
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(&a) else { panic!("base64") };
        assert_eq!(&bytes[..16], client.as_bytes());
        assert_eq!(a.len(), 43);
    }
}
