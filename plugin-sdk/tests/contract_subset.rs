//! Every frozen contract (`wit/since_vX.Y.Z/`) is still a subset of today's (`wit/`): each of
//! its interfaces, types, functions and world items exists, unchanged, in the current
//! package. This is the promise that lets a plugin built against an older contract keep
//! loading; nothing else reads the frozen copies, so without this test they could drift.

use std::path::{Path, PathBuf};

use wit_parser::{Function, Handle, Interface, PackageId, Resolve, Type, TypeDefKind, TypeId};

fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit")
}

fn load(dir: &Path) -> (Resolve, PackageId) {
    let mut resolve = Resolve::default();
    let (package, _) = resolve
        .push_dir(dir)
        .unwrap_or_else(|e| panic!("parsing {}: {e:?}", dir.display()));
    (resolve, package)
}

/// A type as it appears in a signature: a named type by its name (its definition is compared
/// where it is declared), an anonymous one spelled out.
fn type_ref(resolve: &Resolve, ty: &Type) -> String {
    match ty {
        Type::Id(id) => match &resolve.types[*id].name {
            Some(name) => name.clone(),
            None => type_def(resolve, *id),
        },
        primitive => format!("{primitive:?}"),
    }
}

fn optional(resolve: &Resolve, ty: &Option<Type>) -> String {
    ty.as_ref().map_or("_".into(), |ty| type_ref(resolve, ty))
}

/// The structure of a type definition, without docs, spans or stability.
fn type_def(resolve: &Resolve, id: TypeId) -> String {
    let list = |items: Vec<String>| items.join(", ");
    match &resolve.types[id].kind {
        TypeDefKind::Record(r) => format!(
            "record {{{}}}",
            list(
                r.fields
                    .iter()
                    .map(|f| format!("{}: {}", f.name, type_ref(resolve, &f.ty)))
                    .collect()
            )
        ),
        TypeDefKind::Resource => "resource".into(),
        TypeDefKind::Handle(Handle::Own(id)) => {
            format!("own<{}>", type_ref(resolve, &Type::Id(*id)))
        }
        TypeDefKind::Handle(Handle::Borrow(id)) => {
            format!("borrow<{}>", type_ref(resolve, &Type::Id(*id)))
        }
        TypeDefKind::Flags(f) => format!(
            "flags {{{}}}",
            list(f.flags.iter().map(|f| f.name.clone()).collect())
        ),
        TypeDefKind::Tuple(t) => format!(
            "tuple<{}>",
            list(t.types.iter().map(|t| type_ref(resolve, t)).collect())
        ),
        TypeDefKind::Variant(v) => format!(
            "variant {{{}}}",
            list(
                v.cases
                    .iter()
                    .map(|c| format!("{}({})", c.name, optional(resolve, &c.ty)))
                    .collect()
            )
        ),
        TypeDefKind::Enum(e) => format!(
            "enum {{{}}}",
            list(e.cases.iter().map(|c| c.name.clone()).collect())
        ),
        TypeDefKind::Option(t) => format!("option<{}>", type_ref(resolve, t)),
        TypeDefKind::Result(r) => format!(
            "result<{}, {}>",
            optional(resolve, &r.ok),
            optional(resolve, &r.err)
        ),
        TypeDefKind::List(t) => format!("list<{}>", type_ref(resolve, t)),
        TypeDefKind::Map(k, v) => {
            format!("map<{}, {}>", type_ref(resolve, k), type_ref(resolve, v))
        }
        TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", type_ref(resolve, t)),
        TypeDefKind::Future(t) => format!("future<{}>", optional(resolve, t)),
        TypeDefKind::Stream(t) => format!("stream<{}>", optional(resolve, t)),
        TypeDefKind::Type(t) => format!("= {}", type_ref(resolve, t)),
        TypeDefKind::Unknown => "unknown".into(),
    }
}

fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}: {}", p.name, type_ref(resolve, &p.ty)))
        .collect();
    format!(
        "{:?} func({}) -> {}",
        f.kind,
        params.join(", "),
        optional(resolve, &f.result)
    )
}

/// Every item of an interface: `type NAME` and `func NAME` with their structure.
fn interface_items(resolve: &Resolve, interface: &Interface) -> Vec<(String, String)> {
    let types = interface
        .types
        .iter()
        .map(|(name, id)| (format!("type {name}"), type_def(resolve, *id)));
    let functions = interface
        .functions
        .iter()
        .map(|(name, f)| (format!("func {name}"), signature(resolve, f)));
    types.chain(functions).collect()
}

/// What `old` has that `new` lacks or has changed, one line each.
fn missing_from(old: (&Resolve, PackageId), new: (&Resolve, PackageId)) -> Vec<String> {
    let ((old_resolve, old_pkg), (new_resolve, new_pkg)) = (old, new);
    let (old_pkg, new_pkg) = (
        &old_resolve.packages[old_pkg],
        &new_resolve.packages[new_pkg],
    );
    let mut problems = Vec::new();
    for (name, old_id) in &old_pkg.interfaces {
        let Some(new_id) = new_pkg.interfaces.get(name) else {
            problems.push(format!("interface {name} is gone"));
            continue;
        };
        let new_items = interface_items(new_resolve, &new_resolve.interfaces[*new_id]);
        for (item, shape) in interface_items(old_resolve, &old_resolve.interfaces[*old_id]) {
            match new_items.iter().find(|(i, _)| *i == item) {
                None => problems.push(format!("{name}: {item} is gone")),
                Some((_, now)) if *now != shape => {
                    problems.push(format!("{name}: {item} was `{shape}`, is `{now}`"))
                }
                Some(_) => {}
            }
        }
    }
    for (name, old_id) in &old_pkg.worlds {
        let Some(new_id) = new_pkg.worlds.get(name) else {
            problems.push(format!("world {name} is gone"));
            continue;
        };
        let (old_world, new_world) = (&old_resolve.worlds[*old_id], &new_resolve.worlds[*new_id]);
        for (direction, old_items, new_items) in [
            ("import", &old_world.imports, &new_world.imports),
            ("export", &old_world.exports, &new_world.exports),
        ] {
            let new_names: Vec<String> = new_items
                .keys()
                .map(|k| new_resolve.name_world_key(k))
                .collect();
            for key in old_items.keys() {
                // Interface keys carry the package version; compare without it.
                let old_name = old_resolve.name_world_key(key);
                let unversioned = old_name.split('@').next().unwrap_or(&old_name);
                if !new_names
                    .iter()
                    .any(|n| n.split('@').next() == Some(unversioned))
                {
                    problems.push(format!("world {name}: {direction} {old_name} is gone"));
                }
            }
        }
    }
    problems
}

fn frozen_contracts() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(wit_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("since_v")
        })
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn every_frozen_contract_is_a_subset_of_the_current_one() {
    let frozen = frozen_contracts();
    assert!(!frozen.is_empty(), "no wit/since_v*/ folder");
    let (current, current_pkg) = load(&wit_dir());
    for dir in frozen {
        let (old, old_pkg) = load(&dir);
        let problems = missing_from((&old, old_pkg), (&current, current_pkg));
        assert!(
            problems.is_empty(),
            "{} is not a subset of wit/:\n  {}",
            dir.display(),
            problems.join("\n  ")
        );
    }
}

#[test]
fn a_changed_or_removed_item_is_reported() {
    let (current, current_pkg) = load(&wit_dir());
    let (old, old_pkg) = load(&wit_dir().join("since_v0.1.0"));
    // Today's contract is not a subset of 0.1.0: it added `host.log-enabled` (and the
    // `base` world the three include).
    let problems = missing_from((&current, current_pkg), (&old, old_pkg));
    assert_eq!(
        problems,
        ["host: func log-enabled is gone", "world base is gone"]
    );
}
