//! The calc demo language, as the demo repository's `calc.awk` defines it: what a line
//! of a `.calc` file means (ignored, malformed and why, a passing or a failing equation).

pub(super) const OPS: [&str; 6] = ["add", "sub", "mul", "div", "min", "max"];
pub(super) const MAX_OPERAND_DIGITS: usize = 6;

/// How check.sh and test.sh see one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
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
pub(super) fn tokens(line: &str) -> Vec<&str> {
    line.split([' ', '\t']).filter(|t| !t.is_empty()).collect()
}

pub(super) fn is_int(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The value of an operand that `is_int` and is within range.
pub(super) fn operand(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if !is_int(s) || digits.len() > MAX_OPERAND_DIGITS {
        return None;
    }
    s.parse().ok()
}

pub(super) fn classify(line: &str) -> Status {
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
pub(super) fn evaluate(op: &str, a: i64, b: i64) -> Option<i64> {
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
