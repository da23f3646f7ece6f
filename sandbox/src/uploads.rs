//! Uploads read from the wire: multipart bodies streamed into temporary
//! files (never held whole in memory), checked against the documented size
//! limits and form fields as they are read.
//!
//! The upload body is read before the usual pipeline (faults, auth, rate
//! limits) runs, because that pipeline reads bodies whole; what it leaves is
//! a [`Staged`] upload that becomes a stored file (`crate::files`) only when
//! the request gets through. A staged file is deleted when dropped, so a
//! refused upload leaves nothing behind.

use std::collections::BTreeMap;

use futures_util::TryStreamExt;
use http_body_util::BodyStream;
use hyper::body::Incoming;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::reply::Reply;

/// The documented limits (the upload pages of im/v1, which the checked-in
/// spec knows only from the catalogue): images up to 10 MB, files up to
/// 30 MB, neither empty.
pub(crate) const IMAGE_LIMIT: u64 = 10 * 1024 * 1024;
/// See [`IMAGE_LIMIT`].
pub(crate) const FILE_LIMIT: u64 = 30 * 1024 * 1024;
/// A text field longer than this is refused (they hold a type, a name or
/// a duration).
const TEXT_LIMIT: usize = 4096;
/// More parts than this are refused.
const MAX_PARTS: usize = 16;

/// The documented error codes of the upload endpoints.
pub(crate) const INVALID_PARAM: i64 = 234001;
const TOO_LARGE: i64 = 234006;
const EMPTY_FILE: i64 = 234010;
/// The resource is not one this app uploaded (or not in that message).
pub(crate) const NOT_FOUND: i64 = 234003;

const IMAGE_TYPES: &[&str] = &["message", "avatar"];
const FILE_TYPES: &[&str] = &["opus", "mp4", "pdf", "doc", "xls", "ppt", "stream"];

/// Which upload endpoint a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Image,
    File,
}

impl Kind {
    /// The upload endpoint `method path` names, if any.
    pub(crate) fn of_upload(method: &str, path: &str) -> Option<Kind> {
        match (method, path.trim_end_matches('/')) {
            ("POST", "/open-apis/im/v1/images") => Some(Kind::Image),
            ("POST", "/open-apis/im/v1/files") => Some(Kind::File),
            _ => None,
        }
    }

    fn file_field(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
        }
    }

    /// The documented limit, or `raised` ([`crate::SandboxConfig::upload_limit`]) in its place.
    pub(crate) fn limit(self, raised: Option<u64>) -> u64 {
        raised.unwrap_or(match self {
            Kind::Image => IMAGE_LIMIT,
            Kind::File => FILE_LIMIT,
        })
    }

    /// `image` or `file`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
        }
    }
}

/// An upload read from the wire and checked, waiting for the pipeline's verdict.
#[derive(Debug)]
pub(crate) struct Staged {
    pub kind: Kind,
    pub fields: BTreeMap<String, String>,
    pub file: StoredFile,
}

/// The file part of an upload, on disk.
#[derive(Debug)]
pub(crate) struct StoredFile {
    pub path: TempPath,
    pub size: u64,
    pub sha256: String,
    pub part_filename: Option<String>,
    pub content_type: Option<String>,
}

/// An upload refused while it was read: the answer to give once the
/// pipeline (auth and the rest) has let the request through.
#[derive(Debug)]
pub(crate) struct Refused(pub Reply);

/// Reads a multipart upload into a temporary file, checking fields and
/// `limit` (in bytes, see [`Kind::limit`]) as it goes. An oversized file is
/// still read to its end (and thrown away) so that the client hears the
/// answer rather than a reset.
pub(crate) async fn receive(
    kind: Kind,
    limit: u64,
    content_type: Option<&str>,
    body: Incoming,
) -> Result<Staged, Refused> {
    let boundary =
        content_type.and_then(|ct| multer::parse_boundary(ct).ok()).ok_or_else(|| {
            refuse(INVALID_PARAM, "the body must be multipart/form-data with a boundary")
        })?;
    let stream = BodyStream::new(body).map_ok(|frame| frame.into_data().unwrap_or_default());
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut fields = BTreeMap::new();
    let mut file = None;
    let mut problem = None;
    let mut parts = 0;
    while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(refuse(INVALID_PARAM, format!("more than {MAX_PARTS} form fields")));
        }
        let name = field.name().unwrap_or_default().to_owned();
        if name == kind.file_field() {
            if file.is_some() {
                problem
                    .get_or_insert_with(|| refuse(INVALID_PARAM, format!("{name}: given twice")));
                while field.chunk().await.map_err(malformed)?.is_some() {}
                continue;
            }
            let part_filename = field.file_name().map(str::to_owned);
            let content_type = field.content_type().map(|m| m.to_string());
            let (path, size, sha256) = store_part(&mut field, limit).await?;
            if size > limit {
                problem.get_or_insert_with(|| {
                    refuse(
                        TOO_LARGE,
                        format!(
                            "{name}: {size} bytes is over the {} limit of {limit} bytes",
                            kind.name()
                        ),
                    )
                });
            }
            file = Some(StoredFile { path, size, sha256, part_filename, content_type });
        } else {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                if text.len() + chunk.len() > TEXT_LIMIT {
                    return Err(refuse(
                        INVALID_PARAM,
                        format!("{name}: longer than {TEXT_LIMIT} bytes"),
                    ));
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text)
                .map_err(|_| refuse(INVALID_PARAM, format!("{name}: not UTF-8 text")))?;
            fields.insert(name, text);
        }
    }
    if let Some(problem) = problem {
        return Err(problem);
    }
    let file =
        file.ok_or_else(|| refuse(INVALID_PARAM, format!("{}: is required", kind.file_field())))?;
    if file.size == 0 {
        return Err(refuse(EMPTY_FILE, format!("{}: the file is empty", kind.file_field())));
    }
    check_fields(kind, &fields)?;
    Ok(Staged { kind, fields, file })
}

