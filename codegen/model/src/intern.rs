//! Naming the model's structs and enums: one rule for both kinds, so that a
//! type of the same name and shape is defined once per service (typify's
//! `assign_type` plays this part).

use crate::{Checks, EnumDef, FieldDef, StructDef, TypeHome, TypeRef, TypeSpace, names};

/// A struct or enum to add to a [`TypeSpace`]; its `name` is set by [`TypeSpace::intern`].
pub(crate) enum NewType {
    Struct(StructDef),
    Enum(EnumDef),
}

impl TypeSpace {
    /// Names `def` and returns a reference to it. The first of `base` and
    /// `prefix` + `base` that is free gets the new type, unless a type of
    /// the same kind and shape already has that name: then the existing one
    /// is reused. When both names hold other types, `prefix` + `base` gets
    /// a number. Operations reach a shared name only by describing the same
    /// type, so structs in one service's `types` module stay few.
    pub(crate) fn intern(&mut self, base: &str, prefix: &str, def: NewType) -> TypeRef {
        for candidate in [base.to_owned(), format!("{prefix}{base}")] {
            match (self.structs.get(&candidate), self.enums.get(&candidate), &def) {
                (Some(existing), _, NewType::Struct(new))
                    if shape(&existing.fields) == shape(&new.fields) =>
                {
                    return TypeRef::Struct(candidate);
                }
                (_, Some(existing), NewType::Enum(new)) if values(existing) == values(new) => {
                    return TypeRef::Enum(candidate);
                }
                (None, None, _) => return self.insert(candidate, def),
                _ => continue,
            }
        }
        let mut taken = names::Scope::reserving(self.structs.keys().chain(self.enums.keys()));
        let name = taken.claim(format!("{prefix}{base}"));
        self.insert(name, def)
    }

    /// Gives each type that has no home yet (types are only ever added: the
    /// ones interned since the last call) a home in `resource`, in a file
    /// named from the service's `modules`.
    pub(crate) fn home_new_types(&mut self, resource: &str, modules: &mut names::Scope) {
        let new: Vec<String> = self
            .structs
            .keys()
            .chain(self.enums.keys())
            .filter(|name| !self.homes.contains_key(*name))
            .cloned()
            .collect();
        for name in new {
            let home = TypeHome {
                resource: resource.to_owned(),
                module: modules.claim(names::snake(&name, "type")),
            };
            self.homes.insert(name, home);
        }
    }

    fn insert(&mut self, name: String, def: NewType) -> TypeRef {
        match def {
            NewType::Struct(def) => {
                self.structs.insert(name.clone(), StructDef { name: name.clone(), ..def });
                TypeRef::Struct(name)
            }
            NewType::Enum(def) => {
                self.enums.insert(name.clone(), EnumDef { name: name.clone(), ..def });
                TypeRef::Enum(name)
            }
        }
    }
}

/// What makes two structs interchangeable: wire names, types, optionality and rules.
fn shape(fields: &[FieldDef]) -> Vec<(&str, &TypeRef, bool, &Checks)> {
    fields.iter().map(|f| (f.wire_name.as_str(), &f.ty, f.required, &f.checks)).collect()
}

/// What makes two enums interchangeable: their values, in order.
fn values(def: &EnumDef) -> Vec<&str> {
    def.variants.iter().map(|v| v.value.as_str()).collect()
}
