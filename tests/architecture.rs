//! The one-way flow of ARCHITECTURE.md, checked on the source: every
//! `crate::` and `super::` path in the library's files (`use` lines and
//! paths in code, comments left out) is resolved to the module file it
//! names. The test fails when a layer reaches the wrong way (probe → rules
//! or report, report → rules, rules → probe, history ↔ probe or rules, serve → probe or rules, anything but command → serve) or when files import each
//! other in a circle.
//!
//! A parent module declaring its children (`mod x; pub use x::Y;`) is
//! structure, not an import, so only paths through `crate::` and `super::`
//! count. Test modules (`#[cfg(test)]` to the end of the file) are left out:
//! a test may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layers that must not import the other: (from, to).
const FORBIDDEN: [(&str, &str); 15] = [
    ("probe", "rules"),
    ("probe", "report"),
    ("report", "rules"),
    ("rules", "probe"),
    // The history sits beside report/, reading finished reports: it never
    // probes or judges, and nothing before the command layer reads it.
    ("history", "probe"),
    ("history", "rules"),
    ("probe", "history"),
    ("rules", "history"),
    ("report", "history"),
    // The dashboard formats the history: it never probes or judges, and
    // only the command layer starts it.
    ("serve", "probe"),
    ("serve", "rules"),
    ("history", "serve"),
    ("report", "serve"),
    ("probe", "serve"),
    ("rules", "serve"),
];

/// Circles tolerated for now: none. A circle added here is tolerated while
/// it exists exactly so; once it is gone or has changed shape the test fails
/// until its entry is deleted.
const PENDING_CIRCLES: [&[&str]; 0] = [];

/// A module of the library: `["probe", "smtp"]` for src/probe/smtp.rs.
type Module = Vec<String>;

/// The library's module files and the modules each one imports.
struct Graph {
    files: BTreeMap<Module, PathBuf>,
    imports: BTreeMap<Module, BTreeSet<Module>>,
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Modules of the binary (`mod x;` in main.rs): their `crate::` is the
/// binary's, so they are not part of the library's graph.
fn binary_modules(root: &Path) -> BTreeSet<String> {
    let main = std::fs::read_to_string(root.join("main.rs")).unwrap_or_default();
    let mut modules: BTreeSet<String> = main
        .lines()
        .filter_map(|l| l.trim().strip_prefix("mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .map(str::to_string)
        .collect();
    modules.insert("main".to_string());
    modules
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module a file holds: src/a/b.rs and src/a/b/mod.rs are `a::b`.
fn module_of(root: &Path, file: &Path) -> Module {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: Module = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The code of a file without comments and without its test module.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Expands a `use` tree (whitespace removed) into full paths:
/// `crate::a::{b,c::{d,self}}` gives `crate::a::b`, `crate::a::c::d`,
/// `crate::a::c`.
fn expand(tree: &str, prefix: &str, out: &mut Vec<String>) {
    match tree.find('{') {
        None => out.push(format!("{prefix}{tree}")),
        Some(open) => {
            let head = &tree[..open];
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            let mut parts = Vec::new();
            for (index, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(&inner[start..index]);
                        start = index + 1;
                    }
                    _ => {}
                }
            }
            parts.push(&inner[start..]);
            for part in parts.into_iter().filter(|p| !p.is_empty()) {
                if part == "self" {
                    out.push(format!("{prefix}{}", head.trim_end_matches("::")));
                } else {
                    expand(part, &format!("{prefix}{head}"), out);
                }
            }
        }
    }
}

/// Every `crate::…` and `super::…` path in `code`, as written.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    // `use` statements, braces and all.
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        rest = &rest[at + 4..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        // `x as y` renames: only `x` names a module.
        let mut words = rest[..end].split_whitespace();
        let mut tree = String::new();
        while let Some(word) = words.next() {
            if word == "as" {
                words.next();
            } else {
                tree.push_str(word);
            }
        }
        if tree.starts_with("crate::") || tree.starts_with("super::") {
            expand(&tree, "", &mut paths);
        }
        rest = &rest[end..];
    }
    // Paths in code: `crate::probe::scan_domain(…)`.
    for start in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            let preceded = code[..begin]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':' || c == '$');
            let end = code[begin..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| begin + e);
            if !preceded {
                paths.push(code[begin..end].trim_end_matches(':').to_string());
            }
            from = end.max(begin + start.len());
        }
    }
    paths
}

/// The module file a path names: the longest prefix that is one.
fn resolve(path: &str, module: &Module, files: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Module = Vec::new();
    if segments.first() == Some(&"crate") {
        segments.remove(0);
    } else {
        // `super` of a.rs (module a::b) is a; of a/b/mod.rs (a::b) too.
        base = module.clone();
        while segments.first() == Some(&"super") {
            segments.remove(0);
            base.pop()?;
        }
    }
    base.extend(segments.iter().map(|s| s.to_string()));
    (1..=base.len())
        .rev()
        .map(|len| base[..len].to_vec())
        .find(|candidate| files.contains_key(candidate))
}

