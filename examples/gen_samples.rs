//! Writes the files in `sample-data/` (deterministic: the same bytes every run).
//! `cargo run --example gen_samples`

use chrono::NaiveDate;
use costlens::domain::prices::PriceTable;

fn main() -> std::io::Result<()> {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    std::fs::create_dir_all(&out)?;
    let last = NaiveDate::from_ymd_opt(2026, 10, 31).expect("valid date");
    let rows = costlens_testkit::console_rows(last, 90, 2026);
    std::fs::write(
        out.join("claude_api_tokens_2026_08-10.csv"),
        costlens_testkit::usage_csv(&rows),
    )?;
    std::fs::write(
        out.join("claude_api_cost_2026_08-10.csv"),
        costlens_testkit::cost_csv(&rows, &PriceTable::bundled()),
    )?;
    println!("wrote {} usage rows to {}", rows.len(), out.display());
    Ok(())
}
