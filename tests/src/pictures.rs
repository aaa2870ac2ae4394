//! Pictures for upload tests.

use std::io::Cursor;

/// A PNG of noise (it does not compress, so its size is what it looks like).
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state & 0xff) as u8
    };
    let picture = image::RgbImage::from_fn(width, height, |_, _| image::Rgb([noise(), noise(), noise()]));
    let mut out = Cursor::new(Vec::new());
    picture.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A 640×480 JPEG whose EXIF block carries a GPS position (an APP1 segment
/// right after the start marker, as cameras write it) and the text
/// `GPSMARKER`, to look for afterwards.
pub fn jpeg_with_gps() -> Vec<u8> {
    let mut plain = Cursor::new(Vec::new());
    image::RgbImage::from_fn(640, 480, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 40]))
        .write_to(&mut plain, image::ImageFormat::Jpeg)
        .unwrap();
    let plain = plain.into_inner();
    // TIFF header, IFD0 with one entry (GPSInfo → IFD at 26), the GPS IFD
    // with GPSLatitudeRef = "N".
    let mut tiff: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend([0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    tiff.extend([0, 1, 0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(tiff);
    app1.extend(b"GPSMARKER-47.6062N-122.3321W");
    let mut out = plain[..2].to_vec();
    out.extend([0xff, 0xe1]);
    out.extend(u16::try_from(app1.len() + 2).unwrap().to_be_bytes());
    out.extend(app1);
    out.extend(&plain[2..]);
    out
}

/// Whether `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
