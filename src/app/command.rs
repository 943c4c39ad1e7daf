//! Every action a user can name: one place gives each its label, its shortcut and what the
//! F1 sheet says of it, so the menus, the keyboard and the help can never disagree (rerun's
//! `UICommand` does the same). Panels return commands; the app applies them once a frame.

use egui::{Key, KeyboardShortcut, Modifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, strum::EnumIter)]
pub enum Command {
    OpenFiles,
    OpenFolder,
    OpenClaudeCode,
    ShowSample,
    ExportPng,
    ExportCsv,
    ImportReport,
    ResetLevers,
    ResetChartView,
    ToggleCumulative,
    ToggleFilters,
    ToggleLevers,
    Dashboard,
    Calculator,
    Prices,
    Shortcuts,
    Quit,
}

impl Command {
    /// The label in menus and on buttons.
    pub fn label(self) -> &'static str {
        match self {
            Command::OpenFiles => "Open…",
            Command::OpenFolder => "Open folder…",
            Command::OpenClaudeCode => "Open Claude Code logs",
            Command::ShowSample => "Show sample data",
            Command::ExportPng => "Export chart as PNG…",
            Command::ExportCsv => "Export table as CSV…",
            Command::ImportReport => "Import report",
            Command::ResetLevers => "Reset all levers",
            Command::ResetChartView => "Reset chart view",
            Command::ToggleCumulative => "Cumulative chart",
            Command::ToggleFilters => "Filters panel",
            Command::ToggleLevers => "What-if panel",
            Command::Dashboard => "Dashboard",
            Command::Calculator => "Calculator",
            Command::Prices => "Prices",
            Command::Shortcuts => "Keyboard shortcuts",
            Command::Quit => "Quit",
        }
    }

    /// What the F1 sheet says it does.
    pub fn help(self) -> &'static str {
        match self {
            Command::OpenFiles => "Open usage exports or logs (several at once)",
            Command::OpenFolder => "Open a folder of exports or logs",
            Command::OpenClaudeCode => {
                "Open ~/.claude/projects, ~/.config/claude/projects or $CLAUDE_CONFIG_DIR"
            }
            Command::ShowSample => "Go back to the bundled sample data",
            Command::ExportPng => "Save the chart as a PNG, with title, totals and levers",
            Command::ExportCsv => "Save the breakdown table as CSV",
            Command::ImportReport => "Files, rejected lines, overlaps and unpriced models",
            Command::ResetLevers => "Every lever back to neutral (the scenario is the actual cost)",
            Command::ResetChartView => "Zoom and pan of the chart back to the whole data",
            Command::ToggleCumulative => "Running totals, with the month-end forecast",
            Command::ToggleFilters => "Show or hide the filters on the left",
            Command::ToggleLevers => "Show or hide the what-if levers on the right",
            Command::Dashboard => "The dashboard",
            Command::Calculator => "The workload calculator",
            Command::Prices => "The price table",
            Command::Shortcuts => "This sheet",
            Command::Quit => "Quit costlens",
        }
    }

    pub fn shortcut(self) -> Option<KeyboardShortcut> {
        let cmd = |k| Some(KeyboardShortcut::new(Modifiers::COMMAND, k));
        let cmd_shift = |k| {
            Some(KeyboardShortcut::new(
                Modifiers::COMMAND | Modifiers::SHIFT,
                k,
            ))
        };
        match self {
            Command::OpenFiles => cmd(Key::O),
            Command::OpenFolder => cmd_shift(Key::O),
            Command::ExportPng => cmd(Key::E),
            Command::ExportCsv => cmd_shift(Key::E),
            Command::ImportReport => cmd(Key::I),
            Command::ResetLevers => cmd(Key::R),
            Command::ResetChartView => cmd(Key::Num0),
            Command::ToggleCumulative => cmd(Key::U),
            Command::ToggleFilters => cmd(Key::OpenBracket),
            Command::ToggleLevers => cmd(Key::CloseBracket),
            Command::Dashboard => cmd(Key::Num1),
            Command::Calculator => cmd(Key::Num2),
            Command::Prices => cmd(Key::Num3),
            Command::Shortcuts => Some(KeyboardShortcut::new(Modifiers::NONE, Key::F1)),
            Command::Quit => cmd(Key::Q),
            Command::OpenClaudeCode | Command::ShowSample => None,
        }
    }

    /// The shortcut as the platform writes it (`Ctrl+O`, `⌘O`).
    pub fn shortcut_text(self, ctx: &egui::Context) -> String {
        self.shortcut()
            .map(|s| ctx.format_shortcut(&s))
            .unwrap_or_default()
    }

    /// The commands whose shortcut was pressed this frame (consumed, so a focused text field
    /// does not take them: Ctrl+R in a lever's value box resets the levers).
    pub fn pressed(ctx: &egui::Context) -> Vec<Command> {
        use strum::IntoEnumIterator;
        // Longer shortcuts first: Ctrl+Shift+O must not be read as Ctrl+O.
        let mut all: Vec<Command> = Command::iter().filter(|c| c.shortcut().is_some()).collect();
        all.sort_by_key(|c| {
            std::cmp::Reverse(c.shortcut().map_or(0, |s| {
                u8::from(s.modifiers.shift) + u8::from(s.modifiers.command)
            }))
        });
        ctx.input_mut(|i| {
            all.into_iter()
                .filter(|c| c.shortcut().is_some_and(|s| i.consume_shortcut(&s)))
                .collect()
        })
    }

    /// A menu entry showing the shortcut; returns whether it was clicked.
    pub fn menu_button(self, ui: &mut egui::Ui) -> bool {
        ui.add(egui::Button::new(self.label()).shortcut_text(self.shortcut_text(ui.ctx())))
            .on_hover_text(self.help())
            .clicked()
    }
}
