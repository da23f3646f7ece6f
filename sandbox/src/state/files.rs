//! The uploads part of the state: the files stored, in upload order
//! (`crate::files` stores and serves them).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::uploads::{Kind, StoredFile};

/// The stored uploads, in upload order.
#[derive(Debug, Default)]
pub(crate) struct Files {
    pub entries: Vec<Entry>,
}

/// A stored upload under its key.
#[derive(Debug)]
pub(crate) struct Entry {
    pub key: String,
    pub kind: Kind,
    pub fields: BTreeMap<String, String>,
    pub file: StoredFile,
}

impl Entry {
    /// The name the file is served under: the form's `file_name`, else the
    /// part's file name, else the key.
    pub(crate) fn file_name(&self) -> &str {
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

    /// The upload stored under `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}
