//! Uploaded images and files: multipart uploads streamed into temporary
//! files (never held whole in memory), the documented size limits, and the
//! downloads that serve them back.
//!
//! The upload body is read here, before the usual pipeline (faults, auth,
//! rate limits) runs, because that pipeline reads bodies whole; what it
//! leaves is a [`Staged`] upload that becomes a stored file only when the
//! request gets through. A staged file is deleted when dropped, so a refused
//! upload leaves nothing behind.

use std::collections::BTreeMap;
use std::path::Path;

use futures_util::TryStreamExt;
use http_body_util::BodyStream;
use hyper::body::Incoming;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

use crate::reply::Reply;
use crate::server::{Call, Shared, lock};

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
const INVALID_PARAM: i64 = 234001;
const TOO_LARGE: i64 = 234006;
const EMPTY_FILE: i64 = 234010;
/// The resource is not one this app uploaded (or not in that message).
const NOT_FOUND: i64 = 234003;

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

    fn name(self) -> &'static str {
        match self {
            Kind::Image => "image",
            Kind::File => "file",
        }
    }
}

/// An upload read from the wire and checked, waiting for the pipeline's verdict.
#[derive(Debug)]
pub(crate) struct Staged {
    kind: Kind,
    fields: BTreeMap<String, String>,
    file: StoredFile,
}

/// The file part of an upload, on disk.
#[derive(Debug)]
struct StoredFile {
    path: TempPath,
    size: u64,
    sha256: String,
    part_filename: Option<String>,
    content_type: Option<String>,
}

/// An upload refused while it was read: the answer to give once the
/// pipeline (auth and the rest) has let the request through.
#[derive(Debug)]
pub(crate) struct Refused(Reply);

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

/// The stored uploads, in upload order.
#[derive(Debug, Default)]
pub(crate) struct Files {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    key: String,
    kind: Kind,
    fields: BTreeMap<String, String>,
    file: StoredFile,
}

impl Entry {
    /// The name the file is served under: the form's `file_name`, else the
    /// part's file name, else the key.
    fn file_name(&self) -> &str {
        self.fields
            .get("file_name")
            .or(self.file.part_filename.as_ref())
            .map_or(&self.key, String::as_str)
    }

    fn control_json(&self) -> Value {
        json!({
            "key": self.key,
            "kind": self.kind.name(),
            "file_name": self.file_name(),
            "filename": self.file.part_filename,
            "content_type": self.file.content_type,
            "size": self.file.size,
            "sha256": self.file.sha256,
            "fields": self.fields,
        })
    }
}

impl Files {
    /// Forgets every upload (and deletes the files).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// `GET /_sandbox/files`.
    pub(crate) fn control_json(&self) -> Value {
        json!({ "files": self.entries.iter().map(Entry::control_json).collect::<Vec<_>>() })
    }

    fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// The answer to an upload that got through the pipeline: stored, with its key.
pub(crate) fn finish_upload(shared: &Shared, upload: Result<Staged, Refused>) -> Reply {
    let staged = match upload {
        Ok(staged) => staged,
        Err(Refused(reply)) => return reply,
    };
    let (key, data) = match staged.kind {
        Kind::Image => {
            let key = shared.ids.with_prefix("img_v3_");
            (key.clone(), json!({ "image_key": key }))
        }
        Kind::File => {
            let key = shared.ids.with_prefix("file_v3_");
            (key.clone(), json!({ "file_key": key }))
        }
    };
    lock(&shared.files).entries.push(Entry {
        key,
        kind: staged.kind,
        fields: staged.fields,
        file: staged.file,
    });
    Reply::success(data)
}

/// The download endpoints; `None` for every other endpoint.
pub(crate) fn handle(shared: &Shared, call: &Call<'_>) -> Option<Reply> {
    let (key, kind) = match call.endpoint.id.as_str() {
        "im.v1.image.get" => (call.path_param("image_key"), Kind::Image),
        "im.v1.file.get" => (call.path_param("file_key"), Kind::File),
        "im.v1.message_resource.get" => {
            let message_id = call.path_param("message_id");
            if lock(&shared.store).get(message_id).is_none() {
                return Some(Reply::error(
                    NOT_FOUND,
                    format!("message_id: message {message_id:?} does not exist"),
                ));
            }
            let kind = match call.query("type") {
                Some("image") => Kind::Image,
                Some("file") => Kind::File,
                other => {
                    return Some(Reply::error(
                        INVALID_PARAM,
                        format!("type: {other:?} is not one of image, file"),
                    ));
                }
            };
            (call.path_param("file_key"), kind)
        }
        _ => return None,
    };
    let files = lock(&shared.files);
    let Some(entry) = files.get(key).filter(|e| e.kind == kind) else {
        return Some(Reply::error(
            NOT_FOUND,
            format!("no {} with key {key:?} was uploaded", kind.name()),
        ));
    };
    Some(download(entry))
}

/// The stored bytes with their name and type. Read whole: downloads here
/// are at most the upload limit (30 MB, unless a test raised it with
/// [`crate::SandboxConfig::upload_limit`]).
fn download(entry: &Entry) -> Reply {
    let bytes = match std::fs::read(Path::new(&*entry.file.path)) {
        Ok(bytes) => bytes,
        Err(e) => {
            return Reply::error_with_status(
                500,
                1,
                format!("the sandbox could not read the upload: {e}"),
            );
        }
    };
    let mut reply = Reply::binary(bytes);
    if let Some(content_type) = &entry.file.content_type {
        reply = reply.with_header("content-type", content_type.clone());
    }
    reply.with_header("content-disposition", content_disposition(entry.file_name()))
}

/// `attachment` with an ASCII fallback name and the exact one in RFC 5987 form.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
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
    fn disposition_keeps_the_exact_name() {
        assert_eq!(
            content_disposition("a b.pdf"),
            "attachment; filename=\"a b.pdf\"; filename*=UTF-8''a%20b.pdf"
        );
        assert_eq!(
            content_disposition("报告\".txt"),
            "attachment; filename=\"___.txt\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A%22.txt"
        );
    }

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
