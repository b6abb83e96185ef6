//! Evidence files for the tests: small files of each accepted type, and
//! multipart uploads built by hand so every byte is under the test's
//! control.

use std::io::Write;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Reply, TestApp};

/// A JPEG-signed file of `len` filler bytes, different for each `seed`.
pub fn jpeg(seed: u8, len: usize) -> Vec<u8> {
    let mut bytes = vec![
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0,
    ];
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes.extend([0xFF, 0xD9]);
    bytes
}

/// A real, decodable PNG of `width`×`height` (a gradient with stripes,
/// shaded by `seed`), for pages that show the photo.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // no filter
        for x in 0..width {
            let stripe = if (x / 24 + y / 24) % 2 == 0 { 0 } else { 40 };
            raw.extend([
                (60 + x * 120 / width) as u8,
                (90 + y * 100 / height) as u8 ^ seed,
                (160 - stripe) as u8,
            ]);
        }
    }
    // zlib with stored (uncompressed) deflate blocks.
    let mut zlib = vec![0x78, 0x01];
    for (i, block) in raw.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= raw.len();
        zlib.push(u8::from(last));
        let len = block.len() as u16;
        zlib.extend(len.to_le_bytes());
        zlib.extend((!len).to_le_bytes());
        zlib.extend(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend(((b << 16) | a).to_be_bytes());
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &header);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}

pub fn pdf(seed: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n".to_vec();
    bytes.extend((0..20_000).map(|i: u32| (i as u8) ^ seed));
    bytes.extend(b"\n%%EOF\n");
    bytes
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

pub struct Part<'a> {
    pub name: &'a str,
    pub file_name: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub data: Vec<u8>,
}

impl<'a> Part<'a> {
    pub fn text(name: &'a str, value: &str) -> Part<'a> {
        Part {
            name,
            file_name: None,
            content_type: None,
            data: value.as_bytes().to_vec(),
        }
    }

    pub fn file(file_name: &'a str, content_type: &'a str, data: Vec<u8>) -> Part<'a> {
        Part {
            name: "file",
            file_name: Some(file_name),
            content_type: Some(content_type),
            data,
        }
    }
}

pub const BOUNDARY: &str = "----ht-evidence-test-7d9f1c";

pub fn multipart_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

pub fn multipart(parts: &[Part]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        write!(
            body,
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"",
            part.name
        )
        .unwrap();
        if let Some(file_name) = part.file_name {
            write!(body, "; filename=\"{file_name}\"").unwrap();
        }
        body.extend(b"\r\n");
        if let Some(content_type) = part.content_type {
            write!(body, "Content-Type: {content_type}\r\n").unwrap();
        }
        body.extend(b"\r\n");
        body.extend(&part.data);
        body.extend(b"\r\n");
    }
    write!(body, "--{BOUNDARY}--\r\n").unwrap();
    body
}

pub async fn upload(app: &TestApp, token: &str, hazard_id: &str, parts: &[Part<'_>]) -> Reply {
    let path = format!("/api/v1/hazards/{hazard_id}/attachments");
    upload_to(app, token, &path, parts).await
}

/// Uploads a file in `phase` and returns the attachment's JSON.
pub async fn attach(
    app: &TestApp,
    token: &str,
    hazard_id: &str,
    phase: &str,
    data: Vec<u8>,
) -> Value {
    upload(
        app,
        token,
        hazard_id,
        &[
            Part::text("phase", phase),
            Part::file("photo.jpg", "image/jpeg", data),
        ],
    )
    .await
    .expect(201)
    .json
}

/// A download: status, headers and the raw bytes.
pub struct Download {
    pub status: u16,
    pub headers: awc::http::header::HeaderMap,
    pub bytes: Vec<u8>,
}

impl Download {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Downloads `path` (`/api/v1/…`) as `token`, bytes and all.
pub async fn download_from(
    app: &TestApp,
    token: &str,
    path: &str,
    if_none_match: Option<&str>,
) -> Download {
    let mut request = app
        .client
        .get(format!("{}{path}", app.address))
        .insert_header(("Authorization", format!("Bearer {token}")));
    if let Some(tag) = if_none_match {
        request = request.insert_header(("If-None-Match", tag));
    }
    let mut response = request.send().await.unwrap();
    let bytes = response.body().limit(64 * 1024 * 1024).await.unwrap();
    Download {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: bytes.to_vec(),
    }
}

/// Posts a multipart form to `path` as `token`.
pub async fn upload_to(app: &TestApp, token: &str, path: &str, parts: &[Part<'_>]) -> Reply {
    app.post(path)
        .token(token)
        .raw(&multipart_content_type(), multipart(parts))
        .send()
        .await
}
