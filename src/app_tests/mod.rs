//! UI tests that drive the real app with egui_kittest (offscreen, wgpu on llvmpipe). No test
//! opens a native dialog: file dialogs are a fake that returns prepared paths.

use crate::app::*;
use crate::render::png;
use costlens::domain::money;
use costlens::domain::prices::PriceTable;
use costlens::engine::chart::ChartData;
use costlens::engine::cube::prompt_length_grid;
use costlens::engine::scenario::Levers;
use costlens::engine::view::{Evaluation, ViewSpec};
use costlens::import::Options;
use costlens::pipeline::load::{self, Analysis};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

mod dashboard;
mod history;
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

/// Dialogs that answer with prepared paths and record what was asked; `missing` plays a
/// desktop without any file dialog.
#[derive(Default, Clone)]
struct FakeDialogs {
    save_to: Option<PathBuf>,
    open: Vec<PathBuf>,
    missing: bool,
    asked: Rc<RefCell<Vec<Purpose>>>,
}

impl Dialogs for FakeDialogs {
    fn pick(&self, purpose: &Purpose) -> Picked {
        self.asked.borrow_mut().push(purpose.clone());
        if self.missing {
            return Picked::Unavailable("no system file dialog here".into());
        }
        let got = match purpose {
            Purpose::Save { .. } => self.save_to.clone().into_iter().collect(),
            Purpose::OpenFiles => self.open.clone(),
            _ => Vec::new(),
        };
        if got.is_empty() {
            Picked::Cancelled
        } else {
            Picked::Paths(got)
        }
    }
}

fn harness_with(dialogs: FakeDialogs) -> Harness<'static, CostlensApp> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_theme(egui::Theme::Light)
        .wgpu()
        .build_eframe(move |_cc| CostlensApp::with_settings(Settings::default(), Box::new(dialogs)))
}

fn slider<'h>(h: &'h Harness<'static, CostlensApp>, label: &'h str) -> egui_kittest::Node<'h> {
    h.get_by_role_and_label(egui::accesskit::Role::Slider, label)
}

/// Focuses the text field labelled `label` and types `text` into it.
fn type_into(h: &mut Harness<'static, CostlensApp>, label: &str, text: &str) {
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .focus();
    h.run();
    h.get_by_role_and_label(egui::accesskit::Role::TextInput, label)
        .type_text(text);
    h.run();
}

/// Waits for the import the last action started. One frame at a time, not `run`: while the
/// import thread works the app asks for a repaint every 100 ms, which `run` takes for a UI
/// that never settles if the thread is slow to start.
fn wait_for_import(h: &mut Harness<'static, CostlensApp>) {
    h.step();
    for _ in 0..500 {
        if !h.state().is_importing() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        h.step();
    }
    assert!(!h.state().is_importing(), "import did not finish");
    h.run();
}

/// Imports `paths` through the app (as File ▸ Open Recent does) and waits for it.
fn import(h: &mut Harness<'static, CostlensApp>, paths: Vec<PathBuf>) {
    h.state_mut().push(Action::Open(paths));
    wait_for_import(h);
}

fn harness() -> Harness<'static, CostlensApp> {
    harness_with(FakeDialogs::default())
}

/// What the core computes for the bundled sample data under `levers`, independently of the
/// app's own state.
fn core_eval(levers: &Levers) -> Evaluation {
    let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
    let a = Analysis::for_levers(
        loaded.data,
        PriceTable::bundled(),
        &prompt_length_grid(),
        levers,
    );
    let view = a.view(&ViewSpec::default());
    view.evaluate(&a.table, &levers.resolve(&a.table).expect("levers resolve"))
}

#[test]
fn starts_on_sample_data_and_shows_its_totals() {
    let mut h = harness();
    h.run();
    let ev = core_eval(&Levers::default());
    assert!(
        ev.actual > 1000.0,
        "sample data has real spend: {}",
        ev.actual
    );
    // Actual and scenario cards both show the actual cost when no lever is moved.
    h.get_by_label(&format!("Actual (recomputed): {}", money::usd(ev.actual)));
    h.get_by_label(&format!("Scenario: {}", money::usd(ev.actual)));
    h.get_by_label("Sample data");
    h.get_by_label("Billed (cost export)");
    assert_eq!(h.state().source, Source::Sample);
}

