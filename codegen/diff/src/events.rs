//! What changed in one event: whether its body is typed, and its fields.

use feishu_spec::Event;

use super::endpoints::scopes;
use super::fields::fields;
use super::{ChangeKind, Changes};
use crate::rules::{self, FieldPlace};

/// Whether the generated crate gives the event a struct and an `Event`
/// variant (as `feishu-model` decides): its page documents its body.
pub fn typed_event(event: &Event) -> bool {
    !event.body.is_empty() && !event.service.is_empty()
}

pub(super) fn event(old: &Event, new: &Event, out: &mut Changes) {
    let (old_typed, new_typed) = (typed_event(old), typed_event(new));
    if old_typed != new_typed {
        // A body that appears or disappears changes every field at once;
        // what matters is which `Event` variant the event decodes into.
        let line = if new_typed {
            "now typed: its body decodes into a struct and its own `Event` variant instead of `Event::Unknown`"
        } else {
            "no longer typed: its struct is gone and it decodes as `Event::Unknown`"
        };
        out.push(
            ChangeKind::DetailChanged,
            rules::typing_changed(old_typed, new_typed),
            line.to_string(),
        );
    } else {
        fields(FieldPlace::Event, "", &old.body, &new.body, old_typed && new_typed, out);
    }
    scopes(&old.scopes, &new.scopes, out);
}
