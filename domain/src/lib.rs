//! Petbridge's model and rules. No HTTP lives here: the API crates parse and
//! authenticate, then call a service with the caller's [`Scope`].
//!
//! The modules are layers, bottom first; a module uses only those above it
//! in this list, never one below (`workspace::layers_point_down` checks):
//!
//! 1. `kernel`: values every feature shares (scope and caller, security
//!    levels and permissions, the practice, parsed text, paging, error codes)
//!    and pure helpers (tokens, passwords, images, spreadsheet cells).
//! 2. `db`: the sea-orm entities and the write transaction.
//! 3. `ports`: the outside world (clock, bus, storage, delivery providers),
//!    the caches, and the [`Platform`] that holds them.
//! 4. One folder per feature, each using only features before it:
//!    `activity`, `practices`, `deliveries`, `staff`, `households`, `chat`,
//!    `texting`, `selfies`, `notifications`, `loyalty`, `requests`,
//!    `campaigns`, `reminders`, `performance`, `payments`, `plans`, `sync`,
//!    `owners`.

pub mod kernel;

pub mod db;

pub mod ports;

pub mod activity;
pub mod campaigns;
pub mod chat;
pub mod deliveries;
pub mod households;
pub mod loyalty;
pub mod notifications;
pub mod owners;
pub mod payments;
pub mod performance;
pub mod plans;
pub mod practices;
pub mod reminders;
pub mod requests;
pub mod selfies;
pub mod staff;
pub mod sync;
pub mod texting;

pub use kernel::caller::{Actor, Origin, Scope};
pub use kernel::error::{Code, DomainError, DomainResult, Kind};
pub use kernel::paging::{Cursor, Page};
pub use ports::platform::Platform;
pub use sea_orm;

/// The layers of [`self`], bottom first, as the module doc states them.
#[cfg(test)]
const LAYERS: &[&str] = &[
    "kernel",
    "db",
    "ports",
    "activity",
    "practices",
    "deliveries",
    "staff",
    "households",
    "chat",
    "texting",
    "selfies",
    "notifications",
    "loyalty",
    "requests",
    "campaigns",
    "reminders",
    "performance",
    "payments",
    "plans",
    "sync",
    "owners",
];

