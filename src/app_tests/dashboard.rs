//! The dashboard's fixes, clicked through: the file chooser where no dialog exists, gaps in
//! sparse data, "Extra cost", the chart's reset, the layout at 1000×700, sliders, the
//! tooltip, the table, the autosave, recent sets, the scenario notice and the status bar.

use super::*;
use crate::app::dashboard::hour_view;
use costlens::domain::time;
use egui::accesskit::Role;
use egui_kittest::kittest::NodeT;

const USAGE_HEADER: &str = "usage_date_utc,model_version,api_key,workspace,usage_type,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count\n";

/// A Console usage export with 1M uncached input tokens of Sonnet 4.5 ($3.00) on each day.
fn usage_csv(dir: &std::path::Path, name: &str, days: &[&str]) -> PathBuf {
    let mut s = USAGE_HEADER.to_owned();
    for d in days {
        s.push_str(&format!(
            "{d},claude-sonnet-4-5-20250929,k,W,standard,1000000,0,0,0,0,0\n"
        ));
    }
    let p = dir.join(name);
    std::fs::write(&p, s).expect("write");
    p
}

fn harness_sized(w: f32, hgt: f32, dialogs: FakeDialogs) -> Harness<'static, CostlensApp> {
    Harness::builder()
        .with_size(egui::vec2(w, hgt))
        .with_theme(egui::Theme::Light)
        .wgpu()
        .build_eframe(move |_cc| CostlensApp::with_settings(Settings::default(), Box::new(dialogs)))
}

#[test]
fn without_a_system_dialog_open_falls_back_to_the_path_field() {
    let dir = tempfile::tempdir().unwrap();
    let file = usage_csv(dir.path(), "claude_api_tokens_2026_08.csv", &["2026-08-01"]);
    let dialogs = FakeDialogs {
        missing: true,
        ..Default::default()
    };
    let mut h = harness_with(dialogs);
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run();
    // Not taken for "cancelled": the chooser is open and the status bar says why.
    assert!(h.state().chooser().is_some(), "the built-in chooser opens");
    let status = h.state().status.clone().expect("a status");
    assert!(
        status.text.contains("no system file dialog"),
        "{}",
        status.text
    );
    assert!(!status.error);
    // Type the file's path (select what is there first) and open it.
    h.get_by_role_and_label(Role::TextInput, "Path")
        .set_text_value_accesskit(&file.display().to_string());
    h.run();
    h.get_by_label("Open").click();
    wait_for_import(&mut h);
    assert!(h.state().chooser().is_none());
    assert_eq!(h.state().source, Source::Files(vec![file.clone()]));
    // 1M uncached input tokens of Sonnet 4.5 at $3 per million.
    h.get_by_label("Actual (recomputed): $3.00");
}

#[test]
fn without_a_system_dialog_export_png_saves_where_typed_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("savings.png");
    let dialogs = FakeDialogs {
        missing: true,
        ..Default::default()
    };
    let asked = dialogs.asked.clone();
    let mut h = harness_with(dialogs);
    h.run();
    h.state_mut().settings.export_width = 640;
    h.state_mut().settings.export_height = 360;
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    h.run();
    h.get_by_label("Save PNG…").click();
    h.run();
    assert_eq!(asked.borrow().len(), 1, "the system dialog was tried first");
    let chooser = h.state().chooser().expect("chooser open");
    assert!(
        chooser.text.ends_with("costlens-savings.png"),
        "{}",
        chooser.text
    );
    h.get_by_role_and_label(Role::TextInput, "Path")
        .set_text_value_accesskit(&out.display().to_string());
    h.run();
    h.get_by_label("Save").click();
    h.run();
    for _ in 0..300 {
        if !h.state().is_exporting() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        h.step();
    }
    let img = image::open(&out).expect("PNG written").to_rgba8();
    assert_eq!((img.width(), img.height()), (640, 360));
    let status = h.state().status.clone().expect("status");
    assert_eq!(status.text, format!("Saved chart to {}", out.display()));
}

