//! Uploaded images and files: a [`Staged`] upload (read by
//! [`crate::uploads`]) stored once its request got through the pipeline,
//! and the downloads that serve them back.

use std::path::Path;

use serde_json::json;

use crate::call::Call;
use crate::reply::{Reply, percent_encode};
use crate::state::files::Entry;
use crate::state::{Shared, lock};
use crate::uploads::{INVALID_PARAM, Kind, NOT_FOUND, Refused, Staged};

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
    let encoded = percent_encode(name);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
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
}
