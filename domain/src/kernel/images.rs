//! Pictures people upload (profile pictures, chat attachments, selfies):
//! the type is read from the bytes, never from the name or header; decoding
//! is bounded; the result is re-encoded, which drops EXIF and GPS.

use std::io::Cursor;

use bytes::Bytes;
use image::{DynamicImage, ImageFormat, ImageReader, Limits, imageops::FilterType};

use crate::{Code, DomainError, DomainResult};

/// The formats accepted.
const ACCEPTED: [ImageFormat; 3] = [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::WebP];

/// A re-encoded picture.
#[derive(Debug, Clone)]
pub struct Jpeg {
    /// The JPEG file.
    pub bytes: Bytes,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// Reads an uploaded picture and returns a square JPEG of `side` pixels,
/// cropped to the centre (avatars).
pub fn square_jpeg(upload: &[u8], side: u32) -> DomainResult<Bytes> {
    let square = decode(upload)?.resize_to_fill(side, side, FilterType::Lanczos3);
    Ok(encode(&square)?.bytes)
}

/// Reads an uploaded picture and returns it as a JPEG no wider or taller
/// than `max_side` (photos sent in chat; smaller ones keep their size).
pub fn bounded_jpeg(upload: &[u8], max_side: u32) -> DomainResult<Jpeg> {
    let picture = decode(upload)?;
    if picture.width() > max_side || picture.height() > max_side {
        return encode(&picture.resize(max_side, max_side, FilterType::Lanczos3));
    }
    encode(&picture)
}

/// Reads an uploaded photo once and returns it bounded by `max_side`, with a
/// square thumbnail of `thumb_side` pixels cropped to its centre (selfies).
pub fn photo_with_thumbnail(upload: &[u8], max_side: u32, thumb_side: u32) -> DomainResult<(Jpeg, Bytes)> {
    let picture = decode(upload)?;
    let thumbnail = encode(&picture.resize_to_fill(thumb_side, thumb_side, FilterType::Triangle))?.bytes;
    let photo = if picture.width() > max_side || picture.height() > max_side {
        encode(&picture.resize(max_side, max_side, FilterType::Lanczos3))?
    } else {
        encode(&picture)?
    };
    Ok((photo, thumbnail))
}

/// Decodes within bounds, after checking the type from the bytes.
fn decode(upload: &[u8]) -> DomainResult<DynamicImage> {
    let unsupported = || DomainError::from(Code::UnsupportedMediaType);
    let format = image::guess_format(upload).map_err(|_| unsupported())?;
    if !ACCEPTED.contains(&format) {
        return Err(unsupported());
    }
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    reader.decode().map_err(|_| DomainError::with(Code::UnreadableImage, "the picture could not be read"))
}

fn encode(picture: &DynamicImage) -> DomainResult<Jpeg> {
    let rgb = picture.to_rgb8();
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&rgb)
        .map_err(DomainError::unexpected)?;
    Ok(Jpeg { bytes: Bytes::from(out.into_inner()), width: rgb.width(), height: rgb.height() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut out = Cursor::new(Vec::new());
        picture.write_to(&mut out, ImageFormat::Png).unwrap_or_default();
        out.into_inner()
    }

    #[test]
    fn pictures_become_square_jpegs_and_anything_else_is_refused() {
        let Ok(jpeg) = square_jpeg(&png(640, 400), 256) else { panic!("a png is accepted") };
        assert_eq!(image::guess_format(&jpeg).ok(), Some(ImageFormat::Jpeg));
        let decoded = image::load_from_memory(&jpeg).map(|p| (p.width(), p.height())).ok();
        assert_eq!(decoded, Some((256, 256)));
        assert!(matches!(
            square_jpeg(b"GIF89a not really", 256),
            Err(DomainError::Failed(Code::UnsupportedMediaType, _))
        ));
        assert!(matches!(square_jpeg(b"just text", 256), Err(DomainError::Failed(Code::UnsupportedMediaType, _))));
        let mut truncated = png(64, 64);
        truncated.truncate(40);
        assert!(square_jpeg(&truncated, 256).is_err());
    }

    #[test]
    fn large_pictures_shrink_to_fit_and_small_ones_keep_their_size() {
        let Ok(large) = bounded_jpeg(&png(3000, 1500), 2048) else { panic!("a png is accepted") };
        assert_eq!((large.width, large.height), (2048, 1024));
        let Ok(small) = bounded_jpeg(&png(300, 200), 2048) else { panic!("a png is accepted") };
        assert_eq!((small.width, small.height), (300, 200));
        assert_eq!(image::guess_format(&small.bytes).ok(), Some(ImageFormat::Jpeg));
    }
}
