//! The meeting as data, its markdown transcript, and the parsing of round-3 commitments — pure
//! functions, no IO.

use chrono::{DateTime, Utc};

/// The three rounds' headings, in order.
pub const ROUNDS: [&str; 3] = [
    "Round 1 — reports",
    "Round 2 — responses",
    "Round 3 — commitments",
];

/// Everything said and decided so far; rendered into the transcript after every answer.
#[derive(Debug, Clone)]
pub struct Meeting {
    pub started: DateTime<Utc>,
    /// The start of the period the meeting covers, and why that start.
    pub since: DateTime<Utc>,
    pub since_what: String,
    pub participants: Vec<String>,
    /// Why the participants are who they are, when that needs saying.
    pub note: Option<String>,
    /// Per round: (speaker, words), in speaking order.
    pub rounds: [Vec<(String, String)>; 3],
    /// What became of each speaker's `TASK:` line.
    pub tasks: Vec<String>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub calls: u32,
    pub cost_usd: f64,
    pub finished: bool,
}

impl Meeting {
    pub fn new(started: DateTime<Utc>, since: DateTime<Utc>, since_what: &str) -> Meeting {
        Meeting {
            started,
            since,
            since_what: since_what.to_string(),
            participants: Vec::new(),
            note: None,
            rounds: [Vec::new(), Vec::new(), Vec::new()],
            tasks: Vec::new(),
            summary: None,
            error: None,
            calls: 0,
            cost_usd: 0.0,
            finished: false,
        }
    }
}

/// A time as the transcript and the prompts show it.
pub fn when(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// The transcript: a header, a section per round with each speaker's words, the tasks, the
/// summary, and the error when the meeting stopped.
pub fn render(m: &Meeting) -> String {
    let mut out = format!("# Standup — {}\n\n", when(m.started));
    let participants = if m.participants.is_empty() {
        "(none)".to_string()
    } else {
        m.participants.join(", ")
    };
    out.push_str(&format!("- Participants: {participants}\n"));
    out.push_str(&format!(
        "- Covering: since {} ({})\n",
        when(m.since),
        m.since_what
    ));
    out.push_str(&format!(
        "- Agent calls: {}; cost so far: ${:.4}\n",
        m.calls,
        crate::scheduler::budget::round_usd(m.cost_usd)
    ));
    let status = match (&m.error, m.finished) {
        (Some(_), _) => "stopped by an error (see Error at the end)",
        (None, true) => "finished",
        (None, false) => "in progress",
    };
    out.push_str(&format!("- Status: {status}\n"));
    if let Some(note) = &m.note {
        out.push_str(&format!("- Note: {note}\n"));
    }
    let missing = if m.error.is_some() {
        "(not held: the meeting stopped before this)"
    } else {
        "(not yet)"
    };
    for (title, said) in ROUNDS.iter().zip(&m.rounds) {
        out.push_str(&format!("\n## {title}\n"));
        if said.is_empty() {
            out.push_str(&format!("\n{missing}\n"));
        }
        for (speaker, words) in said {
            out.push_str(&format!("\n### {speaker}\n\n{}\n", words_or_silence(words)));
        }
    }
    if !m.tasks.is_empty() {
        out.push_str("\n## Tasks from round 3\n\n");
        for line in &m.tasks {
            out.push_str(&format!("- {line}\n"));
        }
    }
    out.push_str("\n## Summary\n\n");
    match &m.summary {
        Some(s) => out.push_str(&format!("{}\n", words_or_silence(s))),
        None => out.push_str(&format!("{missing}\n")),
    }
    if let Some(e) = &m.error {
        out.push_str(&format!("\n## Error\n\n{e}\n"));
    }
    out
}

fn words_or_silence(words: &str) -> &str {
    let w = words.trim();
    if w.is_empty() { "(said nothing)" } else { w }
}

/// What a speaker committed to in round 3.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Commitment {
    pub task: Option<String>,
    pub proposal: Option<String>,
}

/// The first non-empty `TASK: <title>` and `PROPOSAL: <text>` lines, labels in any case, also when
/// dressed as markdown (`- **Task:** …`). Nothing is guessed when a line is missing.
pub fn parse_commitment(text: &str) -> Commitment {
    let mut c = Commitment::default();
    for line in text.lines() {
        if c.task.is_none() {
            c.task = labeled(line, "task");
        }
        if c.proposal.is_none() {
            c.proposal = labeled(line, "proposal");
        }
    }
    c
}

/// The value of `line` when it reads `<label>: <value>` (case-insensitive, markdown decoration
/// around the label and the value ignored) and the value is not empty.
fn labeled(line: &str, label: &str) -> Option<String> {
    let decoration = |c: char| c.is_whitespace() || matches!(c, '-' | '*' | '>' | '#' | '`' | '_');
    let rest = line.trim_start_matches(decoration);
    let head = rest.get(..label.len())?;
    if !head.eq_ignore_ascii_case(label) {
        return None;
    }
    let rest = rest[label.len()..].trim_start_matches(['*', '_', '`', ' ']);
    let value = rest.strip_prefix(':')?;
    let value = value.trim().trim_matches('*').trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// `text` cut to at most `max` bytes at a character boundary, saying so when cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}\n(cut at {max} bytes)", &text[..cut])
}

/// The speakers' words of one round as markdown for the next prompts, each bounded.
pub fn round_text(said: &[(String, String)], max_each: usize) -> String {
    if said.is_empty() {
        return "(nobody spoke)".into();
    }
    said.iter()
        .map(|(s, w)| format!("### {s}\n{}\n", bounded(words_or_silence(w), max_each)))
        .collect::<Vec<_>>()
        .join("\n")
}