fn graph() -> Graph {
    let root = source_root();
    let binary = binary_modules(&root);
    let mut all = Vec::new();
    rust_files(&root, &mut all);
    let files: BTreeMap<Module, PathBuf> = all
        .into_iter()
        .map(|file| (module_of(&root, &file), file))
        .filter(|(module, _)| !module.first().is_some_and(|top| binary.contains(top)))
        .collect();
    let mut imports = BTreeMap::new();
    for (module, file) in &files {
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        let targets: BTreeSet<Module> = paths_in(&code)
            .iter()
            .filter_map(|path| resolve(path, module, &files))
            .filter(|target| target != module)
            .collect();
        imports.insert(module.clone(), targets);
    }
    Graph { files, imports }
}

fn name(module: &Module) -> String {
    if module.is_empty() {
        "crate".to_string()
    } else {
        module.join("::")
    }
}

/// Groups of modules that import each other in a circle (Tarjan's strongly
/// connected components of more than one module).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g Module, usize>,
        low: BTreeMap<&'g Module, usize>,
        stack: Vec<&'g Module>,
        on_stack: BTreeSet<&'g Module>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(state: &mut State<'g>, module: &'g Module) {
        let next = state.index.len();
        state.index.insert(module, next);
        state.low.insert(module, next);
        state.stack.push(module);
        state.on_stack.insert(module);
        for target in &state.graph.imports[module] {
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[target].min(state.low[module]);
                state.low.insert(module, low);
            } else if state.on_stack.contains(target) {
                let low = state.index[target].min(state.low[module]);
                state.low.insert(module, low);
            }
        }
        if state.low[module] == state.index[module] {
            let mut group = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                group.push(name(member));
                if member == module {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                state.found.push(group);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for module in graph.imports.keys() {
        if !state.index.contains_key(module) {
            visit(&mut state, module);
        }
    }
    state.found
}

#[test]
fn the_parser_reads_use_trees_and_paths_in_code() {
    let code = code_of(
        "use crate::report::{self, assessment::Grade as G};\n// use crate::rules::evaluate;\nuse super::{spans::Step, Rule};\nfn f() { crate::probe::scan(); x::crate_like(); }\n#[cfg(test)]\nmod tests { use crate::scan; }\n",
    );
    let paths = paths_in(&code);
    for expected in [
        "crate::report",
        "crate::report::assessment::Grade",
        "super::spans::Step",
        "super::Rule",
        "crate::probe::scan",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("rules") || p.contains("scan;")),
        "{paths:?}"
    );
    let files: BTreeMap<Module, PathBuf> = [
        vec!["rules".to_string()],
        vec!["rules".into(), "spans".into()],
    ]
    .into_iter()
    .map(|m| (m, PathBuf::new()))
    .collect();
    let engine = vec!["rules".to_string(), "engine".to_string()];
    assert_eq!(
        resolve("super::spans::Step", &engine, &files),
        Some(vec!["rules".to_string(), "spans".to_string()])
    );
    assert_eq!(
        resolve("super::Rule", &engine, &files),
        Some(vec!["rules".to_string()])
    );
}

#[test]
fn layers_import_only_downstream() {
    let graph = graph();
    assert!(graph.files.len() > 50, "the library's files were found");
    let mut wrong = Vec::new();
    for (module, targets) in &graph.imports {
        for target in targets {
            let (Some(from), Some(to)) = (module.first(), target.first()) else {
                continue;
            };
            if FORBIDDEN.contains(&(from.as_str(), to.as_str())) {
                wrong.push(format!(
                    "{} ({}) imports {}",
                    name(module),
                    graph.files[module].display(),
                    name(target)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the flow probe → evidence → rules → report:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let mut found = circles(&graph());
    let pending: Vec<Vec<String>> = PENDING_CIRCLES
        .iter()
        .map(|group| group.iter().map(|m| m.to_string()).collect())
        .collect();
    let gone: Vec<String> = pending
        .iter()
        .filter(|group| !found.contains(group))
        .map(|group| group.join(" ↔ "))
        .collect();
    assert!(
        gone.is_empty(),
        "these circles are gone or changed shape; delete them from PENDING_CIRCLES:\n{}\nfound now: {found:?}",
        gone.join("\n")
    );
    found.retain(|group| !pending.contains(group));
    assert!(
        found.is_empty(),
        "modules that import each other in a circle:\n{}",
        found
            .iter()
            .map(|group| group.join(" ↔ "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
