//! Rules about the code's shape that the compiler does not enforce.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every package reachable from `package` through normal and build dependencies (not dev ones),
/// on this platform.
fn runtime_dependencies(package: &str) -> BTreeSet<String> {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            package,
            "-e",
            "normal,build",
            "--prefix",
            "none",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap_or_else(|e| panic!("cargo tree: {e}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn http_layer_never_depends_on_diesel() {
    let deps = runtime_dependencies("crm-http");
    assert!(
        deps.contains("actix-web"),
        "the dependency walk found nothing: {deps:?}"
    );
    let database: Vec<_> = deps
        .iter()
        .filter(|d| {
            d.starts_with("diesel")
                || d.contains("sqlite")
                || *d == "pq-sys"
                || *d == "crm-persistence"
        })
        .collect();
    assert!(database.is_empty(), "crm-http depends on {database:?}");
}

#[test]
fn domain_depends_on_neither_actix_nor_diesel() {
    let deps = runtime_dependencies("crm-domain");
    let forbidden: Vec<_> = deps
        .iter()
        .filter(|d| {
            d.starts_with("diesel")
                || d.starts_with("actix")
                || d.starts_with("utoipa")
                || d.starts_with("crm-")
        })
        .collect();
    assert!(forbidden.is_empty(), "crm-domain depends on {forbidden:?}");
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The OpenAPI document is collected from `service(...)` registrations of handlers annotated with
/// `#[utoipa::path]`. A handler registered any other way would be served but missing from the
/// spec, so: every route macro carries `#[utoipa::path]`, and no API code registers routes with
/// `.route(`, `web::resource(` or `.to(` — except the documentation UI, which is not API.
#[test]
fn every_route_is_registered_through_the_spec() {
    let src = workspace_root().join("crates/crm-http/src");
    let files = rust_files(&src);
    assert!(files.len() > 5, "no sources found under {}", src.display());
    let mut handlers = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let lines: Vec<&str> = code.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let trimmed = line.trim_start();
            let is_route_macro = ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("]
                .iter()
                .any(|m| trimmed.starts_with(m));
            if is_route_macro {
                handlers += 1;
                let annotated = lines[..i]
                    .iter()
                    .rev()
                    .take_while(|l| {
                        !l.trim().is_empty()
                            && !l.trim_start().starts_with("pub")
                            && !l.trim_start().starts_with("async fn")
                    })
                    .any(|l| l.trim_start().starts_with("#[utoipa::path("));
                assert!(
                    annotated,
                    "{}:{} has no #[utoipa::path]",
                    file.display(),
                    i + 1
                );
            }
        }
        if file.ends_with("docs.rs") {
            continue;
        }
        for pattern in [
            ".route(",
            "web::resource(",
            "web::scope(",
            ".to(",
            "Resource::new(",
        ] {
            assert!(
                !code.contains(pattern),
                "{} registers a route with `{pattern}`, bypassing the OpenAPI document",
                file.display()
            );
        }
    }
    let document = serde_json::to_value(crm_http::openapi::document()).unwrap_or_default();
    let operations: usize = document["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, item)| {
            ["get", "post", "put", "patch", "delete"]
                .iter()
                .filter(|m| item.get(**m).is_some())
                .count()
        })
        .sum();
    assert_eq!(
        handlers, operations,
        "handlers defined vs operations in the spec"
    );
}

#[test]
fn migration_folders_hold_the_same_names() {
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(workspace_root().join("migrations").join(backend))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(sqlite, names("postgres"));
}

/// A row looked up by its key is read with `get_result`: `first` binds `LIMIT 1` as a
/// parameter, which makes SQLite recompile the cached statement on every call.
#[test]
fn key_lookups_do_not_bind_a_limit() {
    let dir = workspace_root().join("crates/crm-persistence/src");
    let mut found = Vec::new();
    for file in rust_files(&dir) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        // Each statement from a `.find(` to the end of the statement.
        for (start, _) in text.match_indices(".find(") {
            let statement = &text[start..];
            let end = statement.find(';').unwrap_or(statement.len());
            if statement[..end].contains(".first(") || statement[..end].contains(".first::<") {
                let line = text[..start].lines().count();
                found.push(format!("{}:{line}", file.display()));
            }
        }
    }
    assert!(found.is_empty(), "key lookups through `first`: {found:?}");
}
