//! The dependency rules of docs/ARCHITECTURE.md, checked on the source: a module that names
//! what it may not know fails here, whatever compiles.

use std::path::Path;

/// (folder, paths its code may not name, why).
const RULES: &[(&str, &[&str], &str)] = &[
    (
        "src/api",
        &[
            "crate::ledger",
            "crate::holds",
            "crate::routing",
            "crate::jobs",
            "crate::lookup",
            "crate::planning",
            "allot_solver",
            "tokio_postgres",
            "deadpool_postgres",
            "redis::",
        ],
        "HTTP only: it calls the application layer (crate::app)",
    ),
    (
        "src/holds",
        &[
            "crate::ledger",
            "tokio_postgres",
            "deadpool_postgres",
            "crate::app",
        ],
        "Redis only: the application layer hands it the ledger's figures",
    ),
    (
        "src/ledger",
        &[
            "crate::planning",
            "crate::routing",
            "crate::holds",
            "crate::app",
            "redis::",
        ],
        "PostgreSQL only: plan rows are domain types",
    ),
    (
        "src/domain",
        &[
            "crate::ledger",
            "crate::holds",
            "crate::routing",
            "crate::app",
            "crate::api",
            "tokio",
            "deadpool_postgres",
            "redis::",
        ],
        "pure: no I/O",
    ),
    (
        "src/planning",
        &[
            "crate::ledger",
            "crate::holds",
            "crate::routing",
            "crate::app",
            "tokio",
        ],
        "pure planning rules",
    ),
];

fn sources(folder: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("a source folder") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_names_only_what_its_layer_may_know() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut broken = Vec::new();
    for (folder, forbidden, why) in RULES {
        let mut files = Vec::new();
        sources(&root.join(folder), &mut files);
        assert!(!files.is_empty(), "{folder} has no sources");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("a readable source");
            for (number, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                for name in forbidden.iter().filter(|name| code.contains(*name)) {
                    let at = file.strip_prefix(root).unwrap_or(&file).display();
                    broken.push(format!("{at}:{}: names {name} ({why})", number + 1));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
