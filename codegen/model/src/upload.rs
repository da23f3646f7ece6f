//! Multipart uploads with a detail page: which request fields are file
//! parts, and the size limit each one's docs give.
//!
//! The limit comes from the field's description ("大小不超过 10 MB",
//! "不能超过30M", "up to 20 MB"): the first size with a unit (K, KB, M, MB,
//! G, GB; binary multiples, as the platform counts) that a limiting word
//! accompanies. A description without one gets no check, rather than a
//! guessed one.

use crate::{FieldDef, Location, StructDef, TypeRef};

/// The multipart form of a typed upload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Form {
    /// The file parts: the request field's Rust name and its documented
    /// largest size in bytes.
    pub files: Vec<(String, Option<u64>)>,
}

/// Words that make a size in a description a limit.
const LIMITING: &[&str] = &[
    "不超过",
    "不能超过",
    "不得超过",
    "不可超过",
    "最大",
    "以内",
    "上限",
    "限制",
    "at most",
    "up to",
    "exceed",
    "maximum",
    "limit",
];

/// The form of a multipart request: its file fields and their limits.
pub(crate) fn form(request: &StructDef) -> Form {
    let files = request
        .fields
        .iter()
        .filter(|f| f.location == Location::Body && f.ty == TypeRef::File)
        .map(|f: &FieldDef| (f.rust_name.clone(), size_limit(&f.docs.description)))
        .collect();
    Form { files }
}

/// The documented largest size in `text`, in bytes.
pub fn size_limit(text: &str) -> Option<u64> {
    let lower = text.to_lowercase();
    if !LIMITING.iter().any(|w| lower.contains(w)) {
        return None;
    }
    let chars: Vec<char> = lower.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit()
            || (i > 0 && (chars[i - 1].is_ascii_alphanumeric() || chars[i - 1] == '.'))
        {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        let number: u64 = chars[start..i].iter().collect::<String>().parse().ok()?;
        let mut j = i;
        while j < chars.len() && chars[j] == ' ' {
            j += 1;
        }
        let unit = match chars.get(j) {
            Some('k') => 1u64 << 10,
            Some('m') => 1 << 20,
            Some('g') => 1 << 30,
            _ => continue,
        };
        // The unit letter, then `i` and `b` at most: "10 min" is not a size.
        let mut k = j + 1;
        if chars.get(k) == Some(&'i') {
            k += 1;
        }
        if chars.get(k) == Some(&'b') {
            k += 1;
        }
        if chars.get(k).is_some_and(|c| c.is_ascii_alphanumeric()) {
            continue;
        }
        return number.checked_mul(unit);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_limits_are_read() {
        assert_eq!(size_limit("图片大小不超过 10 MB，支持 JPEG"), Some(10 << 20));
        assert_eq!(size_limit("文件大小不能超过30M，且不允许上传空文件"), Some(30 << 20));
        assert_eq!(size_limit("The file must be at most 500KB."), Some(500 << 10));
        assert_eq!(size_limit("up to 2 GiB"), Some(2 << 30));
        assert_eq!(size_limit("视频时长，单位 10 min"), None, "no limiting word");
        assert_eq!(size_limit("最大时长 10 min"), None, "minutes are not a size");
        assert_eq!(size_limit("文件内容"), None);
        assert_eq!(
            size_limit("v2 接口大小不超过 5M"),
            Some(5 << 20),
            "a digit inside a word is not a size"
        );
    }

    #[test]
    fn file_fields_make_the_form() {
        let field = |name: &str, ty: TypeRef, description: &str| {
            let mut f = FieldDef {
                wire_name: name.into(),
                rust_name: name.into(),
                ty,
                ..FieldDef::default()
            };
            f.docs.description = description.into();
            f
        };
        let request = StructDef {
            fields: vec![
                field("image_type", TypeRef::String, ""),
                field("image", TypeRef::File, "图片内容，大小不超过 10 MB"),
                field("extra", TypeRef::File, ""),
            ],
            ..StructDef::default()
        };
        assert_eq!(
            form(&request).files,
            vec![("image".to_owned(), Some(10 << 20)), ("extra".to_owned(), None)]
        );
    }
}
