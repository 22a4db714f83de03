//! The demo agent: a real, deterministic agent that works on the calc demo repository
//! (see [`super::repo`]) without any API key.
//!
//! It reads `src/*.calc` in the worktree and understands the language itself (the same
//! rules `calc.awk` applies; it never runs the checks). From a hash of the seed (brl passes
//! the branch name) it fixes one problem (~70%), breaks one correct equation (~20%), or
//! does nothing (~10%), and commits its edit on the current HEAD.

use std::path::Path;

use anyhow::{Context, Result, bail};

/// What one run of the demo agent did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Fixed one problem, e.g. "fixed src/arith.calc:3 (unknown op `ad`): now `add 4 4 = 8`".
    Fixed(String),
    /// Broke one correct equation, e.g. "broke src/grid.calc:2 (result `2` -> `5`)".
    Broke(String),
    /// Changed nothing, and made no commit.
    Nothing,
}

impl Action {
    /// A short human line saying what the agent did.
    pub fn describe(&self) -> String {
        match self {
            Action::Fixed(what) | Action::Broke(what) => what.clone(),
            Action::Nothing => "changed nothing".to_string(),
        }
    }
}

const AUTHOR_NAME: &str = "brl demo-agent";
const AUTHOR_EMAIL: &str = "demo-agent@brl.invalid";

/// Run in the worktree of a cycle. `prompt` is the prompt brl gave (already read from
/// stdin); `seed` (brl passes the branch name, env `BRL_BRANCH`) decides deterministically:
/// ~70% fix one problem (a malformed line or a wrong equation), ~20% break one correct
/// equation, ~10% change nothing. When nothing is left to fix it changes nothing.
///
/// Problems whose file (`src/x.calc` or `x.calc`) is named on a `TASK:` or `HINT:` line of
/// the prompt are fixed first; such a line saying "type"/"check" or "test" prefers
/// malformed lines or wrong equations. A `TASK:` line is quoted in the commit message.
/// The edit is committed on the current HEAD as "brl demo-agent <demo-agent@brl.invalid>".
pub fn run(worktree: &Path, prompt: &str, seed: &str) -> Result<Action> {
    let files = load(worktree)?;
    let problems = problems(&files);
    if problems.is_empty() {
        return Ok(Action::Nothing);
    }
    let mut rng = Rng::new(seed);
    let roll = rng.below(100);
    let change = if roll < 70 {
        fix(&files, &problems, prompt, &mut rng)
    } else if roll < 90 {
        break_one(&files, &mut rng)
    } else {
        None
    };
    let Some(change) = change else {
        return Ok(Action::Nothing);
    };

    let file = &files[change.file];
    let mut lines = file.lines.clone();
    lines[change.line] = change.new_text.clone();
    let mut text = lines.join("\n");
    if file.trailing_newline {
        text.push('\n');
    }
    let path = worktree.join(&file.rel);
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;

    let mut message = format!("demo-agent: {}\n\n{}\n", change.subject, change.body);
    if let Some(task) = task(prompt) {
        message.push_str(&format!("\nTask: {task}\n"));
    }
    commit(worktree, &file.rel, &message)?;
    Ok(change.action)
}

// ---------------------------------------------------------------------------------------
// The calc language, as calc.awk defines it.

const OPS: [&str; 6] = ["add", "sub", "mul", "div", "min", "max"];
const MAX_OPERAND_DIGITS: usize = 6;

/// How check.sh and test.sh see one line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    /// Blank or a comment.
    Ignored,
    /// A type error; the message check.sh prints.
    Malformed(String),
    Pass,
    /// A failing test.
    Fail {
        expected: i64,
    },
}

/// awk's default field splitting: runs of spaces and tabs.
fn tokens(line: &str) -> Vec<&str> {
    line.split([' ', '\t']).filter(|t| !t.is_empty()).collect()
}

fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The value of an operand that `is_int` and is within range.
fn operand(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !is_int(s) || digits.len() > MAX_OPERAND_DIGITS {
        return None;
    }
    s.parse().ok()
}

fn classify(line: &str) -> Status {
    let t = tokens(line);
    if t.is_empty() || t[0].starts_with('#') {
        return Status::Ignored;
    }
    if let Some(why) = malformed(&t) {
        return Status::Malformed(why);
    }
    let (a, b) = (operand(t[1]).unwrap(), operand(t[2]).unwrap());
    let expected = evaluate(t[0], a, b).unwrap();
    // A result too large for i64 cannot equal a result of two 6-digit operands.
    if t[4].parse::<i64>() == Ok(expected) {
        Status::Pass
    } else {
        Status::Fail { expected }
    }
}

