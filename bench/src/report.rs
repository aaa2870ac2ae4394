//! Writes a benchmark's table into docs/BENCHMARKS.md between its own
//! markers, leaving the other benchmarks' sections as they are.

use std::path::Path;

/// One line of a table.
pub struct Row {
    /// What is measured.
    pub metric: String,
    /// The bare baseline's figure.
    pub baseline: String,
    /// Petbridge's figure.
    pub petbridge: String,
    /// Petbridge / baseline.
    pub ratio: String,
    /// The target for the ratio.
    pub target: String,
    /// Whether the target is met.
    pub met: Option<bool>,
}

/// Replaces (or appends) the section `<!-- bench:NAME -->…<!-- /bench:NAME -->`.
pub fn write_section(path: &Path, name: &str, title: &str, setup: &str, rows: &[Row]) -> anyhow::Result<()> {
    let start = format!("<!-- bench:{name} -->");
    let end = format!("<!-- /bench:{name} -->");
    let mut section = format!(
        "{start}\n### {title}\n\nMeasured {} on this machine ({} cores) with `cargo run --release -p bench -- {name}`.\n\n{setup}\n\n\
         | metric | baseline | petbridge | ratio | target | met |\n|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map_or(1, usize::from),
    );
    for row in rows {
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        section.push_str(&format!(
            "| {} | {} | {} | {} | {} | {met} |\n",
            row.metric, row.baseline, row.petbridge, row.ratio, row.target
        ));
    }
    section.push_str(&end);

    let current = std::fs::read_to_string(path).unwrap_or_default();
    let updated = match (current.find(&start), current.find(&end)) {
        (Some(a), Some(b)) if b > a => format!("{}{section}{}", &current[..a], &current[b + end.len()..]),
        _ => format!("{}\n{section}\n", current.trim_end()),
    };
    std::fs::write(path, updated)?;
    Ok(())
}

/// The middle value (sorting `values`); rounds are odd, so it is one of them.
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `min–max` of `values`, as every row says how far its rounds spread.
pub fn spread(values: &[f64]) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(0.0, f64::max);
    format!("{min:.2}–{max:.2}")
}

/// CPU seconds used so far by a process (`self`, or a pid): utime + stime
/// of /proc/PID/stat, if readable.
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) in parentheses: utime and stime are the 12th and 13th.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}
