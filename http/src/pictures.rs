//! Picture uploads and downloads, as the APIs declare them.

use poem_openapi::{ApiRequest, ApiResponse, payload::Binary};

/// A picture upload: JPEG, PNG or WebP (the type is read from the bytes).
#[derive(ApiRequest)]
pub enum PictureUpload {
    /// JPEG.
    #[oai(content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>),
    /// PNG.
    #[oai(content_type = "image/png")]
    Png(Binary<Vec<u8>>),
    /// WebP.
    #[oai(content_type = "image/webp")]
    Webp(Binary<Vec<u8>>),
    /// Any of the above, unlabelled.
    #[oai(content_type = "application/octet-stream")]
    Bytes(Binary<Vec<u8>>),
}

impl PictureUpload {
    /// The uploaded bytes.
    pub fn into_bytes(self) -> bytes::Bytes {
        match self {
            PictureUpload::Jpeg(b) | PictureUpload::Png(b) | PictureUpload::Webp(b) | PictureUpload::Bytes(b) => {
                bytes::Bytes::from(b.0)
            }
        }
    }
}

/// A stored picture.
#[derive(ApiResponse)]
pub enum Picture {
    /// A JPEG.
    #[oai(status = 200, content_type = "image/jpeg")]
    Jpeg(Binary<Vec<u8>>, #[oai(header = "cache-control")] String),
}

impl Picture {
    /// A JPEG only the signed-in caller may keep, for `max_age` seconds.
    pub fn private(bytes: bytes::Bytes, max_age: u32) -> Self {
        Picture::Jpeg(Binary(bytes.to_vec()), format!("private, max-age={max_age}"))
    }
}