#[test]
fn the_built_in_chooser_refuses_a_missing_folder_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        chooser: ChooserChoice::BuiltIn,
        ..Settings::default()
    };
    let dialogs = FakeDialogs::default();
    let asked = dialogs.asked.clone();
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .wgpu()
        .build_eframe(move |_cc| CostlensApp::with_settings(settings, Box::new(dialogs)));
    h.run();
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::E,
    );
    h.run();
    assert!(
        asked.borrow().is_empty(),
        "the system dialog is not asked when the built-in one is chosen"
    );
    let bad = dir.path().join("nope").join("table.csv");
    h.get_by_role_and_label(Role::TextInput, "Path")
        .set_text_value_accesskit(&bad.display().to_string());
    h.run();
    h.get_by_label("Save").click();
    h.run();
    h.get_by_label_contains("does not exist");
    assert!(!bad.exists());
    // Cancel closes it; nothing written.
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.state().chooser().is_none());
}

#[test]
fn sparse_data_leaves_gaps_and_the_bill_ends_where_the_export_ends() {
    let dir = tempfile::tempdir().unwrap();
    let a = usage_csv(
        dir.path(),
        "a.csv",
        &["2026-08-01", "2026-08-02", "2026-08-03"],
    );
    let b = usage_csv(dir.path(), "b.csv", &["2026-08-20", "2026-08-22"]);
    let cost = dir.path().join("cost.csv");
    std::fs::write(
        &cost,
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,list_price_usd,cost_type,inference_geo,speed,api_key_id,api_key_status\n\
         2026-08-01,Claude Sonnet 4.5,W,k,standard,≤ 200k,input_no_cache,3.00,3.00,token,not_available,,apikey_1,active\n\
         2026-08-03,Claude Sonnet 4.5,W,k,standard,≤ 200k,input_no_cache,3.00,3.00,token,not_available,,apikey_1,active\n",
    )
    .unwrap();
    let mut h = harness();
    h.run();
    import(&mut h, vec![a, b, cost]);
    let c = h.state().chart.clone();
    let day = |s: &str| time::Period::parse_day(s).unwrap();
    // Every day from the first to the last, Aug 1 to Aug 22.
    assert_eq!(c.starts.first(), Some(&day("2026-08-01")));
    assert_eq!(c.starts.last(), Some(&day("2026-08-22")));
    assert_eq!(c.starts.len(), 22);
    let covered: Vec<bool> = (0..22).map(|i| c.usage_covers(i)).collect();
    // Aug 1-3 and Aug 20-22 covered (Aug 21 is a covered day without spend: $0), the rest a gap.
    let expect: Vec<bool> = (1..=22).map(|d| d <= 3 || d >= 20).collect();
    assert_eq!(covered, expect);
    assert_eq!(c.actual[20], 0.0, "Aug 21: covered, nothing spent");
    assert_eq!(c.actual[19], 3.0);
    // The scenario line is two stretches, not one line across the gap.
    let xs: Vec<f64> = c.starts.iter().map(|&s| s as f64).collect();
    let segs = crate::render::chart::segments(&xs, &c.scenario, |i| c.usage_covers(i));
    assert_eq!(segs.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3]);
    // The bill covers Aug 1-3 only: no drop to $0 after it.
    let billed: Vec<bool> = (0..22).map(|i| c.billed_covers(i)).collect();
    assert_eq!(billed, (1..=22).map(|d| d <= 3).collect::<Vec<_>>());
    // And the dashboard says so.
    h.get_by_label_contains("16 days without usage data left blank");
    h.get_by_label_contains("the cost export covers 2026-08-01 to 2026-08-03");
}

#[test]
fn week_and_month_axes_label_buckets() {
    let t = time::Period::parse_day("2026-08-05").unwrap();
    assert_eq!(
        time::Period::Week.axis_label(time::Period::Week.start(t)),
        "W32"
    );
    assert_eq!(
        time::Period::Month.axis_label(time::Period::Month.start(t)),
        "Aug 2026"
    );
    assert_eq!(time::Period::Day.axis_label(t), "Aug 05");
    assert_eq!(
        time::Period::Week.long_label(time::Period::Week.start(t)),
        "2026-W32 (Aug 03 to Aug 09)"
    );
}