#[test]
fn idle_app_does_not_keep_repainting() {
    let mut h = harness();
    // `run` steps until egui stops asking for repaints; a continuously repainting app would
    // run into kittest's step limit instead.
    let steps = h.run();
    assert!(steps <= 4, "took {steps} steps to settle");
    let steps = h.run();
    assert!(steps <= 1, "still repainting when idle: {steps} steps");
}

#[test]
fn batch_lever_set_through_the_ui_changes_the_scenario_card() {
    let mut h = harness();
    h.run();
    slider(&h, "Moved to batch").set_value_accesskit(50.0);
    h.run();
    let expected = core_eval(&Levers {
        batch_share: 0.5,
        ..Levers::default()
    });
    let neutral = core_eval(&Levers::default());
    assert!(expected.scenario < neutral.actual);
    h.get_by_label(&format!("Scenario: {}", money::usd(expected.scenario)));
    assert_eq!(h.state().settings.levers.batch_share, 0.5);

    // Reset all restores the actual cost on the scenario card.
    h.get_by_label("Reset all levers").click_accesskit();
    h.run();
    assert!(h.state().settings.levers.is_neutral());
    h.get_by_label(&format!("Scenario: {}", money::usd(neutral.actual)));
}

#[test]
fn traffic_slider_and_per_lever_reset() {
    let mut h = harness();
    h.run();
    slider(&h, "Traffic").set_value_accesskit(2.0);
    h.run();
    let doubled = core_eval(&Levers {
        traffic: 2.0,
        ..Levers::default()
    });
    let neutral = core_eval(&Levers::default());
    // Twice the traffic is exactly twice the cost: every count doubles.
    assert!((doubled.scenario - 2.0 * neutral.actual).abs() < 1e-6 * neutral.actual);
    h.get_by_label(&format!("Scenario: {}", money::usd(doubled.scenario)));
    assert_eq!(h.state().chart.scenario_total, doubled.scenario);
}

#[test]
fn preset_routes_easy_work_to_haiku() {
    let mut h = harness();
    h.run();
    h.get_by_label("Easy work to Haiku").click_accesskit();
    h.run();
    let expected = core_eval(&Levers {
        route_share: 0.3,
        ..Levers::default()
    });
    h.get_by_label(&format!("Scenario: {}", money::usd(expected.scenario)));
    let routing = expected
        .waterfall
        .iter()
        .find(|(s, _)| *s == costlens::engine::scenario::Stage::Routing);
    assert!(routing.is_some_and(|(_, saved)| *saved > 0.0));
}

#[test]
fn calculator_reproduces_the_pricing_example() {
    let mut h = harness();
    h.run();
    h.get_by_label("Calculator").click();
    h.run();
    h.get_by_label("Example: 1,000-token system prompt sent 100 times in an hour")
        .click();
    h.run();
    // pricing.md: $0.30 without caching, $0.03345 with caching; but 1,000 tokens are under
    // Sonnet 4.5's 1,024-token minimum prefix, so the API bills them uncached: $0.30 again,
    // and the calculator says so.
    assert_eq!(h.query_all_by_label("$0.30").count(), 2);
    h.get_by_label(&money::usd(0.03345));
    h.get_by_label("Billed with caching");
    h.get_by_label_contains("1,024");
    h.get_by_label_contains("1 write · 99 reads");
}

#[test]
fn export_png_goes_through_the_dialog_and_writes_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("chart.png");
    let dialogs = FakeDialogs {
        save_to: Some(out.clone()),
        ..Default::default()
    };
    let asked = dialogs.asked.clone();
    let mut h = harness_with(dialogs);
    h.run();
    h.state_mut().settings.export_width = 800;
    h.state_mut().settings.export_height = 450;
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    h.run();
    h.get_by_label("Save PNG…").click();
    h.run();
    // The render runs on a background thread; wait for it (bounded).
    for _ in 0..300 {
        if !h.state().is_exporting() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        h.step();
    }
    assert!(
        matches!(asked.borrow().as_slice(), [Purpose::Save { extension, .. }] if extension == "png")
    );
    let img = image::open(&out).expect("PNG written").to_rgba8();
    assert_eq!((img.width(), img.height()), (800, 450));
    let status = h.state().status.clone().expect("status");
    assert!(!status.error, "{}", status.text);
}

