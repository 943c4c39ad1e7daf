//! The core's layers, bottom to top: domain, engine, import, store, pipeline. A module may use
//! its own layer and those below it, never one above (the import cache once wrote the
//! dataset's private state, and records and cost imported each other). This reads every
//! source file of the library and fails on a path that climbs.

use std::path::Path;

const LAYERS: [&str; 5] = ["domain", "engine", "import", "store", "pipeline"];

fn rank(layer: &str) -> Option<usize> {
    LAYERS.iter().position(|l| *l == layer)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_layer_uses_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut problems = Vec::new();
    for layer in LAYERS {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has sources");
        let own = rank(layer).unwrap();
        for f in files {
            let text = std::fs::read_to_string(&f).unwrap();
            for (n, line) in text.lines().enumerate() {
                // Paths in code (`crate::engine::view::View`), not in comments.
                let code = line.split("//").next().unwrap_or("");
                for (i, _) in code.match_indices("crate::") {
                    let used: String = code[i + 7..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    match rank(&used) {
                        Some(r) if r > own => problems.push(format!(
                            "{}:{}: {layer} uses {used}: {}",
                            f.strip_prefix(&src).unwrap().display(),
                            n + 1,
                            line.trim()
                        )),
                        Some(_) => {}
                        None => problems.push(format!(
                            "{}:{}: crate::{used} is not a layer",
                            f.strip_prefix(&src).unwrap().display(),
                            n + 1
                        )),
                    }
                }
                // The core knows nothing of the user interface.
                for ui in ["egui", "eframe", "rfd"] {
                    if code.contains(&format!("{ui}::")) {
                        problems.push(format!(
                            "{}:{}: the core uses {ui}",
                            f.strip_prefix(&src).unwrap().display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_a_climbing_path() {
    // The same reading, on a line that climbs: the test above is not vacuous.
    let line = "use crate::pipeline::Pipeline; // in the domain";
    let code = line.split("//").next().unwrap();
    let i = code.find("crate::").unwrap();
    let used: String = code[i + 7..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(used, "pipeline");
    assert!(rank(&used).unwrap() > rank("domain").unwrap());
}
