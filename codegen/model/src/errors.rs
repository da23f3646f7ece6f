//! Names and classification of an operation's documented error codes.
//!
//! A variant is named from the English message the docs give for its code
//! (`The bot can not be outside the group.` → `BotCannotBeOutsideGroup`),
//! so that callers match `ReplyErrorKind::BotCannotBeOutsideGroup` rather than a
//! number whose meaning changes from operation to operation. The rule is
//! one function, [`variant_names`], deterministic and total:
//!
//! 1. only the message's first clause counts (up to `.`, `,`, `;`, `:`,
//!    `(`), since what follows is detail (`…, maybe not exist or deleted`);
//! 2. a message with any non-ASCII character, or none left after step 3,
//!    gives `Code<code>` (`CodeMinus<n>` for negative codes): the docs'
//!    Chinese text would need a translation the generator cannot check;
//! 3. the clause is split into ASCII words, filler words (articles, forms
//!    of "to be", pronouns, prepositions: [`FILLER`]) are dropped and the
//!    first [`MAX_WORDS`] kept, each capitalised (`NOT` → `Not`); a
//!    negation keeps its meaning: a modal before it stays (`can not be` →
//!    `CannotBe`, `should not` → `ShouldNot`, `can't` → `Cannot`), and the
//!    words kept always reach the first negation, so that no name says the
//!    opposite of its message;
//! 4. a name starting with a digit gets an `Error` prefix, and the names
//!    generated code already uses (`Unhandled`, `Self`) an `Error` suffix;
//! 5. names that two codes of the operation share all get their code as a
//!    suffix (`MessageInvisible230004`), so that neither depends on the
//!    order of the docs' table.
//!
//! Because the name follows the docs' wording, a reworded message renames
//! the variant: `cargo xtask diff` reports that as breaking.

use std::collections::{BTreeMap, BTreeSet};

/// At most this many words make a name: enough to tell codes apart,
/// short enough to type.
pub const MAX_WORDS: usize = 6;

/// Words that carry no meaning in a name.
pub const FILLER: &[&str] = &[
    "a",
    "an",
    "the",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "am",
    "this",
    "these",
    "that",
    "those",
    "your",
    "its",
    "it",
    "you",
    "we",
    "to",
    "of",
    "can",
    "could",
    "will",
    "would",
    "should",
    "has",
    "have",
    "had",
    "do",
    "does",
    "did",
    "please",
    "which",
    "there",
    "for",
    "at",
    "in",
    "on",
    "as",
    "by",
    "with",
    "from",
    "so",
    "such",
    "current",
    "currently",
];

/// Variant names generated code already uses, or that Rust reserves.
const RESERVED: &[&str] = &["Unhandled", "Self"];

/// Modal verbs, filler on their own (`can be used` → `Used`) but kept
/// before a negation, whose meaning they carry: "the bot can not be outside
/// the group" says the bot must stay in, and `BotNotOutsideGroup` would say
/// the opposite.
const MODALS: &[&str] = &["can", "could", "will", "would", "should", "must", "may", "might"];

/// The name of one code from its message alone, before duplicates are
/// resolved; `None` when the message gives none (step 2).
pub fn name_from_message(message: &str) -> Option<String> {
    let message = message.trim();
    if message.is_empty() || !message.is_ascii() {
        return None;
    }
    let clause = message.split(['.', ',', ';', ':', '(']).map(str::trim).find(|c| !c.is_empty())?;
    let words = kept_words(&expand_contractions(clause));
    if words.is_empty() {
        return None;
    }
    let mut name = words.concat();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "Error");
    }
    if RESERVED.contains(&name.as_str()) {
        name.push_str("Error");
    }
    Some(name)
}

/// `can't` → `cannot`, `won't` → `will not`, `doesn't` → `does not`, so
/// that a contraction's negation survives the split into words (which
/// would leave a lone `t`).
fn expand_contractions(clause: &str) -> String {
    // The words are read lower case anyway; `can't!` and `can't` alike.
    clause
        .to_ascii_lowercase()
        .replace("can't", "cannot")
        .replace("won't", "will not")
        .replace("n't", " not")
}