/// Writes one part to a new temporary file, hashing it; past `limit` bytes
/// the rest is read and dropped.
async fn store_part(
    field: &mut multer::Field<'_>,
    limit: u64,
) -> Result<(TempPath, u64, String), Refused> {
    let io_error = |e: std::io::Error| {
        Refused(Reply::error_with_status(
            500,
            1,
            format!("the sandbox could not store the upload: {e}"),
        ))
    };
    let temp =
        tempfile::Builder::new().prefix("feishu-sandbox-upload-").tempfile().map_err(io_error)?;
    let (std_file, path) = temp.into_parts();
    let mut out = tokio::fs::File::from_std(std_file);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        size += chunk.len() as u64;
        if size <= limit {
            hasher.update(&chunk);
            out.write_all(&chunk).await.map_err(io_error)?;
        }
    }
    out.flush().await.map_err(io_error)?;
    Ok((path, size, hex(&hasher.finalize())))
}

fn check_fields(kind: Kind, fields: &BTreeMap<String, String>) -> Result<(), Refused> {
    let one_of = |name: &str, allowed: &[&str]| -> Result<(), Refused> {
        match fields.get(name) {
            None => Err(refuse(INVALID_PARAM, format!("{name}: is required"))),
            Some(v) if allowed.contains(&v.as_str()) => Ok(()),
            Some(v) => Err(refuse(
                INVALID_PARAM,
                format!("{name}: {v:?} is not one of {}", allowed.join(", ")),
            )),
        }
    };
    match kind {
        Kind::Image => one_of("image_type", IMAGE_TYPES),
        Kind::File => {
            one_of("file_type", FILE_TYPES)?;
            match fields.get("file_name") {
                Some(name) if !name.is_empty() => {}
                _ => return Err(refuse(INVALID_PARAM, "file_name: is required")),
            }
            // lark-oapi sends an empty `duration` when none is set.
            if let Some(duration) = fields.get("duration").filter(|d| !d.is_empty())
                && duration.parse::<u64>().is_err()
            {
                return Err(refuse(
                    INVALID_PARAM,
                    format!("duration: {duration:?} is not a whole number of milliseconds"),
                ));
            }
            Ok(())
        }
    }
}

fn refuse(code: i64, msg: impl Into<String>) -> Refused {
    Refused(Reply::error(code, msg))
}

fn malformed(e: multer::Error) -> Refused {
    refuse(INVALID_PARAM, format!("the multipart body is malformed: {e}"))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An upload's body stands in for the JSON body in the request log.
pub(crate) fn staged_summary(upload: &Result<Staged, Refused>) -> Value {
    match upload {
        Ok(s) => {
            json!({ "fields": s.fields, "filename": s.file.part_filename, "size": s.file.size })
        }
        Err(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_checked() {
        let fields = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>()
        };
        assert!(check_fields(Kind::Image, &fields(&[("image_type", "message")])).is_ok());
        assert!(check_fields(Kind::Image, &fields(&[("image_type", "x")])).is_err());
        assert!(
            check_fields(Kind::File, &fields(&[("file_type", "stream"), ("file_name", "a.bin")]))
                .is_ok()
        );
        assert!(check_fields(Kind::File, &fields(&[("file_type", "stream")])).is_err());
        assert!(
            check_fields(
                Kind::File,
                &fields(&[("file_type", "stream"), ("file_name", "a"), ("duration", "1.5")])
            )
            .is_err()
        );
    }
}