#[test]
fn hour_view_only_for_hourly_data_over_a_readable_range() {
    let mut h = harness();
    h.run();
    // The sample is daily.
    assert!(hour_view(h.state()).is_err());
    assert!(h.get_by_label("hour").accesskit_node().is_disabled());
    // Hourly data over 30 days: offered only once the range is 14 days or less.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("requests.jsonl");
    let mut s = String::new();
    for d in 1..=30 {
        s.push_str(&format!(
            "{{\"timestamp\":\"2026-09-{d:02}T10:00:00Z\",\"model\":\"claude-sonnet-4-5-20250929\",\"usage\":{{\"input_tokens\":1000,\"output_tokens\":10}}}}\n"
        ));
    }
    std::fs::write(&log, s).unwrap();
    import(&mut h, vec![log]);
    assert!(h.state().choices.hourly, "requests carry their times");
    let why = hour_view(h.state()).unwrap_err();
    assert!(why.contains("up to 14 days"), "{why}");
    h.get_by_label("Last 7 days").click();
    h.run();
    assert!(hour_view(h.state()).is_ok());
    h.get_by_label("hour").click();
    h.run();
    assert_eq!(h.state().settings.spec.period, time::Period::Hour);
    // Back to all 30 days: the hour view is left for days.
    h.get_by_label("All").click();
    h.run();
    h.run();
    assert_eq!(h.state().settings.spec.period, time::Period::Day);
}

#[test]
fn a_dearer_scenario_is_an_extra_cost_everywhere() {
    let mut h = harness();
    h.run();
    slider(&h, "Traffic").set_value_accesskit(2.0);
    h.run();
    let neutral = core_eval(&Levers::default());
    // Twice the traffic costs the actual cost again, as an extra cost, not a "-$" saving.
    h.get_by_label(&format!("Extra cost: {}", money::usd(neutral.actual)));
    assert!(h.query_by_label_contains("Saving: -").is_none());
    let line = h.state().chart.totals_line();
    assert!(
        line.contains(&format!("Extra cost {}", money::usd(neutral.actual))),
        "{line}"
    );
    assert!(!line.contains("-$"), "{line}");
    // The table's total row and the lever panel say it too.
    h.get_by_label(&format!("{} extra", money::usd(neutral.actual)));
    h.get_by_label(&format!(
        "Extra cost {} (100.0%)",
        money::usd(neutral.actual)
    ));
}

#[test]
fn presets_start_from_what_is_observed() {
    // The caching preset never assumes less caching than the data has, so it never raises
    // the bill (it once raised the sample's by 15.5%).
    let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
    let a = Analysis::new(loaded.data, PriceTable::bundled(), &prompt_length_grid());
    let view = a.view(&ViewSpec::default());
    let obs = view.observed;
    let (_, _, cache) = crate::app::levers::presets(&obs)
        .into_iter()
        .find(|p| p.0 == "Cache the system prompt")
        .expect("preset");
    // It adds caching row by row (the absolute sliders would set every row alike, lowering
    // the rows that cache more than the average).
    assert_eq!((cache.cache_share, cache.cache_hit), (None, None));
    assert!(cache.cache_more > 0.0);
    let ev = view.evaluate(&a.table, &cache.resolve(&a.table).unwrap());
    assert!(ev.scenario <= ev.actual, "{} > {}", ev.scenario, ev.actual);
}

#[test]
fn new_data_and_reset_view_fit_the_chart_again() {
    let mut h = harness();
    h.run();
    let id = crate::render::chart::chart_id(true);
    let auto = |h: &Harness<'static, CostlensApp>| {
        egui_plot::PlotMemory::load(&h.ctx, id)
            .expect("plot memory")
            .auto_bounds
    };
    assert!(auto(&h).all());
    // Drag the chart sideways: it stops fitting the data.
    let pan = |h: &mut Harness<'static, CostlensApp>| {
        let frame = *egui_plot::PlotMemory::load(&h.ctx, id)
            .unwrap()
            .transform()
            .frame();
        let c = frame.center();
        h.drag_at(c);
        h.step();
        for dx in [20.0, 60.0, 120.0] {
            h.hover_at(c + egui::vec2(dx, 0.0));
            h.step();
        }
        h.drop_at(c + egui::vec2(120.0, 0.0));
    };
    pan(&mut h);
    h.run();
    assert!(!auto(&h).any());
    // The toolbar's button fits it again.
    h.get_by_label("Reset view").click();
    h.run();
    assert!(auto(&h).all(), "reset view");
    // And so does new data.
    pan(&mut h);
    h.run();
    assert!(!auto(&h).any());
    let dir = tempfile::tempdir().unwrap();
    let f = usage_csv(dir.path(), "u.csv", &["2025-01-01"]);
    import(&mut h, vec![f]);
    assert!(auto(&h).all(), "new data");
}

