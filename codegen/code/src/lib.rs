//! Prints the generated Feishu client crate from the model.
//!
//! [`generate`] returns every file of the crate. Rust files are built as
//! tokens with `quote!`, checked by parsing them with `syn` (a generator bug
//! fails here, not in the user's build) and formatted by `prettyplease`, so
//! the output is deterministic and readable. Only `Cargo.toml`, `README.md`
//! and `rustfmt.toml` are text (`manifest.rs`).
//!
//! Layout of the generated crate:
//!
//! - `src/lib.rs`: crate docs, re-exports of the runtime, the `Client` with
//!   one accessor and one `#[cfg(feature)]` module per service;
//! - `src/events.rs`: the `EventType` enum, and `src/events/event.rs`: the
//!   `Event` enum of typed bodies;
//! - `src/<service>.rs`: the service's modules and its handle (`ImApi`);
//! - `src/<service>/types.rs`: re-exports every struct and enum the service's
//!   typed operations share, so that they are all `crate::<service>::types::Name`;
//! - `src/<service>/types/<resource>.rs`: the modules of the types that
//!   `<resource>` uses first (resources in module order), and
//!   `src/<service>/types/<resource>/<type>.rs`: one type each, so that no file
//!   grows with the service and adding an endpoint only adds its new types;
//! - `src/<service>/events.rs` and `src/<service>/events/<event>.rs`: the
//!   struct of each event whose page documents its body, one per file;
//! - `src/<service>/<resource>.rs`: the resource's handle (`MessageApi`),
//!   with a method per operation (catalogue-only ones are only that);
//! - `src/<service>/<resource>/<operation>.rs`: one typed operation each.

mod docs;
mod events;
mod examples;
mod manifest;
mod modules;
mod operations;
mod paginate;
mod root;
mod types;
mod upload;

use std::collections::BTreeMap;
use std::path::PathBuf;

use feishu_model::{Model, OperationKind, Resource, Service};
use proc_macro2::TokenStream;
use quote::quote;

/// What the generated crate is called and where its inputs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The package name, e.g. `feishu`.
    pub crate_name: String,
    /// The path dependency to `feishu-runtime`, relative to the generated
    /// crate (e.g. `../runtime`) or absolute.
    pub runtime_path: String,
    /// The spec files the crate is generated from (`spec/<service>/<resource>.json`);
    /// each file's header names those it comes from (`spec/` when none matches).
    pub spec_files: Vec<String>,
    /// What the manifest says about the package.
    pub package: Package,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            crate_name: "feishu".to_owned(),
            runtime_path: "../runtime".to_owned(),
            spec_files: Vec::new(),
            package: Package::default(),
        }
    }
}

/// The generated crate's version and what a registry needs to publish it.
/// `cargo xtask regen` fills it in: the version from the API change since the
/// last release, the rest from the workspace's manifests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The crate's version.
    pub version: String,
    /// The `feishu-runtime` version the crate requires: the runtime's own
    /// when the crate is generated, since the code may use anything it has.
    /// `None` for a path dependency alone, in a crate that is never packaged.
    pub runtime_version: Option<String>,
    /// The oldest Rust the crate builds with (`rust-version`).
    pub rust_version: String,
    /// The SPDX license expression.
    pub license: String,
    /// The repository's URL, also named by the README.
    pub repository: Option<String>,
}

impl Default for Package {
    fn default() -> Self {
        Package {
            version: "0.1.0".to_owned(),
            runtime_version: None,
            rust_version: "1.88".to_owned(),
            license: "MIT OR Apache-2.0".to_owned(),
            repository: None,
        }
    }
}

/// The generated crate's `rustfmt.toml`, which opts it out of the workspace's formatting.
const RUSTFMT_TOML: &str = "# prettyplease formats this crate (`cargo xtask regen`); rustfmt must not re-format it.\ndisable_all_formatting = true\n";

