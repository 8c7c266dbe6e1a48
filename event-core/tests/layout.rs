//! The architecture, held by tests: the manager side never names the supervision side, and
//! every folder says in its `mod.rs` header what lives there.

use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file below `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The code of a file, without its comments (line comments, doc comments included).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split("//").next().unwrap_or("").to_string()))
        .filter(|(_, code)| !code.trim().is_empty())
        .collect()
}

#[test]
fn the_manager_side_never_names_the_supervision_side() {
    let manager = src().join("manager");
    let files = rust_files(&manager);
    assert!(
        files.len() > 10,
        "the manager side is in {}",
        manager.display()
    );
    let mut found = Vec::new();
    for file in &files {
        for (n, code) in code_lines(file) {
            if code.contains("supervision") {
                found.push(format!("{}:{n}: {}", file.display(), code.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "manager/ names supervision/; the supervised mode of a manager goes through \
         manager/supervised.rs instead:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_folder_says_what_lives_there() {
    let mut dirs = vec![src()];
    let mut seen = 0;
    while let Some(d) = dirs.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && path.file_name().is_some_and(|n| n != "guide") {
                let header = fs::read_to_string(path.join("mod.rs")).unwrap_or_default();
                assert!(
                    header.starts_with("//!"),
                    "{}/mod.rs starts with a header saying what lives there",
                    path.display()
                );
                seen += 1;
                dirs.push(path);
            }
        }
    }
    assert!(seen >= 2, "manager/ and supervision/ at least");
}