#[test]
fn at_1000_by_700_the_toolbar_chart_and_sliders_fit() {
    let mut h = harness_sized(1000.0, 700.0, FakeDialogs::default());
    h.run();
    let window = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1000.0, 700.0));
    for label in [
        "Export PNG…",
        "Export CSV…",
        "Cumulative",
        "Reset view",
        "week",
        "month",
    ] {
        let r = h.get_by_label(label).rect();
        assert!(
            window.contains_rect(r),
            "{label} at {r:?} is outside the window"
        );
    }
    // The chart starts above the fold.
    let chart = egui_plot::PlotMemory::load(&h.ctx, crate::render::chart::chart_id(true))
        .expect("chart drawn");
    let top = chart.transform().frame().top();
    assert!(top < 600.0, "chart starts at y = {top}");
    // Sliders take the panel's width (they were 100 points for ×0.1 to ×10).
    let s = slider(&h, "Traffic").rect();
    assert!(s.width() >= 150.0, "slider {} wide", s.width());
    // Hiding both side panels gives the centre the window.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::OpenBracket);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::CloseBracket);
    h.run();
    assert!(!h.state().settings.show_filters && !h.state().settings.show_levers);
    assert!(h.query_by_role_and_label(Role::Slider, "Traffic").is_none());
}

#[test]
fn out_of_range_values_are_refused_and_said_and_ctrl_r_resets_from_a_value_box() {
    let mut h = harness();
    h.run();
    slider(&h, "Traffic").set_value_accesskit(40.0);
    h.run();
    assert_eq!(
        h.state().settings.levers.traffic,
        1.0,
        "not clamped to ×10 silently"
    );
    h.get_by_label_contains("Traffic must be between ×0.1 and ×10: ×40 was not applied");
    slider(&h, "Moved to batch").set_value_accesskit(30.0);
    h.run();
    assert_eq!(h.state().settings.levers.batch_share, 0.3);
    // Focus a slider's value box, then Ctrl+R: the levers reset (the box does not take it).
    slider(&h, "Traffic").focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    h.run();
    assert!(h.state().settings.levers.is_neutral());
    // The − / + buttons step finely.
    let plus = h.get_all_by_label("+").next().expect("a + button");
    plus.click();
    h.run();
    assert!((h.state().settings.levers.traffic - 1.01).abs() < 1e-12);
}

#[test]
fn one_tooltip_over_the_chart_gives_every_figure_of_the_period() {
    let mut h = harness();
    h.run();
    let mem = egui_plot::PlotMemory::load(&h.ctx, crate::render::chart::chart_id(true)).unwrap();
    let t = mem.transform();
    let c = h.state().chart.clone();
    let i = c.starts.len() / 2;
    let x = c.starts[i] as f64 + 43_200.0;
    let pos = t.position_from_point(&egui_plot::PlotPoint::new(x, c.actual[i] / 2.0));
    h.hover_at(pos);
    h.run();
    h.get_by_label(&time::Period::Day.long_label(c.starts[i]));
    // The period's actual, scenario and bill, as money.
    let billed = c.billed.as_ref().unwrap()[i];
    assert!(h.query_all_by_label(&money::usd(c.actual[i])).count() >= 2);
    assert!(h.query_all_by_label(&money::usd(billed)).count() >= 1);
    assert!(
        h.query_all_by_label("Billed").count() >= 2,
        "the legend's and the tooltip's"
    );
}

