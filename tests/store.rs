//! Settings and other own files are written atomically and read back; an unreadable file is
//! reported and kept, never silently overwritten.

use costlens::store::settings::{Loaded, load_json, save_json};
use std::collections::BTreeMap;

#[test]
fn save_then_load_round_trips_and_leaves_no_temp_files() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("nested").join("settings.json");
    let mut v = BTreeMap::new();
    v.insert("theme".to_owned(), "dark".to_owned());
    save_json(&path, &v).expect("save");
    v.insert("theme".to_owned(), "light".to_owned());
    save_json(&path, &v).expect("save again");
    match load_json::<BTreeMap<String, String>>(&path) {
        Loaded::Ok(back) => assert_eq!(back["theme"], "light"),
        other => panic!("{other:?}"),
    }
    let names: Vec<_> = std::fs::read_dir(path.parent().expect("parent"))
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("settings.json")]);
}

#[test]
fn missing_file_is_missing() {
    let dir = tempfile::tempdir().expect("dir");
    assert!(matches!(
        load_json::<BTreeMap<String, String>>(&dir.path().join("nope.json")),
        Loaded::Missing
    ));
}

#[test]
fn corrupt_file_is_reported_and_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("settings.json");
    std::fs::write(&path, "{ not json").expect("write");
    match load_json::<BTreeMap<String, String>>(&path) {
        Loaded::Unreadable(why) => assert!(why.contains("kept as"), "{why}"),
        other => panic!("{other:?}"),
    }
    let kept = dir.path().join("settings.json.unreadable");
    assert_eq!(std::fs::read_to_string(kept).expect("kept"), "{ not json");
}

#[test]
fn saving_into_an_unwritable_place_fails_with_a_reason() {
    let err = save_json(
        std::path::Path::new("/proc/costlens-test/settings.json"),
        &1,
    )
    .unwrap_err();
    assert!(!err.to_string().is_empty());
}