/// The capitalised words of a clause that make its name (steps 3 and the
/// negation rule): filler dropped, except that a modal before `not` joins
/// it (`can not` → `Cannot`, `should not` → `ShouldNot`) and keeps a `be`
/// that follows (`CannotBe`). The first [`MAX_WORDS`] are kept, stretched
/// to reach the clause's first negation and the word after it, so that
/// cutting a name short never turns it positive.
fn kept_words(clause: &str) -> Vec<String> {
    let raw: Vec<String> = clause
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let mut words: Vec<String> = Vec::new();
    let mut first_negation = None;
    let mut keep_be = false;
    for (i, word) in raw.iter().enumerate() {
        let next_is_not = raw.get(i + 1).is_some_and(|w| w == "not");
        if MODALS.contains(&word.as_str()) && next_is_not {
            continue;
        }
        let kept = match word.as_str() {
            "not" => match i.checked_sub(1).map(|p| raw[p].as_str()) {
                Some("can") => "Cannot".to_owned(),
                Some(modal) if MODALS.contains(&modal) => capitalise(modal) + "Not",
                _ => "Not".to_owned(),
            },
            "be" if keep_be => "Be".to_owned(),
            w if FILLER.contains(&w) => continue,
            w => capitalise(w),
        };
        keep_be = word == "not" && kept != "Not" || word == "cannot";
        if first_negation.is_none() && NEGATIONS.contains(&word.as_str()) {
            first_negation = Some(words.len());
        }
        words.push(kept);
    }
    let limit = match first_negation {
        Some(at) if at + 2 > MAX_WORDS => at + 2,
        _ => MAX_WORDS,
    };
    words.truncate(limit);
    words
}

/// Words that make a clause negative.
const NEGATIONS: &[&str] = &["not", "cannot", "never", "no"];

/// `nOT` → `Not`: the first letter upper case, the rest lower.
fn capitalise(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    let mut chars = lower.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `Code230001`, or `CodeMinus1` for a negative code.
pub fn code_name(code: i64) -> String {
    format!("Code{code}").replace('-', "Minus")
}

/// The code as a name suffix (`230001`, or `Minus1`).
fn code_suffix(code: i64) -> String {
    code.to_string().replace('-', "Minus")
}

/// The variant name of every code of one operation, from `(code, message)`
/// pairs (each code once); see the module docs for the rule.
pub fn variant_names(errors: &[(i64, &str)]) -> BTreeMap<i64, String> {
    let named: Vec<(i64, String)> = errors
        .iter()
        .map(|&(code, message)| {
            (code, name_from_message(message).unwrap_or_else(|| code_name(code)))
        })
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, name) in &named {
        *count.entry(name.as_str()).or_default() += 1;
    }
    let mut names: BTreeMap<i64, String> = named
        .iter()
        .map(|(code, name)| {
            let shared = count[name.as_str()] > 1 && *name != code_name(*code);
            (*code, if shared { format!("{name}{}", code_suffix(*code)) } else { name.clone() })
        })
        .collect();
    // A suffixed name could meet another code's own name (`Foo230001`
    // from a message saying so): the code-ordered later one moves on.
    let mut scope = crate::names::Scope::new();
    for name in names.values_mut() {
        *name = scope.claim(std::mem::take(name));
    }
    names
}

/// The rows that make variants: the first of each code (the docs list
/// some twice).
fn first_rows(errors: &[feishu_spec::ErrorCode]) -> Vec<&feishu_spec::ErrorCode> {
    let mut seen = BTreeSet::new();
    errors.iter().filter(|e| seen.insert(e.code)).collect()
}

/// The variant name of each documented code of one endpoint, as its error
/// enum has them.
pub fn endpoint_variant_names(errors: &[feishu_spec::ErrorCode]) -> BTreeMap<i64, String> {
    let pairs: Vec<(i64, &str)> =
        first_rows(errors).iter().map(|e| (e.code, e.message.as_str())).collect();
    variant_names(&pairs)
}

/// The variants of an operation's documented codes, ordered by code (the
/// first row of a code the docs list twice wins).
pub(crate) fn variants(errors: &[feishu_spec::ErrorCode]) -> Vec<crate::ErrorVariant> {
    let rows = first_rows(errors);
    let mut names = endpoint_variant_names(errors);
    let mut helpers = crate::names::Scope::new();
    let mut variants: Vec<crate::ErrorVariant> = rows
        .into_iter()
        .map(|e| {
            let rust_name = names.remove(&e.code).unwrap_or_else(|| code_name(e.code));
            crate::ErrorVariant {
                helper: helpers
                    .claim(format!("is_{}", heck::ToSnakeCase::to_snake_case(rust_name.as_str()))),
                rust_name,
                code: e.code,
                http_status: e.http_status,
                message: e.message.clone(),
                hint: e.hint.clone(),
                retryable: is_rate_limit(&e.message, &e.hint)
                    || e.http_status.is_some_and(|s| s >= 500 || s == 429),
                sub_errors: e.sub_errors.iter().map(|s| (s.code, s.message.clone())).collect(),
            }
        })
        .collect();
    variants.sort_by_key(|v| v.code);
    variants
}