#[test]
fn the_table_sorts_totals_shares_and_filters_on_click() {
    let mut h = harness();
    h.run();
    let ev = core_eval(&Levers::default());
    // Largest first, with the total.
    h.get_by_label("Total (4)");
    let labels: Vec<String> = h
        .get_all_by_role(Role::Link)
        .filter_map(|n| n.accesskit_node().label())
        .filter(|l| l.starts_with("Claude"))
        .collect();
    assert_eq!(
        labels.first().map(String::as_str),
        Some("Claude Sonnet 4.5")
    );
    // Sonnet 4.5's share of the actual cost, computed here.
    let nd = h.state().pipeline.view().dims.len();
    let sonnet = h
        .state()
        .pipeline
        .view()
        .dims
        .iter()
        .position(|d| d == "Claude Sonnet 4.5")
        .unwrap();
    let share = 100.0 * ev.actual_by_dim(nd)[sonnet] / ev.actual;
    h.get_by_label(&money::pct(share));
    // Name sorts alphabetically.
    h.get_by_label("Model").click_accesskit();
    h.run();
    let labels: Vec<String> = h
        .get_all_by_role(Role::Link)
        .filter_map(|n| n.accesskit_node().label())
        .filter(|l| l.starts_with("Claude"))
        .collect();
    assert_eq!(labels.first().map(String::as_str), Some("Claude Haiku 3"));
    // A click on a name filters to it.
    h.get_by_role_and_label(Role::Link, "Claude Opus 4.5")
        .click_accesskit();
    h.run();
    assert_eq!(h.state().settings.spec.filter.models, ["Claude Opus 4.5"]);
    h.get_by_label("Total (1)");
    // Token categories read as words.
    h.state_mut().settings.spec.dimension = costlens::engine::view::Dimension::Category;
    h.run();
    assert!(
        h.query_all_by_label("Cache read").count() >= 2,
        "legend and table"
    );
    assert!(h.query_by_label("cache_read").is_none());
}

#[test]
fn settings_are_saved_shortly_after_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.json");
    let mut h = harness();
    h.state_mut().save_settings_to(path.clone());
    h.run();
    slider(&h, "Moved to batch").set_value_accesskit(40.0);
    h.run();
    let started = std::time::Instant::now();
    while !path.exists() && started.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        h.step();
    }
    let saved: Settings = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(saved.levers.batch_share, 0.4);
}

#[test]
fn recent_files_reopen_as_the_set_opened_together_with_a_scenario_notice() {
    let dir = tempfile::tempdir().unwrap();
    let a = usage_csv(dir.path(), "tokens.csv", &["2026-08-01"]);
    let b = usage_csv(dir.path(), "more.csv", &["2026-08-02"]);
    let mut h = harness();
    h.run();
    // A scenario, then new data: it is applied, and said, with a reset.
    slider(&h, "Moved to batch").set_value_accesskit(50.0);
    h.run();
    import(&mut h, vec![a.clone(), b.clone()]);
    assert_eq!(
        h.state().settings.recent.first().map(|r| r.paths()),
        Some(vec![a.clone(), b.clone()])
    );
    h.get_by_label("Saved scenario applied");
    // $3 a day for two days: $6 actual, the scenario half-batched.
    h.get_by_label("Actual (recomputed): $6.00");
    h.get_by_label("Scenario: $4.50");
    h.get_by_label("Reset levers").click();
    h.run();
    assert!(h.state().settings.levers.is_neutral());
    assert!(h.query_by_label("Saved scenario applied").is_none());
    // Open Recent reopens both files.
    h.state_mut().push(Action::Run(Command::ShowSample));
    h.run();
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Open Recent").hover();
    h.run();
    h.get_by_label("tokens.csv + more.csv").click();
    wait_for_import(&mut h);
    assert_eq!(h.state().source, Source::Files(vec![a, b]));
    h.get_by_label_contains("tokens.csv + more.csv · 2 files · 2 rows");
}

#[test]
fn an_old_error_goes_when_the_user_does_something_else() {
    let mut h = harness();
    h.run();
    h.state_mut().set_status("Cannot write /nope: denied", true);
    h.run();
    h.get_by_label("Cannot write /nope: denied");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num2);
    h.run();
    assert!(h.query_by_label("Cannot write /nope: denied").is_none());
    assert_eq!(h.state().settings.tab, Tab::Calculator);
    // One file is "1 file".
    let dir = tempfile::tempdir().unwrap();
    let f = usage_csv(dir.path(), "one.csv", &["2026-08-01"]);
    import(&mut h, vec![f]);
    h.get_by_label_contains("one.csv · 1 file · 1 row");
}

