//! The folder walk that takes each file's key on the way (`store::walk`, hand-written for
//! speed) against `walkdir` followed by a stat per file (what it replaced): the same files in
//! the same order, the same keys, the same problems.

use costlens::import::{ImportError, Options};
use costlens::store::cache::keys_of;
use costlens::store::walk::examine;
use std::path::{Path, PathBuf};

fn walkdir_files(root: &Path) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for e in walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
    {
        match e {
            Ok(e) if e.file_type().is_file() => files.push(e.into_path()),
            Ok(_) => {}
            Err(e) => errors.push(format!("{}: {e}", e.path().unwrap_or(root).display())),
        }
    }
    (files, errors)
}

fn error_text(e: &ImportError) -> String {
    match e {
        ImportError::Io(p, why) => format!("{p}: {why}"),
        other => other.to_string(),
    }
}

#[cfg(unix)]
#[test]
fn the_walk_finds_what_walkdir_finds_in_the_same_order_with_the_same_keys() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    let w = |p: &str, text: &str| {
        let p = root.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    // Names whose byte order differs from a naive or case-blind sort.
    for name in [
        "b.jsonl",
        "B.jsonl",
        "a-b.jsonl",
        "a.b.jsonl",
        "a/x.jsonl",
        "a/sub/deep/y.jsonl",
        "a b/z.jsonl",
        "ä/u.jsonl",
        "s1/subagents/agent-1.jsonl",
        "s1.jsonl",
        "s10/subagents/agent-2.jsonl",
        "s2/subagents/agent-3.jsonl",
    ] {
        w(name, name);
    }
    // A link to a file, a link to a folder elsewhere, a loop, a dangling link, an empty
    // folder, and a FIFO (neither file nor folder: skipped by both).
    w("../elsewhere/e.jsonl", "e");
    symlink(root.join("b.jsonl"), root.join("link-to-b.jsonl")).unwrap();
    symlink(dir.path().join("elsewhere"), root.join("a/linked")).unwrap();
    symlink(&root, root.join("a/sub/back")).unwrap();
    symlink(root.join("gone.jsonl"), root.join("dangling.jsonl")).unwrap();
    std::fs::create_dir_all(root.join("empty")).unwrap();
    let fifo = root.join("pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success())
    );

    let (expected, expected_errors) = walkdir_files(&root);
    let opts = Options::default();
    let got = examine(std::slice::from_ref(&root), &opts);
    let files: Vec<PathBuf> = got.files.iter().map(|f| f.0.clone()).collect();
    assert_eq!(files, expected);
    assert!(
        got.files.iter().all(|f| f.1),
        "every file came from a folder"
    );
    assert_eq!(files.len(), 14, "{files:?}");
    let refs: Vec<&PathBuf> = expected.iter().collect();
    assert_eq!(got.keys, keys_of(&refs, &opts));
    assert!(got.keys.iter().all(Option::is_some));
    let mut errors: Vec<String> = got.errors.iter().map(error_text).collect();
    let mut expected_errors = expected_errors;
    errors.sort();
    expected_errors.sort();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().any(|e| e.contains("File system loop found")));
    assert!(errors.iter().any(|e| e.contains("dangling.jsonl")));
    assert_eq!(errors, expected_errors);

    // A file named directly is examined as given, not as part of a folder.
    let named = root.join("a/x.jsonl");
    let got = examine(&[named.clone(), root.join("missing.jsonl")], &opts);
    assert_eq!(got.files, vec![(named.clone(), false)]);
    assert_eq!(got.keys, keys_of(&[&named], &opts));
    assert_eq!(got.errors.len(), 1);
}
