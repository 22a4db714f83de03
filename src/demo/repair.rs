//! Repairing a broken calc line: the closest correct line to a malformed line or a wrong
//! equation, keeping what the writer meant (shape, op, operands, then result).

use super::calc::{MAX_OPERAND_DIGITS, OPS, Status, classify, evaluate, is_int, operand, tokens};

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
pub(super) fn repair(line: &str) -> Option<String> {
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

pub(super) fn number_word(v: i64) -> Option<&'static str> {
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