/// Why a non-blank, non-comment line is malformed; the checks in calc.awk's order.
fn malformed(t: &[&str]) -> Option<String> {
    let eqs: Vec<usize> = (0..t.len()).filter(|&i| t[i] == "=").collect();
    let Some(&pos) = eqs.first() else {
        return Some("missing `=`".into());
    };
    let n = t.len();
    if eqs.len() > 1 {
        return Some("more than one `=`".into());
    }
    if pos == n - 1 {
        return Some("missing result after `=`".into());
    }
    if pos < n - 2 {
        return Some("expected one result after `=`".into());
    }
    if pos == 0 {
        return Some("missing op before `=`".into());
    }
    let op = t[0];
    if !OPS.contains(&op) {
        return Some(format!("unknown op `{op}`"));
    }
    if pos != 3 {
        return Some(format!("`{op}` takes 2 operands, got {}", pos - 1));
    }
    for x in &t[1..3] {
        if !is_int(x) {
            return Some(format!("operand `{x}` is not an integer"));
        }
        if operand(x).is_none() {
            return Some(format!(
                "operand `{x}` is out of range (at most {MAX_OPERAND_DIGITS} digits)"
            ));
        }
    }
    if !is_int(t[4]) {
        return Some(format!("result `{}` is not an integer", t[4]));
    }
    if op == "div" && operand(t[2]) == Some(0) {
        return Some("division by zero".into());
    }
    None
}

/// `None` for an unknown op or a division by zero.
fn evaluate(op: &str, a: i64, b: i64) -> Option<i64> {
    Some(match op {
        "add" => a + b,
        "sub" => a - b,
        "mul" => a * b,
        // Truncates toward zero, like awk's int(a / b).
        "div" if b != 0 => a / b,
        "min" => a.min(b),
        "max" => a.max(b),
        _ => return None,
    })
}

// ---------------------------------------------------------------------------------------
// The worktree.

struct CalcFile {
    /// Relative to the worktree, with `/`: "src/x.calc".
    rel: String,
    /// The file split at `\n` (a final newline does not start another line).
    lines: Vec<String>,
    trailing_newline: bool,
}

