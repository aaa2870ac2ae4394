//! Files (selfies, attachments, profile pictures): a local directory in the
//! embedded mode, S3-compatible object storage in production. Both through
//! the `object_store` crate, so the two adapters behave alike.

use std::sync::Arc;

use bytes::Bytes;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path};

use crate::{Code, DomainError, DomainResult};

/// Where an S3-compatible bucket is and how to reach it.
#[derive(Clone)]
pub struct S3Location {
    /// The bucket name.
    pub bucket: String,
    /// The region (any value for most S3-compatible servers).
    pub region: String,
    /// The endpoint, for S3-compatible servers; `None` means AWS.
    pub endpoint: Option<String>,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Location")
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[redacted]")
            .finish()
    }
}

/// Stores and fetches files by key (`practice/<id>/selfies/<id>.jpg`).
#[derive(Clone, Debug)]
pub struct Storage {
    store: Arc<dyn ObjectStore>,
}

impl Storage {
    /// Files under a local directory, created if missing.
    pub fn local(dir: &std::path::Path) -> DomainResult<Self> {
        std::fs::create_dir_all(dir).map_err(DomainError::unexpected)?;
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir).map_err(DomainError::unexpected)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// Files in an S3-compatible bucket.
    pub fn s3(location: &S3Location) -> DomainResult<Self> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&location.bucket)
            .with_region(&location.region)
            .with_access_key_id(&location.access_key_id)
            .with_secret_access_key(&location.secret_access_key);
        if let Some(endpoint) = &location.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(DomainError::unexpected)?;
        Ok(Self { store: Arc::new(store) })
    }

    /// Writes `bytes` at `key`, replacing what was there.
    pub async fn put(&self, key: &str, bytes: Bytes) -> DomainResult<()> {
        self.store.put(&parse_key(key)?, PutPayload::from(bytes)).await.map_err(DomainError::unexpected)?;
        Ok(())
    }

    /// Reads the file at `key`; a missing file is `NotFound`.
    pub async fn get(&self, key: &str) -> DomainResult<Bytes> {
        match self.store.get(&parse_key(key)?).await {
            Ok(found) => found.bytes().await.map_err(DomainError::unexpected),
            Err(object_store::Error::NotFound { .. }) => Err(DomainError::NotFound),
            Err(err) => Err(DomainError::unexpected(err)),
        }
    }

    /// Removes the file at `key`; removing a missing file is not an error.
    pub async fn delete(&self, key: &str) -> DomainResult<()> {
        match self.store.delete(&parse_key(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(DomainError::unexpected(err)),
        }
    }
}

/// Keys are made by services, never taken from users as they are; this
/// still refuses anything that could step outside the store.
fn parse_key(key: &str) -> DomainResult<Path> {
    if key.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err(DomainError::with(Code::InvalidStorageKey, "bad storage key"));
    }
    Path::parse(key).map_err(|_| DomainError::with(Code::InvalidStorageKey, "bad storage key"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn local_storage_round_trips_and_refuses_escapes() {
        let dir = tempfile::tempdir().map_err(DomainError::unexpected);
        let Ok(dir) = dir else { panic!("no temp dir") };
        let Ok(storage) = Storage::local(dir.path()) else { panic!("no storage") };
        assert!(storage.put("a/b.txt", Bytes::from_static(b"hi")).await.is_ok());
        assert_eq!(storage.get("a/b.txt").await.ok(), Some(Bytes::from_static(b"hi")));
        assert!(storage.delete("a/b.txt").await.is_ok());
        assert!(matches!(storage.get("a/b.txt").await, Err(DomainError::NotFound)));
        assert!(storage.put("../x", Bytes::new()).await.is_err());
    }
}
