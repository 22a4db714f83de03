//! The contents of the demo target's initial commit: README.md, AGENTS.md, the check
//! scripts and the seeded `src/*.calc` files. Changing a seeded file changes the counts in
//! [`super::SEEDED_TYPE_ERRORS`] and friends.

/// `(path, executable, contents)` of every file in the initial commit.
pub(super) const FILES: &[(&str, bool, &str)] = &[
    (
        "README.md",
        false,
        r#"# calc demo

A tiny repository for trying out brl without an API key. The "language" is
**calc**: files `src/*.calc` hold one integer equation per line, such as

    add 2 3 = 5
    div -7 2 = -3

Some lines are malformed and some equations are wrong, on purpose.

- `sh check.sh` is the type check: one `error: FILE:LINE: why` line per malformed
  equation, exit status 1 if there is any.
- `sh test.sh` runs the tests: every well-formed equation is evaluated and prints
  `ok FILE:LINE` or `FAIL FILE:LINE: ... (expected N)`, exit status 1 if any fails.

Both need only a POSIX shell and awk. The language rules are in AGENTS.md.
"#,
    ),
    (
        "AGENTS.md",
        false,
        r#"# Working on this repository

This repository is written in **calc**, a tiny language of integer equations.

## The language

- Source files are `src/*.calc`, one equation per line: `OP A B = C`, with the
  tokens separated by spaces. Blank lines and lines starting with `#` are ignored.
- `OP` is one of:
  - `add` (A + B), `sub` (A - B), `mul` (A * B),
  - `div` (A / B, truncated toward zero: `div -7 2 = -3`),
  - `min`, `max`.
- `A` and `B` are integers written as an optional `-` and at most 6 digits.
  `C` is an integer. Not integers: `1,000`, `2.0`, `two`, `x`.
- `div` by `0` is an error.

## The checks

- `sh check.sh` (type check) prints `error: FILE:LINE: why` for every malformed line.
- `sh test.sh` (tests) evaluates every well-formed line and prints `ok FILE:LINE`
  or `FAIL FILE:LINE: OP A B = C (expected N)`. It skips malformed lines.

Both exit with status 1 when they report a problem.

## Rules

- Fix problems by correcting the equation, keeping its intent: a misspelled op
  becomes the op it was meant to be, a wrong result becomes the right one.
- Do not delete or comment out equations, and do not edit `check.sh`, `test.sh`
  or `calc.awk`.
- Commit your work with a short message saying what you fixed.
"#,
    ),
    (".gitattributes", false, "* text=auto eol=lf\n"),
    (
        "check.sh",
        true,
        r#"#!/bin/sh
# The demo's "type check": see README.md.
LC_ALL=C; export LC_ALL
cd "$(dirname "$0")" || exit 2
set -- src/*.calc
if [ ! -e "$1" ]; then
    echo "check.sh: no src/*.calc files"
    exit 0
fi
exec awk -v mode=check -f calc.awk "$@"
"#,
    ),
    (
        "test.sh",
        true,
        r#"#!/bin/sh
# The demo's "tests": see README.md.
LC_ALL=C; export LC_ALL
cd "$(dirname "$0")" || exit 2
set -- src/*.calc
if [ ! -e "$1" ]; then
    echo "test.sh: no src/*.calc files"
    exit 0
fi
exec awk -v mode=test -f calc.awk "$@"
"#,
    ),
    (
        "calc.awk",
        false,
        r#"# calc.awk -- shared by check.sh (mode=check) and test.sh (mode=test).
# One equation per line: OP A B = C. Blank lines and lines starting with # are ignored.

function isint(s) { return s ~ /^-?[0-9]+$/ }
function digits(s) { return length(s) - (substr(s, 1, 1) == "-") }

# Why this line is malformed, or "" when it is well-formed.
function malformed(   i, neq, pos) {
    neq = 0; pos = 0
    for (i = 1; i <= NF; i++) if ($i == "=") { neq++; if (pos == 0) pos = i }
    if (neq == 0) return "missing `=`"
    if (neq > 1) return "more than one `=`"
    if (pos == NF) return "missing result after `=`"
    if (pos < NF - 1) return "expected one result after `=`"
    if (pos == 1) return "missing op before `=`"
    if ($1 !~ /^(add|sub|mul|div|min|max)$/) return "unknown op `" $1 "`"
    if (pos != 4) return "`" $1 "` takes 2 operands, got " (pos - 2)
    for (i = 2; i <= 3; i++) {
        if (!isint($i)) return "operand `" $i "` is not an integer"
        if (digits($i) > 6) return "operand `" $i "` is out of range (at most 6 digits)"
    }
    if (!isint($5)) return "result `" $5 "` is not an integer"
    if ($1 == "div" && $3 + 0 == 0) return "division by zero"
    return ""
}

function evaluate(op, a, b) {
    if (op == "add") return a + b
    if (op == "sub") return a - b
    if (op == "mul") return a * b
    if (op == "div") return int(a / b)
    if (op == "min") return (a < b) ? a : b
    return (a > b) ? a : b
}

NF == 0 || $1 ~ /^#/ { next }

{
    why = malformed()
    where = FILENAME ":" FNR
    if (mode == "check") {
        if (why != "") { print "error: " where ": " why; errors++ }
        next
    }
    if (why != "") { skipped++; next }
    # "+ 0" turns a negative zero into 0.
    want = evaluate($1, $2 + 0, $3 + 0) + 0
    if (want == $5 + 0) { print "ok " where; passed++ }
    else {
        printf "FAIL %s: %s %s %s = %s (expected %.0f)\n", where, $1, $2, $3, $5, want
        failed++
    }
}

END {
    if (mode == "check") {
        printf "check.sh: %d error(s)\n", errors
        exit (errors > 0 ? 1 : 0)
    }
    printf "test.sh: %d passed, %d failed, %d skipped (malformed)\n", passed, failed, skipped
    exit (failed > 0 ? 1 : 0)
}
"#,
    ),
    (
        "src/arith.calc",
        false,
        r#"# Warm-up arithmetic.
add 2 3 = 5
ad 4 4 = 8
add 19 23 = 41
sub 10 4 = 6
sub 3 10 = 7
mul 6 7 = 42
mull 3 5 = 15
div 20 4 = 5
div 7 2 = 4
max 3 9 = 9
"#,
    ),
    (
        "src/budget.calc",
        false,
        r#"# Monthly budget, in whole euros.
add 1200 350 = 1550
sub 1550 900 = 650
mul 12 12 = 124
add 1,000 500 = 1500
div 650 2 = 325
sub 100 1 = 99
add 60 45 = 115
mul 30 4 = 120
sub 400 120 280
"#,
    ),
    (
        "src/clock.calc",
        false,
        r#"# Minutes and hours.
mul 60 24 = 1440
div 90 60 = 1
add 45 30 = 75
sub 60 15 = 45
mul 7 24 = 168
div 1440 0 = 24
add 7 8 =
mul 15 4 = 60
div 125 60 = 2
"#,
    ),
    (
        "src/grid.calc",
        false,
        r#"# Coordinates on a grid, negatives included.
add -3 5 = 2
sub -2 -8 = 6
max -2 -8 = -8
min 0 -1 = 0
mul -3 -3 = -9
mul -4 5 = -20
div -7 2 = -4
min -5 -6 = -6
max 0 0 = 0
add -10 = -4
"#,
    ),
    (
        "src/recipe.calc",
        false,
        r#"# Scaling a recipe.
mul two 3 = 6
mul 250 2 = 500
div 500 4 = 125
add 125 125 = 250
mul 2 150 = 300
sub 300 75 = 225
min 8 3 == 3
mul 25 4 = 1000
max 4 5 = five
add 999 1 = 1001
"#,
    ),
    (
        "src/score.calc",
        false,
        r#"# A small score board.
add 10 20 = 30
add 30 15 = 45
max 45 50 = 50
min 45 50 = 45
sub 50 x = 35
div 90 3 = 30
mul 3 10 = 30
mx 7 2 = 7
sub 0 12 = -12
add 12 12 = 42
"#,
    ),
];