#[test]
fn the_f1_sheet_lists_every_shortcut_from_the_command_table() {
    use strum::IntoEnumIterator;
    let mut h = harness();
    h.run();
    h.key_press(egui::Key::F1);
    h.run();
    for c in Command::iter().filter(|c| c.shortcut().is_some()) {
        h.get_by_label(c.help());
    }
    // And a shortcut runs its command: Ctrl+U toggles the cumulative chart.
    assert!(!h.state().settings.cumulative);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::U);
    h.run();
    assert!(h.state().settings.cumulative);
}

#[test]
fn completes_and_accepts_paths() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("claude_api_tokens_2026_10.csv"), "x").unwrap();
    std::fs::write(dir.path().join("claude_api_cost_2026_10.csv"), "x").unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    let mut c = crate::app::Chooser::new(crate::app::Purpose::OpenFiles, dir.path(), String::new());
    // Folders first, then files by name.
    let names: Vec<String> = c.matches().into_iter().map(|m| m.0).collect();
    assert_eq!(
        names,
        [
            "logs",
            "claude_api_cost_2026_10.csv",
            "claude_api_tokens_2026_10.csv"
        ]
    );
    c.text.push_str("claude_api_t");
    c.complete();
    assert_eq!(c.path(), dir.path().join("claude_api_tokens_2026_10.csv"));
    assert_eq!(
        c.accept(),
        Some(crate::app::Outcome::Done(vec![
            dir.path().join("claude_api_tokens_2026_10.csv")
        ]))
    );
    // A name that is nothing: said, and kept open.
    c.text = dir.path().join("nope.csv").display().to_string();
    assert_eq!(c.accept(), None);
    assert!(
        c.error
            .as_deref()
            .unwrap()
            .ends_with("nope.csv is not a file")
    );
    // Saving into a folder that does not exist is refused with the reason.
    let mut s = crate::app::Chooser::new(
        crate::app::Purpose::Save {
            name: "chart.png".into(),
            extension: "png".into(),
        },
        &dir.path().join("missing"),
        String::new(),
    );
    assert_eq!(s.accept(), None);
    assert!(
        s.error.as_deref().unwrap().contains("does not exist"),
        "{:?}",
        s.error
    );
    s.text = dir.path().join("chart.png").display().to_string();
    assert_eq!(
        s.accept(),
        Some(crate::app::Outcome::Done(vec![
            dir.path().join("chart.png")
        ]))
    );
}

#[test]
fn the_caching_preset_saves_on_the_sample_and_keeps_its_caching() {
    let mut h = harness();
    h.run();
    h.get_by_label("Cache the system prompt").click_accesskit();
    h.run();
    let ev = core_eval(&Levers {
        cache_more: 0.5,
        ..Levers::default()
    });
    assert!(ev.scenario < ev.actual, "{} >= {}", ev.scenario, ev.actual);
    h.get_by_label(&format!("Saving: {}", money::usd(ev.actual - ev.scenario)));
    assert_eq!(h.state().settings.levers.cache_more, 0.5);
}

#[test]
fn routed_work_has_its_own_column() {
    let mut h = harness();
    h.run();
    assert!(h.query_by_label("of it routed").is_none());
    h.get_by_label("Easy work to Haiku").click_accesskit();
    h.run();
    h.get_by_label("of it routed");
    let ev = core_eval(&Levers {
        route_share: 0.3,
        ..Levers::default()
    });
    let routed: f64 = ev.routed_by_dim.iter().sum();
    assert!(routed > 0.0);
    // The total row's routed figure.
    assert!(h.query_all_by_label(&money::usd(routed)).count() >= 1);
}

/// A usage export of $3 a day on Nov 1-10, 2026, in `dir`.
fn november_first_ten_days(dir: &std::path::Path) -> std::path::PathBuf {
    let days: Vec<String> = (1..=10).map(|d| format!("2026-11-{d:02}")).collect();
    let days: Vec<&str> = days.iter().map(String::as_str).collect();
    usage_csv(dir, "nov.csv", &days)
}