/// Every file of the generated crate, keyed by path relative to its root.
pub fn generate(spec: &feishu_spec::Spec, options: &Options) -> BTreeMap<PathBuf, String> {
    let model = Model::build(spec);
    let mut files = BTreeMap::new();
    files.insert(
        PathBuf::from("Cargo.toml"),
        manifest::cargo_toml(&model, options, &header(options, Origin::Crate)),
    );
    files.insert(
        PathBuf::from("README.md"),
        manifest::readme(&model, options, &header(options, Origin::Crate)),
    );
    // prettyplease has formatted every file; `cargo fmt --all` must leave them be.
    files.insert(PathBuf::from("rustfmt.toml"), RUSTFMT_TOML.to_owned());
    let mut rust = |path: String, origin: Origin<'_>, tokens: TokenStream| {
        files.insert(PathBuf::from(path), render(&header(options, origin), tokens));
    };
    rust("src/lib.rs".into(), Origin::Crate, root::lib_rs(&model, options));
    rust("src/events.rs".into(), Origin::Crate, events::events_rs(&model));
    rust("src/events/event.rs".into(), Origin::Crate, events::event_enum(&model));
    for service in model.services.values() {
        let svc = service.module.as_str();
        rust(
            format!("src/{svc}.rs"),
            Origin::Service(service),
            modules::service_rs(service, &options.crate_name.replace('-', "_")),
        );
        if !service.types.is_empty() {
            rust(
                format!("src/{svc}/types.rs"),
                Origin::Service(service),
                modules::types_rs(service),
            );
            for (home, defs) in service.types.by_home() {
                let origin = match service.resources.get(home) {
                    Some(resource) => Origin::Resource(service, resource),
                    None => Origin::Service(service),
                };
                rust(
                    format!("src/{svc}/types/{home}.rs"),
                    origin,
                    modules::type_home_rs(service, home, &defs),
                );
                for (module, def) in defs {
                    rust(
                        format!("src/{svc}/types/{home}/{module}.rs"),
                        origin,
                        modules::type_rs(service, def),
                    );
                }
            }
        }
        if !service.events.is_empty() {
            rust(
                format!("src/{svc}/events.rs"),
                Origin::Service(service),
                events::service_events_rs(service),
            );
            for event in &service.events {
                rust(
                    format!("src/{svc}/events/{}.rs", event.module),
                    Origin::Service(service),
                    events::event_rs(service, event),
                );
            }
        }
        for resource in service.resources.values() {
            let origin = Origin::Resource(service, resource);
            rust(
                format!("src/{svc}/{}.rs", resource.module),
                origin,
                modules::resource_rs(service, resource),
            );
            for op in &resource.operations {
                if let OperationKind::Typed(d) = &op.kind {
                    let body = operations::typed(op, d, svc, &service.types);
                    let doc = docs::inner(&format!("`{}`: {}", op.id, op.title));
                    rust(
                        format!("src/{svc}/{}/{}.rs", resource.module, op.fn_name),
                        origin,
                        quote! { #doc #body },
                    );
                }
            }
        }
    }
    files
}

/// What a file is generated from, for its header.
#[derive(Clone, Copy)]
enum Origin<'a> {
    /// The whole spec.
    Crate,
    /// One service's spec files.
    Service(&'a Service),
    /// One resource's spec file.
    Resource(&'a Service, &'a Resource),
}

/// The first line of every file, naming only the spec files it comes from,
/// so that adding a spec file does not touch every generated file.
fn header(options: &Options, origin: Origin<'_>) -> String {
    // The spec names its files `<service>/<resource>.json`, `misc` for an empty name.
    let name = |wire: &str| {
        if wire.is_empty() { "misc".to_owned() } else { wire.to_owned() }
    };
    let sources = match origin {
        Origin::Crate => None,
        Origin::Service(service) => {
            let dir = format!("{}/", name(&service.wire_name));
            options.spec_files.iter().find_map(|f| {
                let at = f.find(&dir).filter(|&i| i == 0 || f[..i].ends_with('/'))?;
                Some(f[..at + dir.len()].to_owned())
            })
        }
        Origin::Resource(service, resource) => {
            let file = format!("{}/{}.json", name(&service.wire_name), name(&resource.wire_name));
            let found: Vec<&str> = options
                .spec_files
                .iter()
                .filter(|f| {
                    f.strip_suffix(&file).is_some_and(|dir| dir.is_empty() || dir.ends_with('/'))
                })
                .map(String::as_str)
                .collect();
            (!found.is_empty()).then(|| found.join(", "))
        }
    };
    let sources = sources.unwrap_or_else(|| "spec/".to_owned());
    format!("// Generated by `cargo xtask regen` from {sources}; do not edit.\n")
}

/// Parses the tokens as a file and pretty-prints them under the header.
fn render(header: &str, tokens: TokenStream) -> String {
    let file = syn::parse2::<syn::File>(tokens.clone())
        .unwrap_or_else(|e| panic!("generated code does not parse ({e}):\n{tokens}"));
    format!("{header}\n{}", prettyplease::unparse(&file))
}
