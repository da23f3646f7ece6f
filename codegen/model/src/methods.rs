//! The method tree that hangs off the generated `Client`:
//! `client.<service>().<resource>().<operation>(…)`.
//!
//! Each service and resource gets a small handle struct (`ImApi`,
//! `MessageApi`) borrowing the client, and an accessor method named after
//! its module, so that completion after `client.` leads to every
//! operation. Operations keep their function names, which are already
//! unique within their resource.

use crate::Model;

/// Methods of the generated `Client` itself; a service whose module has
/// one of these names gets an accessor with a `_service` suffix.
pub const CLIENT_METHODS: &[&str] = &["new", "builder", "runtime"];

/// `message_reaction` → `MessageReactionApi`.
pub fn handle_name(module: &str) -> String {
    let mut name = crate::names::pascal(module, "Misc");
    // `pascal` guards reserved names with a `_`, which the suffix makes moot.
    if name.ends_with('_') {
        name.pop();
    }
    name + "Api"
}

/// Names the handles and accessors of every service and resource.
pub(crate) fn assign(model: &mut Model) {
    for service in model.services.values_mut() {
        service.handle = handle_name(&service.module);
        service.accessor = if CLIENT_METHODS.contains(&service.module.as_str()) {
            format!("{}_service", service.module)
        } else {
            service.module.clone()
        };
        // Resource modules are unique in the service and distinct from
        // `types`, so their accessors and handle names are too (the
        // handles live in different modules anyway).
        for resource in service.resources.values_mut() {
            resource.handle = handle_name(&resource.module);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_and_accessors() {
        assert_eq!(handle_name("message_reaction"), "MessageReactionApi");
        assert_eq!(handle_name("self_"), "SelfApi");
        let spec = feishu_spec::Spec {
            endpoints: ["im", "new"]
                .iter()
                .map(|service| feishu_spec::Endpoint {
                    service: service.to_string(),
                    resource: "message".into(),
                    name: "get".into(),
                    method: feishu_spec::Method::Get,
                    ..Default::default()
                })
                .collect(),
            events: vec![],
        };
        let model = Model::build(&spec);
        assert_eq!(
            (model.services["im"].accessor.as_str(), model.services["im"].handle.as_str()),
            ("im", "ImApi")
        );
        assert_eq!(model.services["new"].accessor, "new_service");
        assert_eq!(model.services["im"].resources["message"].handle, "MessageApi");
    }
}