#[test]
fn a_budget_is_set_in_the_panel_and_compared_with_the_month() {
    let dir = tempfile::tempdir().unwrap();
    // $3 a day on Nov 1-10: the month runs on at $3 a day, $90 by Nov 30.
    let f = november_first_ten_days(dir.path());
    let mut h = harness();
    h.run();
    import(&mut h, vec![f]);
    h.get_by_label("Forecast 2026-11: $90.00");
    h.state_mut().settings.budget_usd = 60.0;
    h.run();
    // $60 is passed on the 20th day ($3 x 20 = $60, above it on the 21st).
    let b = h.state().pipeline.budget().expect("budget");
    assert_eq!(b.exceeds_on.as_deref(), Some("2026-11-21"));
    h.get_by_label("Budget 2026-11: $60.00");
    h.get_by_label("passed on 2026-11-21");
}

#[test]
fn a_month_that_ended_before_today_is_an_estimate_on_the_dashboard() {
    let dir = tempfile::tempdir().unwrap();
    // $3 a day on Nov 1-10, opened on Dec 1 (the clock's date in the app): November is over,
    // the data stops on the 10th; its 20 missing days are estimated at $3: $90.
    let f = november_first_ten_days(dir.path());
    let mut h = harness();
    h.run();
    h.state_mut().set_today(Some(1_796_083_200)); // 2026-12-01 00:00 UTC
    import(&mut h, vec![f]);
    h.get_by_label("Estimated 2026-11: $90.00");
    h.get_by_label("$30.00 in data · $3.00/day");
    assert!(h.query_by_label("Forecast 2026-11: $90.00").is_none());
    // On Nov 20 the same data is a forecast of a month still running.
    h.state_mut().set_today(Some(1_795_132_800)); // 2026-11-20 00:00 UTC
    h.run();
    h.get_by_label("Forecast 2026-11: $90.00");
}

#[test]
fn an_opportunity_applies_as_a_scenario() {
    let mut h = harness();
    h.run();
    h.get_by_label("Savings opportunities").click_accesskit();
    h.run();
    let first = h
        .state()
        .pipeline
        .opportunities()
        .first()
        .cloned()
        .expect("the sample has opportunities");
    assert!(first.savings_usd > 0.0 && first.savings_usd <= first.actual_usd);
    // The slice, what the levers do and the saving are all shown.
    h.get_by_label(&format!("{} {}", first.dimension.label(), first.key));
    assert!(h.query_all_by_label(&first.detail).count() >= 1);
    assert!(
        h.query_all_by_label_contains(&money::usd(first.savings_usd))
            .count()
            >= 1
    );
    h.get_all_by_label("Apply")
        .next()
        .expect("an Apply button")
        .click_accesskit();
    h.run();
    assert_eq!(h.state().settings.levers, first.levers);
    assert_eq!(h.state().settings.spec.filter, first.filter);
    // The saving the list promised is the scenario's.
    let ev = h.state().pipeline.evaluation();
    assert!(
        (ev.actual - ev.scenario - first.savings_usd).abs() < 1e-6,
        "{} vs {}",
        ev.actual - ev.scenario,
        first.savings_usd
    );
}

#[test]
fn usage_derived_from_a_cost_export_is_said_with_its_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("cost.csv");
    // $0.03 and $0.00 of Sonnet 4.5 uncached input ($3 a million): 10,000 tokens, and with
    // each amount rounded to the cent, 0.025/3e-6 = 8,333.3 to (0.035 + 0.005)/3e-6 =
    // 13,333.3 tokens.
    std::fs::write(
        &file,
        "usage_date_utc,model,workspace,api_key,usage_type,context_window,token_type,cost_usd,cost_type,inference_geo,speed\n\
         2026-08-01,Claude Sonnet 4.5,Default,a,standard,≤ 200k,input_no_cache,0.03,token,not_available,\n\
         2026-08-01,Claude Sonnet 4.5,Default,b,standard,≤ 200k,input_no_cache,0.00,token,not_available,\n",
    )
    .expect("write");
    let mut h = harness();
    h.run();
    import(&mut h, vec![file]);
    h.get_by_label("Usage derived from cost");
    h.get_by_label(
        "No usage file is loaded: 10,000 tokens were derived from 2 cost rows (cost / list price, 8,333 to 13,334 given the rounding of the amounts, up to $0.01); the recomputed cost and the levers work on them.",
    );
    // Usage files load: no banner.
    h.state_mut().push(Action::Run(Command::ShowSample));
    h.run();
    assert!(h.query_by_label("Usage derived from cost").is_none());
}