/// `src/*.calc`, in the order of the shell glob with LC_ALL=C. Files that are not UTF-8
/// are left out (the agent won't edit them).
fn load(worktree: &Path) -> Result<Vec<CalcFile>> {
    let src = worktree.join("src");
    let mut names = Vec::new();
    match std::fs::read_dir(&src) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                if name.ends_with(".calc") && !name.starts_with('.') && entry.path().is_file() {
                    names.push(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", src.display())),
    }
    names.sort();
    let mut files = Vec::new();
    for name in names {
        let path = src.join(&name);
        let bytes =
            std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let trailing_newline = text.ends_with('\n');
        let body = text.strip_suffix('\n').unwrap_or(&text);
        let lines = if text.is_empty() {
            Vec::new()
        } else {
            body.split('\n').map(str::to_string).collect()
        };
        files.push(CalcFile {
            rel: format!("src/{name}"),
            lines,
            trailing_newline,
        });
    }
    Ok(files)
}

/// A type error or failing test: `(file index, line index, status)`.
type Problem = (usize, usize, Status);

fn problems(files: &[CalcFile]) -> Vec<Problem> {
    let mut out = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for (l, line) in file.lines.iter().enumerate() {
            match classify(line) {
                Status::Ignored | Status::Pass => {}
                status => out.push((f, l, status)),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Deciding.

/// FNV-1a of the seed, then splitmix64 steps: the same seed always gives the same choices.
struct Rng(u64);

impl Rng {
    fn new(seed: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in seed.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        Rng(h)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One edited line, and how to talk about it.
struct Change {
    file: usize,
    line: usize,
    new_text: String,
    action: Action,
    subject: String,
    body: String,
}

/// The text of the first `TASK:` line of the prompt.
fn task(prompt: &str) -> Option<&str> {
    prompt
        .lines()
        .find_map(|l| l.trim().strip_prefix("TASK:"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The `TASK:` and `HINT:` lines of the prompt, lowercased.
fn hint(prompt: &str) -> String {
    let mut out = String::new();
    for line in prompt.lines() {
        let line = line.trim();
        if let Some(rest) = line
            .strip_prefix("TASK:")
            .or_else(|| line.strip_prefix("HINT:"))
        {
            out.push_str(&rest.to_lowercase());
            out.push('\n');
        }
    }
    out
}

fn fix(files: &[CalcFile], problems: &[Problem], prompt: &str, rng: &mut Rng) -> Option<Change> {
    let hint = hint(prompt);
    let names_file = |f: usize| {
        let rel = files[f].rel.to_lowercase();
        let name = rel.trim_start_matches("src/").to_string();
        hint.contains(&rel) || hint.contains(&name)
    };
    let wants_types = hint.contains("type") || hint.contains("check");
    let wants_tests = hint.contains("test");
    let kind_score = |s: &Status| match s {
        Status::Malformed(_) if wants_types && !wants_tests => 1,
        Status::Fail { .. } if wants_tests && !wants_types => 1,
        _ => 0,
    };
    let score = |p: &Problem| 2 * usize::from(names_file(p.0)) + kind_score(&p.2);
    let best = problems.iter().map(score).max().unwrap_or(0);
    let preferred: Vec<&Problem> = problems.iter().filter(|p| score(p) == best).collect();
    let others: Vec<&Problem> = problems.iter().filter(|p| score(p) != best).collect();

    // Start at a seeded position among the preferred problems, and move on past any the
    // agent cannot repair.
    let start = rng.below(preferred.len());
    let order = preferred[start..]
        .iter()
        .chain(&preferred[..start])
        .chain(&others);
    for &&(f, l, ref status) in order {
        let old = &files[f].lines[l];
        let Some(new_text) = repair(old) else {
            continue;
        };
        let what = match status {
            Status::Malformed(why) => why.clone(),
            Status::Fail { expected } => {
                let got = tokens(old).get(4).copied().unwrap_or_default();
                format!("wrong result `{got}`, expected {expected}")
            }
            Status::Ignored | Status::Pass => unreachable!(),
        };
        let place = format!("{}:{}", files[f].rel, l + 1);
        return Some(Change {
            file: f,
            line: l,
            action: Action::Fixed(format!("fixed {place} ({what}): now `{new_text}`")),
            subject: format!("fix {place} ({what})"),
            body: format!("`{}` is now `{new_text}`.", old.trim()),
            new_text,
        });
    }
    None
}

fn break_one(files: &[CalcFile], rng: &mut Rng) -> Option<Change> {
    let correct: Vec<(usize, usize)> = files
        .iter()
        .enumerate()
        .flat_map(|(f, file)| {
            (0..file.lines.len())
                .filter(move |&l| classify(&file.lines[l]) == Status::Pass)
                .map(move |l| (f, l))
        })
        .collect();
    if correct.is_empty() {
        return None;
    }
    let (f, l) = correct[rng.below(correct.len())];
    let old = &files[f].lines[l];
    let t: Vec<String> = tokens(old).into_iter().map(str::to_string).collect();
    let kind = rng.below(3);
    let word = (1..3).find_map(|i| Some((i, number_word(operand(&t[i])?)?)));
    let (new, what) = match (kind, word) {
        (0, _) => {
            // Misspell the op by dropping one letter: no op is a two-letter word.
            let i = rng.below(t[0].len());
            let mut op = t[0].clone();
            op.remove(i);
            let what = format!("misspelled op `{}` as `{op}`", t[0]);
            (
                [op, t[1].clone(), t[2].clone(), t[3].clone(), t[4].clone()],
                what,
            )
        }
        (1, Some((i, word))) => {
            let mut new = [
                t[0].clone(),
                t[1].clone(),
                t[2].clone(),
                t[3].clone(),
                t[4].clone(),
            ];
            let what = format!("wrote operand `{}` as `{word}`", t[i]);
            new[i] = word.to_string();
            (new, what)
        }
        _ => {
            let delta = rng.below(9) as i64 + 1;
            let delta = if rng.below(2) == 0 { delta } else { -delta };
            let value = t[4].parse::<i64>().ok()? + delta;
            let what = format!("changed result `{}` to `{value}`", t[4]);
            (
                [
                    t[0].clone(),
                    t[1].clone(),
                    t[2].clone(),
                    t[3].clone(),
                    value.to_string(),
                ],
                what,
            )
        }
    };
    let new_text = new.join(" ");
    debug_assert!(!matches!(
        classify(&new_text),
        Status::Pass | Status::Ignored
    ));
    let place = format!("{}:{}", files[f].rel, l + 1);
    Some(Change {
        file: f,
        line: l,
        action: Action::Broke(format!("broke {place} ({what}): now `{new_text}`")),
        subject: format!("break {place} ({what})"),
        body: format!(
            "`{}` is now `{new_text}`. (The demo agent sometimes breaks things on purpose, \
             so that brl has something to discard.)",
            old.trim()
        ),
        new_text,
    })
}

// ---------------------------------------------------------------------------------------
// Repairing a line.

/// A slot of an equation while repairing: the text written there, or a value to find.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    Text(String),
    Unknown,
}

/// `OP A B = C`, shaped but maybe still wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Draft {
    op: String,
    args: [Slot; 2],
    result: Slot,
}

/// The closest correct line to `line` (a malformed line or a wrong equation), keeping its
/// intent where it can: the shape, the op, the operands, then the result. `None` if the
/// agent cannot make sense of it.
fn repair(line: &str) -> Option<String> {
    let t = tokens(line);
    if let Status::Fail { expected } = classify(line) {
        return Some(format!("{} {} {} = {expected}", t[0], t[1], t[2]));
    }
    // Candidates with an op close to the written one first (`near`), then ones with any op.
    let mut candidates: Vec<(String, bool)> = Vec::new();
    for draft in shapes(&t) {
        for candidate in fill(&draft) {
            if !candidates.contains(&candidate) {
                candidates.push(candidate);
            }
        }
    }
    let holds = |near: bool| {
        candidates
            .iter()
            .find(|(c, n)| *n == near && classify(c) == Status::Pass)
            .map(|(c, _)| c.clone())
    };
    // One that holds as written, preferring a close op; else the first well-formed one
    // with a close op, its result recomputed.
    holds(true).or_else(|| holds(false)).or_else(|| {
        candidates
            .iter()
            .filter(|(_, near)| *near)
            .find_map(|(c, _)| match classify(c) {
                Status::Fail { expected } => {
                    let t = tokens(c);
                    Some(format!("{} {} {} = {expected}", t[0], t[1], t[2]))
                }
                _ => None,
            })
    })
}

/// Ways to read the tokens as `OP A B = C`, most likely first.
fn shapes(t: &[&str]) -> Vec<Draft> {
    let text = |s: &str| Slot::Text(s.to_string());
    let draft = |op: &str, a: Slot, b: Slot, c: Slot| Draft {
        op: op.to_string(),
        args: [a, b],
        result: c,
    };
    // `==`, `:=`, `=>` and the like were meant as `=`.
    let t: Vec<&str> = t
        .iter()
        .map(|&s| {
            let equals_like = s.contains('=') && s.chars().all(|c| matches!(c, '=' | ':' | '>'));
            if equals_like { "=" } else { s }
        })
        .collect();
    let mut out = Vec::new();
    let eqs: Vec<usize> = (0..t.len()).filter(|&i| t[i] == "=").collect();
    if let [pos] = eqs[..] {
        let (lhs, rhs) = (&t[..pos], &t[pos + 1..]);
        match (lhs.len(), rhs.len()) {
            (3, 1) => out.push(draft(lhs[0], text(lhs[1]), text(lhs[2]), text(rhs[0]))),
            (3, 0) => out.push(draft(lhs[0], text(lhs[1]), text(lhs[2]), Slot::Unknown)),
            (3, _) => {
                out.push(draft(
                    lhs[0],
                    text(lhs[1]),
                    text(lhs[2]),
                    text(rhs[rhs.len() - 1]),
                ));
                out.push(draft(lhs[0], text(lhs[1]), text(lhs[2]), text(rhs[0])));
            }
            (2, 1) => {
                out.push(draft(lhs[0], text(lhs[1]), Slot::Unknown, text(rhs[0])));
                out.push(draft(lhs[0], Slot::Unknown, text(lhs[1]), text(rhs[0])));
            }
            (2, 2) => out.push(draft(lhs[0], text(lhs[1]), text(rhs[0]), text(rhs[1]))),
            (4, 1) => {
                out.push(draft(lhs[0], text(lhs[1]), text(lhs[2]), text(rhs[0])));
                out.push(draft(lhs[0], text(lhs[1]), text(lhs[3]), text(rhs[0])));
                out.push(draft(lhs[0], text(lhs[2]), text(lhs[3]), text(rhs[0])));
            }
            _ => {}
        }
    }
    // Read it again ignoring every `=`: `sub 400 120 280`, `add 7 8`.
    let core: Vec<&str> = t.iter().copied().filter(|&s| s != "=").collect();
    match core[..] {
        [op, a, b, c] => out.push(draft(op, text(a), text(b), text(c))),
        [op, a, b] => out.push(draft(op, text(a), text(b), Slot::Unknown)),
        _ => {}
    }
    out
}

/// Concrete lines for a draft: ops it may have meant (`true` when close to the written
/// one), operands as numbers, unknowns solved.
fn fill(draft: &Draft) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (op, near) in ops_meant(&draft.op) {
        let arg_values = |slot: &Slot| -> Vec<Option<String>> {
            match slot {
                Slot::Text(s) if operand(s).is_some() => vec![Some(s.clone())],
                Slot::Text(s) => match loose_number(s).filter(|v| fits(*v)) {
                    Some(v) => vec![Some(v.to_string()), None],
                    None => vec![None],
                },
                Slot::Unknown => vec![None],
            }
        };
        let result = match &draft.result {
            Slot::Text(s) if is_int(s) => Some(s.clone()),
            Slot::Text(s) => loose_number(s).map(|v| v.to_string()),
            Slot::Unknown => None,
        };
        for a in arg_values(&draft.args[0]) {
            for b in arg_values(&draft.args[1]) {
                // Dividing by zero was not what was meant: find the divisor.
                let b = b.filter(|b| !(op == "div" && operand(b) == Some(0)));
                for (a, b) in solve(op, a.as_deref(), b.as_deref(), result.as_deref()) {
                    let line = match &result {
                        Some(c) => format!("{op} {a} {b} = {c}"),
                        None => match evaluate(op, a, b) {
                            Some(c) => format!("{op} {a} {b} = {c}"),
                            None => continue,
                        },
                    };
                    out.push((line, near));
                }
            }
        }
    }
    out
}

/// Operand pairs for `op a b = c` where at most one operand is unknown (then it is solved
/// for from the other one and the result).
fn solve(op: &str, a: Option<&str>, b: Option<&str>, c: Option<&str>) -> Vec<(i64, i64)> {
    let a = a.and_then(operand);
    let b = b.and_then(operand);
    let c = c.and_then(|c| c.parse::<i64>().ok());
    let guesses = |k: i64, c: i64| {
        let mut g = vec![c - k, k - c, c + k];
        if c != 0 {
            g.push(k / c);
        }
        if k != 0 {
            g.push(c / k);
        }
        g.extend([c * k, c, k]);
        g.into_iter().filter(|&v| fits(v))
    };
    let holds = |a: i64, b: i64| c.is_none() || evaluate(op, a, b) == c;
    match (a, b, c) {
        (Some(a), Some(b), _) => vec![(a, b)],
        (Some(a), None, Some(c)) => guesses(a, c)
            .map(|b| (a, b))
            .filter(|&(a, b)| holds(a, b))
            .collect(),
        (None, Some(b), Some(c)) => guesses(b, c)
            .map(|a| (a, b))
            .filter(|&(a, b)| holds(a, b))
            .collect(),
        _ => Vec::new(),
    }
}

fn fits(v: i64) -> bool {
    v.unsigned_abs() < 10u64.pow(MAX_OPERAND_DIGITS as u32)
}

/// The known ops `op` may have meant, closest first, and whether each is within two edits.
/// A known op means itself only.
fn ops_meant(op: &str) -> Vec<(&'static str, bool)> {
    let lower = op.to_lowercase();
    let mut ops: Vec<(usize, &'static str)> = OPS
        .iter()
        .map(|&known| (edit_distance(&lower, known), known))
        .collect();
    ops.sort_by_key(|&(d, _)| d);
    if ops[0].0 == 0 {
        // Written right (maybe in capitals): that is the op.
        ops.truncate(1);
    }
    ops.into_iter().map(|(d, known)| (known, d <= 2)).collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(prev + usize::from(ca != b[j]));
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

const NUMBER_WORDS: [&str; 21] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
];

fn number_word(v: i64) -> Option<&'static str> {
    NUMBER_WORDS.get(usize::try_from(v).ok()?).copied()
}

/// What a person meant by a number written the wrong way: `two`, `1,000`, `1_000`, `+5`,
/// `2.0`.
fn loose_number(s: &str) -> Option<i64> {
    let lower = s.to_lowercase();
    if let Some(v) = NUMBER_WORDS.iter().position(|&w| w == lower) {
        return Some(v as i64);
    }
    let (neg, rest) = match lower.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, lower.strip_prefix('+').unwrap_or(&lower)),
    };
    let rest: String = rest.chars().filter(|&c| c != ',' && c != '_').collect();
    let int = match rest.split_once('.') {
        Some((int, frac)) if frac.bytes().all(|b| b == b'0') => int,
        Some(_) => return None,
        None => &rest,
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || int.len() > 12 {
        return None;
    }
    let v: i64 = int.parse().ok()?;
    Some(if neg { -v } else { v })
}

// ---------------------------------------------------------------------------------------
// Committing.

fn commit(worktree: &Path, rel: &str, message: &str) -> Result<()> {
    let repo = git2::Repository::open(worktree)
        .with_context(|| format!("{} is not a git worktree", worktree.display()))?;
    let Some(workdir) = repo.workdir() else {
        bail!("{} is a bare repository", worktree.display());
    };
    if workdir.canonicalize()? != worktree.canonicalize()? {
        bail!("{} is not the top of its worktree", worktree.display());
    }
    let mut index = repo.index()?;
    index.add_path(Path::new(rel))?;
    index.write()?;
    let tree = repo.find_tree(index.write_tree()?)?;
    let parent = repo
        .head()
        .and_then(|h| h.peel_to_commit())
        .context("the worktree has no HEAD commit")?;
    let sig = git2::Signature::now(AUTHOR_NAME, AUTHOR_EMAIL)?;
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&parent])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::repo::test_support::{run_checks, sh};
    use super::super::repo::{SEEDED_TEST_FAILURES, SEEDED_TYPE_ERRORS, create_target};
    use super::*;

    const PROMPT: &str = "You are working on the calc demo. Make the checks pass.\n";

    /// A demo target with a worktree for branch `branch`, like brl makes for a cycle.
    fn setup(branch: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        create_target(&target).unwrap();
        let repo = git2::Repository::open(&target).unwrap();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        let reference = repo.branch(branch, &head, false).unwrap().into_reference();
        let wt = tmp.path().join("wt");
        let mut opts = git2::WorktreeAddOptions::new();
        opts.reference(Some(&reference));
        repo.worktree(&branch.replace('/', "-"), &wt, Some(&opts))
            .unwrap();
        (tmp, wt)
    }

    fn head(dir: &Path) -> git2::Oid {
        git2::Repository::open(dir)
            .unwrap()
            .head()
            .unwrap()
            .target()
            .unwrap()
    }

    fn seed(i: usize) -> String {
        format!("brl/s1/20260101-0000{i}")
    }

    fn variant(action: &Action) -> usize {
        match action {
            Action::Fixed(_) => 0,
            Action::Broke(_) => 1,
            Action::Nothing => 2,
        }
    }

    /// Runs the agent in `dir` and checks its effect on the checks' counts and on HEAD.
    fn run_and_check(dir: &Path, prompt: &str, seed: &str) -> Action {
        let before = run_checks(dir);
        let head_before = head(dir);
        let action = run(dir, prompt, seed).unwrap();
        let after = run_checks(dir);
        let repo = git2::Repository::open(dir).unwrap();
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true);
        assert!(
            repo.statuses(Some(&mut opts)).unwrap().is_empty(),
            "left changes uncommitted"
        );
        match &action {
            Action::Nothing => {
                assert_eq!(after, before);
                assert_eq!(head(dir), head_before, "committed while doing nothing");
            }
            Action::Fixed(_) | Action::Broke(_) => {
                let fixed = matches!(action, Action::Fixed(_));
                let expected = if fixed {
                    before.problems() - 1
                } else {
                    before.problems() + 1
                };
                assert_eq!(after.problems(), expected, "{}", action.describe());
                let commit = repo.head().unwrap().peel_to_commit().unwrap();
                assert_eq!(commit.parent_id(0).unwrap(), head_before);
                assert_eq!(commit.author().name(), Some("brl demo-agent"));
                assert_eq!(commit.author().email(), Some("demo-agent@brl.invalid"));
                let verb = if fixed {
                    "demo-agent: fix src/"
                } else {
                    "demo-agent: break src/"
                };
                assert!(
                    commit.message().unwrap().starts_with(verb),
                    "{:?}",
                    commit.message()
                );
            }
        }
        // The agent's own reading of the language agrees with the scripts.
        let files = load(dir).unwrap();
        let problems = problems(&files);
        let malformed = problems
            .iter()
            .filter(|p| matches!(p.2, Status::Malformed(_)))
            .count();
        assert_eq!(malformed, after.type_errors);
        assert_eq!(problems.len() - malformed, after.test_failures);
        action
    }

    #[test]
    fn seeds_hit_every_action_with_its_effect_and_deterministically() {
        let mut found: [Option<(String, Action)>; 3] = [None, None, None];
        for i in 0..500 {
            let seed = seed(i);
            let (_tmp, wt) = setup(&seed);
            let action = run_and_check(&wt, PROMPT, &seed);
            let v = variant(&action);
            if found[v].is_none() {
                found[v] = Some((seed, action));
            }
            if found.iter().all(Option::is_some) {
                break;
            }
        }
        for (v, found) in found.into_iter().enumerate() {
            let (seed, action) = found.unwrap_or_else(|| panic!("no seed gave action #{v}"));
            // Same seed, same tree: same action, same resulting tree.
            let (_tmp1, wt1) = setup(&seed);
            let (_tmp2, wt2) = setup(&seed);
            assert_eq!(run(&wt1, PROMPT, &seed).unwrap(), action);
            assert_eq!(run(&wt2, PROMPT, &seed).unwrap(), action);
            let tree = |dir: &Path| {
                let repo = git2::Repository::open(dir).unwrap();
                repo.head().unwrap().peel_to_tree().unwrap().id()
            };
            assert_eq!(tree(&wt1), tree(&wt2));
            assert!(action.describe().len() > 5);
        }
    }

    #[test]
    fn fixes_everything_eventually_then_changes_nothing() {
        let (_tmp, wt) = setup("brl/s1/converge");
        let start = run_checks(&wt);
        assert_eq!(start.problems(), SEEDED_TYPE_ERRORS + SEEDED_TEST_FAILURES);
        let mut seen = [0; 3];
        let mut i = 0;
        while run_checks(&wt).problems() > 0 {
            assert!(i < 1000, "the agent does not converge");
            seen[variant(&run_and_check(&wt, PROMPT, &seed(i)))] += 1;
            i += 1;
        }
        assert!(seen.iter().all(|&n| n > 0), "{seen:?}");
        let counts = run_checks(&wt);
        assert_eq!(counts.tests_passed, 58);
        for i in 0..50 {
            assert_eq!(run_and_check(&wt, PROMPT, &seed(i)), Action::Nothing);
        }
    }

    #[test]
    fn follows_the_task_hint_and_quotes_the_task() {
        let prompt = "Some preamble.\nTASK: fix the failing tests in grid.calc\nMore text.\n";
        let mut fixed = 0;
        for i in 0..40 {
            let (_tmp, wt) = setup(&seed(i));
            let Action::Fixed(what) = run_and_check(&wt, prompt, &seed(i)) else {
                continue;
            };
            assert!(what.starts_with("fixed src/grid.calc:"), "{what}");
            assert!(what.contains("wrong result"), "{what}");
            let repo = git2::Repository::open(&wt).unwrap();
            let message = repo
                .head()
                .unwrap()
                .peel_to_commit()
                .unwrap()
                .message()
                .unwrap()
                .to_string();
            assert!(
                message.contains("Task: fix the failing tests in grid.calc"),
                "{message}"
            );
            fixed += 1;
        }
        assert!(fixed > 10);
    }

    #[test]
    fn repairs_the_seeded_problems_sensibly() {
        let cases = [
            ("ad 4 4 = 8", "add 4 4 = 8"),
            ("mull 3 5 = 15", "mul 3 5 = 15"),
            ("mx 7 2 = 7", "max 7 2 = 7"),
            ("add 1,000 500 = 1500", "add 1000 500 = 1500"),
            ("sub 400 120 280", "sub 400 120 = 280"),
            ("div 1440 0 = 24", "div 1440 60 = 24"),
            ("add 7 8 =", "add 7 8 = 15"),
            ("add -10 = -4", "add -10 6 = -4"),
            ("mul two 3 = 6", "mul 2 3 = 6"),
            ("min 8 3 == 3", "min 8 3 = 3"),
            ("max 4 5 = five", "max 4 5 = 5"),
            ("sub 50 x = 35", "sub 50 15 = 35"),
            ("add 19 23 = 41", "add 19 23 = 42"),
            ("div -7 2 = -4", "div -7 2 = -3"),
            ("mul 2.0 150 = 300", "mul 2 150 = 300"),
            ("add 2 = 3 5", "add 2 3 = 5"),
            ("add 2 3 4 = 6", "add 2 4 = 6"),
            ("ADD 2 3 = 5", "add 2 3 = 5"),
            ("mod 100 60 = 40", "sub 100 60 = 40"),
            ("add 2 3 4 = 24", "add 2 3 = 5"),
            ("ADD 2 3 = 6", "add 2 3 = 5"),
        ];
        for (line, want) in cases {
            assert!(
                !matches!(classify(line), Status::Pass | Status::Ignored),
                "{line}"
            );
            assert_eq!(repair(line).as_deref(), Some(want), "{line}");
        }
        assert_eq!(repair("hello world"), None);
        assert_eq!(repair("= 5"), None);
    }

    /// Lines that probe the corners of calc.awk.
    const EDGE_CASES: &str = "add 2 3 = 5
   add\t2   3 =\t5   
add 2 3 = 5\r
# comment
   # indented comment
#nospace

add 2 3 = 05
add -0 0 = 0
mul -3 0 = -0
mul -3 0 = 5
div -1 2 = 0
div 1 -2 = -0
div -7 -2 = 3
add 999999 999999 = 1999998
mul 999999 999999 = 999998000001
mul -999999 999999 = 999998000001
add 1234567 1 = 1234568
add 0001234 1 = 1235
add 2 3 = 99999999999999999999999
add 2 3 = 00000000000000000000005
= 5
= = 5
add = 5
add 2 3 =
add 2 3 = 5 = 5
add 2 = 3 5
add 2 3 4 = 9
add 2 = 5
add2 3 = 5
ADD 2 3 = 5
add x y = z
add 2 3 = z
div 5 0 = 0
div 5 -0 = 0
div 0 5 = 0
min -5 5 = -5
max -5 5 = 5
sub 2 5 = -3
add -- 1 = 1
add - 1 = 1
add 2 3 = +5
add \u{fc} 3 = 5
add 2 3 = 5 # trailing comment
";

    /// What check.sh and test.sh print for `files`, according to the agent's reading.
    fn render(files: &[CalcFile]) -> (String, String) {
        let (mut check, mut test) = (String::new(), String::new());
        let (mut errors, mut passed, mut failed, mut skipped) = (0, 0, 0, 0);
        for file in files {
            for (l, line) in file.lines.iter().enumerate() {
                let place = format!("{}:{}", file.rel, l + 1);
                match classify(line) {
                    Status::Ignored => {}
                    Status::Malformed(why) => {
                        check += &format!("error: {place}: {why}\n");
                        errors += 1;
                        skipped += 1;
                    }
                    Status::Pass => {
                        test += &format!("ok {place}\n");
                        passed += 1;
                    }
                    Status::Fail { expected } => {
                        let t = tokens(line);
                        let eq = format!("{} {} {} = {}", t[0], t[1], t[2], t[4]);
                        test += &format!("FAIL {place}: {eq} (expected {expected})\n");
                        failed += 1;
                    }
                }
            }
        }
        check += &format!("check.sh: {errors} error(s)\n");
        test +=
            &format!("test.sh: {passed} passed, {failed} failed, {skipped} skipped (malformed)\n");
        (check, test)
    }

    #[test]
    fn reads_calc_exactly_like_the_scripts() {
        let (_tmp, wt) = setup("brl/s1/edge");
        std::fs::write(wt.join("src/edge.calc"), EDGE_CASES).unwrap();
        std::fs::write(wt.join("src/no-newline.calc"), "add 1 1 = 3").unwrap();
        std::fs::write(wt.join("src/empty.calc"), "").unwrap();
        std::fs::write(wt.join("src/.hidden.calc"), "oops").unwrap();
        std::fs::write(wt.join("src/B.calc"), "add 1 1 = 2\n").unwrap();
        let files = load(&wt).unwrap();
        let (check, test) = render(&files);
        assert_eq!(sh(&wt, "sh check.sh").0, check);
        assert_eq!(sh(&wt, "sh test.sh").0, test);

        // Whatever the agent repairs, it repairs into a passing line.
        for line in EDGE_CASES.lines() {
            if let Some(fixed) = repair(line) {
                assert_eq!(classify(&fixed), Status::Pass, "{line:?} -> {fixed:?}");
            }
        }
    }

    #[test]
    fn seeded_repository_reads_as_seeded() {
        let (_tmp, wt) = setup("brl/s1/seeded");
        let files = load(&wt).unwrap();
        let (check, test) = render(&files);
        assert_eq!(sh(&wt, "sh check.sh").0, check);
        assert_eq!(sh(&wt, "sh test.sh").0, test);
        // Every seeded problem is one the agent can repair.
        for (f, l, _) in problems(&files) {
            let line = &files[f].lines[l];
            assert_eq!(classify(&repair(line).unwrap()), Status::Pass, "{line}");
        }
    }

    #[test]
    fn does_nothing_without_sources_and_fails_outside_a_repository() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(run(tmp.path(), PROMPT, "x").unwrap(), Action::Nothing);
        std::fs::create_dir(tmp.path().join("src")).unwrap();
        std::fs::write(tmp.path().join("src/a.calc"), "ad 1 1 = 2\n").unwrap();
        let fixing_seed = (0..100)
            .map(seed)
            .find(|s| Rng::new(s).below(100) < 70)
            .unwrap();
        assert!(run(tmp.path(), PROMPT, &fixing_seed).is_err());
    }

    #[test]
    fn describes_what_it_did() {
        assert_eq!(Action::Nothing.describe(), "changed nothing");
        assert_eq!(Action::Fixed("fixed x".into()).describe(), "fixed x");
        assert_eq!(Action::Broke("broke y".into()).describe(), "broke y");
        assert_eq!(task("a\n  TASK:  do it \nb"), Some("do it"));
        assert_eq!(task("no task"), None);
    }
}