#[test]
fn importing_a_file_replaces_the_sample_and_reports_rejected_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("usage.csv");
    std::fs::write(
        &file,
        "usage_date_utc,model_version,api_key,workspace,usage_type,usage_input_tokens_no_cache,usage_input_tokens_cache_write_5m,usage_input_tokens_cache_write_1h,usage_input_tokens_cache_read,usage_output_tokens,web_search_count\n\
         2025-06-12,claude-sonnet-4-5-20250929,k,W,standard,1000000,0,0,0,100000,0\n\
         2025-06-13,claude-sonnet-4-5-20250929,k,W,standard,lots,0,0,0,1,0\n",
    )
    .expect("write");
    let dialogs = FakeDialogs {
        open: vec![file.clone()],
        ..Default::default()
    };
    let mut h = harness_with(dialogs);
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    wait_for_import(&mut h);
    // 1M input at $3 + 100K output at $15 = $4.50.
    assert_eq!(h.state().source, Source::Files(vec![file.clone()]));
    assert!((h.state().pipeline.evaluation().actual - 4.5).abs() < 1e-9);
    h.get_by_label("Actual (recomputed): $4.50");
    // A rejected line opens the import report with `file:line: reason`.
    assert!(h.state().show_report);
    h.get_by_label_contains(&format!(
        "{}:3: usage_input_tokens_no_cache: not a whole number",
        file.display()
    ));
}

#[test]
fn prices_view_edit_changes_the_actual_cost() {
    let mut h = harness();
    h.run();
    let before = h.state().pipeline.evaluation().actual;
    h.get_by_label("Prices").click();
    h.run();
    h.get_by_label("Reset to bundled prices");
    // Doubling Haiku 3's output price through the table changes the recomputed cost.
    h.state_mut()
        .pipeline
        .edit_table(|table| {
            let i = table.lookup("claude-3-haiku-20240307").expect("haiku 3");
            let mut p = table.model(i).prices[0].clone();
            p.standard.output *= 2.0;
            table.set_prices("claude-3-haiku-20240307", p)
        })
        .expect("set");
    h.state_mut().push(Action::PricesChanged);
    h.run();
    assert!(h.state().pipeline.evaluation().actual > before);
    h.get_by_label("Reset to bundled prices").click();
    h.run();
    assert_eq!(h.state().pipeline.evaluation().actual, before);
}

#[test]
fn snapshot_each_panel_small_and_large_light_and_dark() {
    // The smallest window the layout is made for, and a large one.
    let mut results = egui_kittest::SnapshotResults::new();
    for (w, hgt) in [(1000.0, 700.0), (1600.0, 1000.0)] {
        for (theme, name) in [(egui::Theme::Light, "light"), (egui::Theme::Dark, "dark")] {
            let mut h = Harness::builder()
                .with_size(egui::vec2(w, hgt))
                .with_theme(theme)
                .wgpu()
                .build_eframe(|_cc| {
                    CostlensApp::with_settings(
                        Settings::default(),
                        Box::new(FakeDialogs::default()),
                    )
                });
            for (tab, tab_name) in [
                (Tab::Dashboard, "dashboard"),
                (Tab::Calculator, "calculator"),
                (Tab::Prices, "prices"),
            ] {
                h.state_mut().settings.tab = tab;
                h.run();
                results.add(h.try_snapshot(format!("{tab_name}_{w}x{hgt}_{name}")));
            }
        }
    }
    results.unwrap();
}

#[test]
fn snapshot_exported_chart() {
    let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
    let a = Analysis::new(loaded.data, PriceTable::bundled(), &prompt_length_grid());
    let view = a.view(&ViewSpec::default());
    let levers = Levers {
        cache_share: Some(0.8),
        cache_hit: Some(0.9),
        batch_share: 0.3,
        ..Levers::default()
    };
    let ev = view.evaluate(&a.table, &levers.resolve(&a.table).expect("resolve"));
    let data = ChartData::new(&view, &ev, &levers, "Claude API cost: actual vs scenario");
    // The PNG exactly as the export renders it (egui + egui-wgpu offscreen, not the harness).
    let img = png::render_png(&data, false, 1600, 900).expect("render");
    assert_eq!((img.width(), img.height()), (1600, 900));
    // Not blank: many distinct colours.
    let distinct: std::collections::HashSet<[u8; 4]> = img.pixels().map(|p| p.0).collect();
    assert!(distinct.len() > 50, "only {} colours", distinct.len());
    egui_kittest::image_snapshot(&img, "exported_chart");
}