/// Whether the docs describe a code as the platform's frequency limit:
/// its message or hint says so. Such errors are worth retrying later.
pub fn is_rate_limit(message: &str, hint: &str) -> bool {
    let message = message.to_ascii_lowercase();
    ["frequency limit", "rate limit", "too many requests", "request trigger frequency"]
        .iter()
        .any(|w| message.contains(w))
        || ["频率限制", "限流"].iter().any(|w| hint.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_first_clause_without_filler() {
        let cases = [
            ("The bot can not be outside the group.", "BotCannotBeOutsideGroup"),
            ("expired message.", "ExpiredMessage"),
            ("The message is not found, maybe not exist or deleted.", "MessageNotFound"),
            ("P2P chat can NOT be shared.", "P2pChatCannotBeShared"),
            ("The app can't send to the chat.", "AppCannotSendChat"),
            ("Bots CAN'T!", "BotsCannot"),
            ("Users should not resend the request.", "UsersShouldNotResendRequest"),
            ("The file cannot be empty.", "FileCannotBeEmpty"),
            ("The operator doesn't own the resource.", "OperatorNotOwnResource"),
            ("Can be used once.", "UsedOnce"),
            // Six words would stop before the negation: the name reaches it.
            (
                "Tenant admin or app owner or bot creator of the app may not approve",
                "TenantAdminOrAppOwnerOrBotCreatorAppMayNotApprove",
            ),
            (
                "Tenant admin app owner or creator never approves",
                "TenantAdminAppOwnerOrCreatorNeverApproves",
            ),
            ("user_id_type is invalid.", "UserIdTypeInvalid"),
            ("Failed to create card content, ext=ErrCode: 100290", "FailedCreateCardContent"),
            (
                "The type of file upload does not match the type of message being sent.",
                "TypeFileUploadNotMatchType",
            ),
            ("404 page not found", "Error404PageNotFound"),
            ("unhandled", "UnhandledError"),
            ("self", "SelfError"),
        ];
        for (message, name) in cases {
            assert_eq!(name_from_message(message).as_deref(), Some(name), "{message}");
        }
    }

    #[test]
    fn empty_non_english_and_meaningless_messages_give_no_name() {
        for message in ["", "   ", "参数错误", "invalid 参数", "The.", "it is", "..."] {
            assert_eq!(name_from_message(message), None, "{message:?}");
        }
        assert_eq!(
            variant_names(&[(230001, "参数错误"), (-1, "")]),
            BTreeMap::from([(-1, "CodeMinus1".into()), (230001, "Code230001".into())])
        );
    }

    #[test]
    fn shared_names_all_take_their_code() {
        let names = variant_names(&[
            (1, "The message is invisible."),
            (2, "Message invisible!"),
            (3, "Recalled."),
            (4, "Recalled2"),
            (5, "recalled"),
        ]);
        let expected = [
            (1, "MessageInvisible1"),
            (2, "MessageInvisible2"),
            (3, "Recalled3"),
            (4, "Recalled2"),
            (5, "Recalled5"),
        ];
        assert_eq!(
            names,
            expected.iter().map(|(c, n)| (*c, n.to_string())).collect::<BTreeMap<_, _>>()
        );
        // A suffixed name meeting a code's own name is made unique.
        let names = variant_names(&[(1, "foo"), (2, "foo"), (3, "foo1")]);
        assert_eq!(names.values().collect::<BTreeSet<_>>().len(), 3, "{names:?}");
    }

    #[test]
    fn the_rule_is_stable() {
        let errors = [
            (230002, "The bot can not be outside the group."),
            (230020, "This operation triggers the frequency limit."),
        ];
        assert_eq!(variant_names(&errors), variant_names(&errors));
        assert_eq!(variant_names(&errors)[&230020], "OperationTriggersFrequencyLimit");
    }

    #[test]
    fn rate_limits_are_read_from_the_docs() {
        assert!(is_rate_limit("This operation triggers the frequency limit.", ""));
        assert!(is_rate_limit("request trigger frequency limit", ""));
        assert!(is_rate_limit("", "当前操作触发频率限制，请降低请求频率后重试。"));
        assert!(!is_rate_limit("The message is recalled.", "消息已被撤回"));
    }
}
