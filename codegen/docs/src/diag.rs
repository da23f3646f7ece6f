//! Diagnostics: what a page said that the reader did not fully understand.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One thing a page said that did not end in the spec as it stands, or that
/// the reader had to guess or reconcile.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The doc file, as given to the reader.
    pub file: String,
    /// The 1-based line the problem starts on (0 when it concerns the whole page).
    pub line: usize,
    /// What kind of problem it is.
    pub kind: DiagnosticKind,
    /// What was not understood, quoting the text.
    pub message: String,
}

/// The kinds of diagnostic, counted by the corpus tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticKind {
    /// The page has no HTTP method and path, and is not a catalogue (guides, event pages).
    NoEndpoint,
    /// A table whose columns fit no known table shape; its rows are quoted.
    UnknownTable,
    /// A table row that could not be read (too few cells, no name).
    UnreadableRow,
    /// A basic-information row (HTTP URL, 权限要求 …) the reader does not know.
    UnknownInfoRow,
    /// A field type name the reader maps to a JSON type by guess.
    UnknownType,
    /// An error-code row whose code is not a number.
    BadErrorCode,
    /// A JSON example that does not parse.
    InvalidExample,
    /// A key in a JSON example that is not a field of the extracted tree.
    ExampleKeyNotField,
    /// A value in a JSON example of another JSON type than its field's
    /// table row says; the spec follows the table.
    ExampleValueNotFieldType,
    /// Nesting the table lost, rebuilt from the type notes or the JSON example.
    NestingRebuilt,
    /// A field whose type cell names no type, typed as a list of objects
    /// because the page's JSON example shows one.
    TypeFromExample,
    /// Nesting the table lost and nothing could rebuild: the reader guessed.
    NestingGuessed,
    /// Two pages disagree about one endpoint; the more specific fact was kept.
    Conflict,
    /// A catalogue row without a method and path.
    BadCatalogueRow,
    /// Text the reader could not read at all (binary data, broken markup).
    Unreadable,
}

impl DiagnosticKind {
    /// The kind's snake_case name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosticKind::NoEndpoint => "no_endpoint",
            DiagnosticKind::UnknownTable => "unknown_table",
            DiagnosticKind::UnreadableRow => "unreadable_row",
            DiagnosticKind::UnknownInfoRow => "unknown_info_row",
            DiagnosticKind::UnknownType => "unknown_type",
            DiagnosticKind::BadErrorCode => "bad_error_code",
            DiagnosticKind::InvalidExample => "invalid_example",
            DiagnosticKind::ExampleKeyNotField => "example_key_not_field",
            DiagnosticKind::ExampleValueNotFieldType => "example_value_not_field_type",
            DiagnosticKind::NestingRebuilt => "nesting_rebuilt",
            DiagnosticKind::TypeFromExample => "type_from_example",
            DiagnosticKind::NestingGuessed => "nesting_guessed",
            DiagnosticKind::Conflict => "conflict",
            DiagnosticKind::BadCatalogueRow => "bad_catalogue_row",
            DiagnosticKind::Unreadable => "unreadable",
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file, self.line, self.kind.as_str(), self.message)
    }
}

/// Collects diagnostics for one file.
#[derive(Debug, Default)]
pub struct Diagnostics {
    file: String,
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Starts collecting for `file`.
    pub fn new(file: &str) -> Diagnostics {
        Diagnostics { file: file.to_string(), items: Vec::new() }
    }

    /// Records one diagnostic at `line`.
    pub fn push(&mut self, line: usize, kind: DiagnosticKind, message: impl Into<String>) {
        self.items.push(Diagnostic {
            file: self.file.clone(),
            line,
            kind,
            message: message.into(),
        });
    }

    /// The diagnostics collected so far.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

/// Shortens quoted text to keep diagnostics on one screen line.
pub fn quote(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = one_line.chars();
    let short: String = chars.by_ref().take(120).collect();
    if chars.next().is_some() { format!("{short}…") } else { short }
}