#[test]
fn typed_date_range_filters_the_cost_to_those_days() {
    let mut h = harness();
    h.run();
    type_into(&mut h, "From", "2026-09-01");
    type_into(&mut h, "To", "2026-09-30");
    let (sept, oct) = (1_788_220_800, 1_790_812_800); // 2026-09-01 and 2026-10-01, UTC
    let f = &h.state().settings.spec.filter;
    assert_eq!(
        (f.from, f.to),
        (Some(sept), Some(oct)),
        "both days included"
    );
    // September's cost, summed record by record here (not through the app's view).
    let loaded = load::load_bytes(SAMPLE_FILES, &Options::default());
    let table = PriceTable::bundled();
    let d = &loaded.data;
    let september: f64 = d
        .records
        .iter()
        .filter(|r| (sept..oct).contains(&r.time))
        .filter_map(|r| {
            let m = table.lookup(d.symbols.get(r.model))?;
            Some(costlens::domain::cost::price_record(&table, m, &r).total())
        })
        .sum();
    let all: f64 = core_eval(&Levers::default()).actual;
    assert!(
        september > 0.0 && september < all * 0.5,
        "{september} of {all}"
    );
    assert!((h.state().pipeline.evaluation().actual - september).abs() < 1e-6);
    h.get_by_label(&format!("Actual (recomputed): {}", money::usd(september)));

    // A day that is not a date is flagged and leaves the filter as it was.
    type_into(&mut h, "To", "x");
    h.get_by_label("YYYY-MM-DD");
    assert_eq!(h.state().settings.spec.filter.to, Some(oct));
    // A preset replaces the typed range, and the fields show it.
    h.get_by_label("All").click();
    h.run();
    h.run();
    assert_eq!(h.state().settings.spec.filter.from, None);
    h.get_by_label(&format!("Actual (recomputed): {}", money::usd(all)));
}

/// The app with 30% routed at a token factor of x1.30, its token factor handle grabbed and
/// moved 60 px to the right, not let go; and where the handle was grabbed.
fn dragging_the_token_factor() -> (Harness<'static, CostlensApp>, egui::Pos2) {
    let mut settings = Settings::default();
    settings.levers.route_share = 0.3;
    settings.levers.route_token_factor = Some(1.3);
    let mut h = Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_theme(egui::Theme::Light)
        .wgpu()
        .build_eframe(move |_cc| {
            CostlensApp::with_settings(settings, Box::new(FakeDialogs::default()))
        });
    h.run();
    let from = slider(&h, "Token factor").rect().center();
    h.drag_at(from);
    h.step();
    for dx in [10.0, 30.0, 60.0] {
        h.hover_at(from + egui::vec2(dx, 0.0));
        h.step();
    }
    (h, from)
}

/// The token factor slider holds its value while its handle is dragged (a factor the cube was
/// not banded on rebuilds it, longer than a frame on large data) and applies it when the
/// handle is let go; the figures are then the core's at that factor.
#[test]
fn the_token_factor_applies_when_its_handle_is_let_go() {
    let (mut h, from) = dragging_the_token_factor();
    // Dragged: the handle moved, the levers (and so the pipeline) did not.
    assert_eq!(h.state().settings.levers.route_token_factor, Some(1.3));
    assert_eq!(h.state().pipeline.levers().route_token_factor, Some(1.3));
    h.drop_at(from + egui::vec2(60.0, 0.0));
    h.run();
    let f = h
        .state()
        .settings
        .levers
        .route_token_factor
        .expect("a factor");
    assert!(f > 1.3, "let go at a larger factor: {f}");
    assert_eq!(h.state().pipeline.levers().route_token_factor, Some(f));
    let ev = core_eval(&Levers {
        route_share: 0.3,
        route_token_factor: Some(f),
        ..Levers::default()
    });
    h.get_by_label(&format!("Scenario: {}", money::usd(ev.scenario)));
}

/// A drag of the token factor that ends while the slider is not drawn (the what-if panel
/// hidden with Ctrl+] during the drag) applies nothing, then or later when the panel is shown
/// again.
#[test]
fn a_token_factor_drag_that_ends_unseen_applies_nothing() {
    let (mut h, from) = dragging_the_token_factor();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::CloseBracket);
    h.step();
    assert!(!h.state().settings.show_levers);
    h.drop_at(from + egui::vec2(60.0, 0.0));
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::CloseBracket);
    h.run();
    assert!(h.state().settings.show_levers);
    h.run();
    assert_eq!(h.state().settings.levers.route_token_factor, Some(1.3));
    assert_eq!(h.state().pipeline.levers().route_token_factor, Some(1.3));
}