/// Checks over the workspace's own sources.
#[cfg(test)]
pub(crate) mod workspace {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::{Path, PathBuf};

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
    }

    /// The workspace's members, as its Cargo.toml lists them.
    fn members() -> Vec<String> {
        let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap_or_default();
        let list = manifest.split_once("members = [").and_then(|(_, rest)| rest.split_once(']')).map(|(l, _)| l);
        list.unwrap_or_default()
            .split(',')
            .map(|m| m.trim().trim_matches('"').to_owned())
            .filter(|m| !m.is_empty())
            .collect()
    }

    /// Each Rust file of `krate`'s `src`, as (module path, text); `lib.rs`
    /// and `main.rs` are the root, "".
    pub(crate) fn files(krate: &str) -> Vec<(String, String)> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(base, &path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let relative = path.strip_prefix(base).unwrap_or(&path).with_extension("");
                    let mut parts: Vec<String> =
                        relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
                        parts.pop();
                    }
                    out.push((parts.join("::"), std::fs::read_to_string(&path).unwrap_or_default()));
                }
            }
        }
        let base = root().join(krate).join("src");
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }

    /// The Rust sources of the workspace's `crates`, concatenated.
    pub(crate) fn sources(crates: &[&str]) -> String {
        crates.iter().flat_map(|krate| files(krate)).map(|(_, text)| text).collect()
    }

    /// The paths a `use` tree names: `a::{b, c::{d, e}}` is `a::b`, `a::c::d`, `a::c::e`.
    fn flatten(prefix: &str, tree: &str, out: &mut Vec<String>) {
        let (mut depth, mut start) = (0, 0);
        let bytes: Vec<char> = tree.chars().collect();
        let mut items = Vec::new();
        for (i, c) in bytes.iter().enumerate() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(bytes[start..i].iter().collect::<String>());
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(bytes[start..].iter().collect());
        for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
            match (item.find('{'), item.rfind('}')) {
                (Some(open), Some(close)) => {
                    flatten(&format!("{prefix}{}", &item[..open]), &item[open + 1..close], out)
                }
                _ => out.push(format!("{prefix}{}", item.split(" as ").next().unwrap_or(item).trim())),
            }
        }
    }

    /// Every path below the crate root that `text` names, in `use crate::…`
    /// trees or inline as `crate::…`, and `super::…` seen from `module`.
    fn named_paths(module: &str, text: &str) -> Vec<String> {
        let text: String =
            text.split_whitespace().collect::<Vec<_>>().join(" ").replace(":: ", "::").replace(" ::", "::");
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        let mut paths = Vec::new();
        for (root, base) in [("crate::", String::new()), ("super::", parent.to_owned())] {
            let mut rest = text.as_str();
            while let Some(at) = rest.find(root) {
                let before = rest[..at].chars().last();
                rest = &rest[at + root.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                    continue;
                }
                let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
                let (head, tail) = rest.split_at(end);
                let prefix = if base.is_empty() { String::new() } else { format!("{base}::") };
                if (head.is_empty() || head.ends_with("::")) && tail.starts_with('{') {
                    let close = matching_brace(tail);
                    flatten(&format!("{prefix}{head}"), &tail[1..close], &mut paths);
                } else if !head.is_empty() && !head.ends_with("::*") && head != "*" {
                    paths.push(format!("{prefix}{head}"));
                }
            }
        }
        paths
    }

    fn matching_brace(text: &str) -> usize {
        let mut depth = 0;
        for (i, c) in text.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
        }
        text.len()
    }

    /// Which modules of `krate` each module names (its own descendants and
    /// ancestors left out: a folder's `mod.rs` only declares its children).
    /// A name the root re-exports (`crate::Platform`) counts as its home.
    pub(crate) fn module_graph(krate: &str) -> BTreeMap<String, BTreeSet<String>> {
        let files = files(krate);
        let modules: BTreeSet<&str> = files.iter().map(|(m, _)| m.as_str()).collect();
        let root_text = files.iter().find(|(m, _)| m.is_empty()).map(|(_, t)| t.as_str()).unwrap_or_default();
        let mut reexports = BTreeMap::new();
        for line in root_text.lines().filter_map(|l| l.strip_prefix("pub use ")) {
            let mut paths = Vec::new();
            flatten("", line.trim_end_matches(';'), &mut paths);
            for path in paths {
                if let Some((home, name)) = path.rsplit_once("::") {
                    reexports.insert(name.to_owned(), home.to_owned());
                }
            }
        }
        let home_of = |path: &str| -> Option<String> {
            let path = match path.split("::").next().and_then(|first| reexports.get(first)) {
                Some(home) => format!("{home}::{path}"),
                None => path.to_owned(),
            };
            let parts: Vec<&str> = path.split("::").filter(|p| *p != "self").collect();
            (1..=parts.len()).rev().map(|n| parts[..n].join("::")).find(|m| modules.contains(m.as_str()))
        };
        let mut graph = BTreeMap::new();
        for (module, text) in &files {
            let named: BTreeSet<String> = named_paths(module, text)
                .iter()
                .filter_map(|path| home_of(path))
                .filter(|target| {
                    let related = |a: &str, b: &str| a.is_empty() || b.starts_with(&format!("{a}::")) || a == b;
                    !related(target, module) && !related(module, target)
                })
                .collect();
            graph.insert(module.clone(), named);
        }
        graph
    }

    /// The circles of a module graph: each strongly connected set of more
    /// than one module (Tarjan's algorithm).
    fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
        struct Search<'g> {
            graph: &'g BTreeMap<String, BTreeSet<String>>,
            index: BTreeMap<&'g str, usize>,
            low: BTreeMap<&'g str, usize>,
            stack: Vec<&'g str>,
            found: Vec<Vec<String>>,
        }
        impl<'g> Search<'g> {
            fn visit(&mut self, node: &'g str) {
                let at = self.index.len();
                self.index.insert(node, at);
                self.low.insert(node, at);
                self.stack.push(node);
                for next in self.graph.get(node).into_iter().flatten() {
                    let next = next.as_str();
                    if !self.index.contains_key(next) {
                        self.visit(next);
                        let low = self.low[node].min(self.low[next]);
                        self.low.insert(node, low);
                    } else if self.stack.contains(&next) {
                        let low = self.low[node].min(self.index[next]);
                        self.low.insert(node, low);
                    }
                }
                if self.low[node] == self.index[node] {
                    let mut members = Vec::new();
                    while let Some(top) = self.stack.pop() {
                        members.push(top.to_owned());
                        if top == node {
                            break;
                        }
                    }
                    if members.len() > 1 {
                        members.sort();
                        self.found.push(members);
                    }
                }
            }
        }
        let mut search =
            Search { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
        for node in graph.keys() {
            if !search.index.contains_key(node.as_str()) {
                search.visit(node);
            }
        }
        search.found
    }

    /// The layers of `lib.rs`: a module never uses one in a later layer.
    #[test]
    fn layers_point_down() {
        let layer = |module: &str| {
            let top = module.split("::").next().unwrap_or_default();
            super::LAYERS.iter().position(|l| *l == top)
        };
        let mut upward = Vec::new();
        for (module, named) in module_graph("domain") {
            let Some(own) = layer(&module) else { continue };
            for target in named {
                if layer(&target).is_some_and(|theirs| theirs > own) {
                    upward.push(format!("{module} uses {target}"));
                }
            }
        }
        assert!(upward.is_empty(), "imports that point up the layers of lib.rs: {upward:#?}");
        let declared: Vec<String> =
            files("domain").into_iter().filter(|(m, _)| !m.is_empty() && !m.contains("::")).map(|(m, _)| m).collect();
        for module in &declared {
            assert!(layer(module).is_some(), "{module} is in no layer of lib.rs");
        }
    }

    /// No two modules of any crate need each other, directly or round about.
    #[test]
    fn no_crate_has_an_import_circle() {
        let mut found = Vec::new();
        for krate in members() {
            for circle in circles(&module_graph(&krate)) {
                found.push(format!("{krate}: {}", circle.join(" → ")));
            }
        }
        assert!(found.is_empty(), "import circles: {found:#?}");
    }

    /// In the API crates a feature's modules use the shared `kit` and their
    /// own feature only; `routes` alone names the features, to mount them.
    #[test]
    fn features_meet_only_in_routes() {
        let mut crossing = Vec::new();
        for krate in ["dashboard", "mobile-api"] {
            for (module, named) in module_graph(krate) {
                let own = module.split("::").next().unwrap_or_default();
                if matches!(own, "" | "kit" | "routes") {
                    continue;
                }
                for target in named {
                    let theirs = target.split("::").next().unwrap_or_default();
                    if theirs != own && theirs != "kit" {
                        crossing.push(format!("{krate}: {module} uses {target}"));
                    }
                }
            }
        }
        assert!(crossing.is_empty(), "features that name each other: {crossing:#?}");
    }

    /// The checker sees a circle and an upward import when there is one.
    #[test]
    fn the_checks_see_what_they_look_for() {
        let mut graph = BTreeMap::new();
        for (module, text) in [("a", "use crate::{b::{self, X}, c};"), ("b", "fn f() { crate::a::g() }"), ("c", "")] {
            let named = named_paths(module, text);
            graph.insert(
                module.to_owned(),
                named.iter().map(|p| p.split("::").next().unwrap_or_default().to_owned()).collect(),
            );
        }
        assert_eq!(circles(&graph), vec![vec!["a".to_owned(), "b".to_owned()]]);
        assert_eq!(named_paths("x::y", "use super::z::W;"), vec!["x::z::W".to_owned()]);
    }

    /// Services choose their connections: the crates that serve requests and
    /// deliveries never name the database, so no handler picks a connection
    /// or opens a transaction for a service.
    #[test]
    fn no_crate_above_the_domain_touches_the_database() {
        for krate in ["http", "realtime", "dashboard", "mobile-api", "workers"] {
            let text = sources(&[krate]);
            for needle in ["platform.db", "platform.writer", ".begin_write("] {
                assert!(!text.contains(needle), "{krate} names {needle}: call a service instead");
            }
        }
    }
}
