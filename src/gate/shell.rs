//! Bash scripts into the simple commands they run, on `brush-parser` (the parser of the brush
//! shell): pipelines, lists, subshells, brace groups, `if`/`for`/`while`/`case`, functions,
//! redirections, heredocs and here-strings, `$( )`, backticks and process substitution.
//!
//! Fail closed: a script the parser rejects (an unterminated quote, a stray `)`) is an error, and
//! the gate blocks it with the parser's reason. Command substitutions are not walked here: their
//! source is handed back in [`Simple::subs`] for the caller to parse in turn (it caps the depth).

use brush_parser::ast;

/// One simple command: its words with quotes removed (expansions such as `$HOME` or `$(pwd)` are
/// kept as written), its redirections, and what feeds its stdin.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Simple {
    pub words: Vec<String>,
    pub redirects: Vec<Redirect>,
    /// The body of a heredoc (`<<EOF`) or here-string (`<<<`) given to it.
    pub stdin_text: Option<String>,
    /// Variables in `stdin_text` are expanded (a here-string, or a heredoc whose delimiter is
    /// not quoted: `<<EOF`, not `<<'EOF'`).
    pub stdin_expands: bool,
    /// The index (in the same [`parse`] result) of the command piping into this one (`a | b`).
    pub piped_from: Option<usize>,
    /// Sources of the command substitutions (`$( )`, backticks) and process substitutions
    /// (`<( )`, `>( )`) in its words, redirections and expanded heredoc.
    pub subs: Vec<String>,
    /// Sources of its process substitutions only (a subset of `subs`): what `sh <(curl …)` reads.
    pub proc_subs: Vec<String>,
    /// The subshells `( … )` it runs in, outermost first, each by a number unique in the
    /// [`parse`] result: a `cd` inside one does not outlast it.
    pub scope: Vec<u32>,
}

/// A redirection: its operator (`>`, `>>`, `<`, `2>`, `&>`, `<<`, …) and target word.
#[derive(Clone, Debug, PartialEq)]
pub struct Redirect {
    pub op: String,
    pub target: String,
}

impl Redirect {
    /// Writes to its target (as opposed to reading it or duplicating a descriptor).
    pub fn writes(&self) -> bool {
        let op = self.op.trim_start_matches(|c: char| c.is_ascii_digit());
        // `>& file` (not `>&2`, not `>&-`) sends stdout and stderr to a file.
        let to_file =
            op == ">&" && self.target != "-" && !self.target.chars().all(|c| c.is_ascii_digit());
        matches!(op, ">" | ">>" | ">|" | "&>" | "&>>" | "<>") || to_file
    }
    /// Reads its target as a file.
    pub fn reads(&self) -> bool {
        let op = self.op.trim_start_matches(|c: char| c.is_ascii_digit());
        matches!(op, "<" | "<>")
    }
}

/// Brackets nested deeper than this (`$( $( …`, `{ { …`, `${a:-${b:-…`) are refused unparsed:
/// the parser recurses once per level, and a stack overflow would abort the hook, which the
/// agents take as "no verdict" and run the call.
pub const MAX_NESTING: usize = 40;

/// Scripts longer than this are refused unparsed (a tool call's command is a few KB at most).
pub const MAX_SCRIPT_BYTES: usize = 128 * 1024;

/// The deepest nesting of `(`, `{`, `[` in `src`, quotes not considered (an upper bound).
fn nesting(src: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in src.bytes() {
        match b {
            b'(' | b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Split `src` into its simple commands, in order; `Err` with the parser's reason when bash
/// would not run it as written, or when it is too long or too deeply nested to check.
pub fn parse(src: &str) -> Result<Vec<Simple>, String> {
    if src.len() > MAX_SCRIPT_BYTES {
        return Err(format!(
            "the script is {} bytes long, more than the {MAX_SCRIPT_BYTES} the gate reads; \
             split it into smaller calls",
            src.len()
        ));
    }
    if nesting(src) > MAX_NESTING {
        return Err(format!("brackets are nested more than {MAX_NESTING} deep"));
    }
    let opts = words::options();
    // The parser is a dependency: a panic inside it must still end in a verdict.
    let program = std::panic::catch_unwind(|| {
        brush_parser::Parser::new(std::io::Cursor::new(src), &opts).parse_program()
    })
    .map_err(|_| "the shell parser failed on it".to_string())?
    .map_err(|e| e.to_string())?;
    let mut b = Builder {
        out: Vec::new(),
        scope: Vec::new(),
        subshells: 0,
        loops: Vec::new(),
        vars: Vec::new(),
        conditional: 0,
    };
    for list in &program.complete_commands {
        b.list(list)?;
    }
    Ok(b.out)
}

struct Builder {
    out: Vec<Simple>,
    scope: Vec<u32>,
    subshells: u32,
    /// The `for` loops around the commands being built: each variable and its values (quotes
    /// removed), so `for f in src/*.rs; do sed -i … "$f"; done` is judged on `src/*.rs`.
    loops: Vec<(String, Vec<String>)>,
    /// Variables the script set earlier at its top level to a value that can be told
    /// (`OUT=build/x`, `tmp=$(mktemp)`): later commands are judged with the value.
    vars: Vec<(String, String)>,
    /// Inside an `if`/`while`/`case` body, after `&&`/`||`, or in a pipeline: an assignment
    /// there may or may not happen (or not last), so it is not followed.
    conditional: usize,
}

/// A loop with more values than this is judged with its variable unexpanded (unknown).
const MAX_LOOP_VALUES: usize = 16;

impl Builder {
    fn list(&mut self, list: &ast::CompoundList) -> Result<(), String> {
        for ast::CompoundListItem(and_or, _) in &list.0 {
            self.pipeline(&and_or.first)?;
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => {
                        self.conditional(|b| b.pipeline(p))?
                    }
                }
            }
        }
        Ok(())
    }

    /// Commands that may or may not run (see [`Builder::conditional`]).
    fn conditional(
        &mut self,
        f: impl FnOnce(&mut Builder) -> Result<(), String>,
    ) -> Result<(), String> {
        self.conditional += 1;
        let r = f(self);
        self.conditional -= 1;
        r
    }

    fn pipeline(&mut self, p: &ast::Pipeline) -> Result<(), String> {
        let mut prev: Option<usize> = None;
        let piped = p.seq.len() > 1;
        for c in &p.seq {
            let first = self.out.len();
            if piped {
                self.conditional(|b| b.command(c))?;
            } else {
                self.command(c)?;
            }
            if let (Some(from), Some(first_new)) = (prev, self.out.get_mut(first)) {
                first_new.piped_from = Some(from);
            }
            prev = self.out.len().checked_sub(1).filter(|&l| l >= first);
        }
        Ok(())
    }

    fn push(&mut self, mut s: Simple) {
        s.scope = self.scope.clone();
        let top_level = self.scope.is_empty() && self.loops.is_empty() && self.conditional == 0;
        for (name, value) in self.vars.iter().rev() {
            if words::uses(&s, name) && !self.loops.iter().any(|(l, _)| l == name) {
                s = words::substitute(&s, name, value);
            }
        }
        for name in words::assigned(&s) {
            self.vars.retain(|(n, _)| *n != name);
        }
        if top_level {
            self.vars.extend(words::known_assignments(&s));
        }
        // One command per value of each enclosing loop variable it uses.
        let mut expanded = vec![s];
        for (name, values) in self.loops.iter().rev() {
            if !expanded.iter().any(|c| words::uses(c, name)) {
                continue;
            }
            expanded = expanded
                .iter()
                .flat_map(|c| values.iter().map(move |v| words::substitute(c, name, v)))
                .collect();
        }
        for c in expanded {
            self.out.push(c);
        }
    }

    /// Commands in a scope of their own (a subshell, a function body).
    fn scoped(&mut self, f: impl FnOnce(&mut Builder) -> Result<(), String>) -> Result<(), String> {
        self.subshells += 1;
        self.scope.push(self.subshells);
        let r = f(self);
        self.scope.pop();
        r
    }

    fn command(&mut self, c: &ast::Command) -> Result<(), String> {
        match c {
            ast::Command::Simple(s) => self.simple(s),
            ast::Command::Compound(cc, redirects) => {
                self.redirect_list(redirects.as_ref())?;
                self.compound(cc)
            }
            ast::Command::Function(f) => {
                // The body runs whenever the function is called: judged as if it were.
                self.redirect_list(f.body.1.as_ref())?;
                self.scoped(|b| b.compound(&f.body.0))
            }
            ast::Command::ExtendedTest(t, redirects) => {
                self.redirect_list(redirects.as_ref())?;
                let mut s = Simple::default();
                words::test_words(&t.expr, &mut |w| words::word(w, &mut s).map(|_| ()))?;
                if !s.subs.is_empty() {
                    self.push(s);
                }
                Ok(())
            }
        }
    }

    /// The redirections of a compound command, as a command of their own (no words).
    fn redirect_list(&mut self, r: Option<&ast::RedirectList>) -> Result<(), String> {
        let Some(r) = r else { return Ok(()) };
        let mut s = Simple::default();
        for io in &r.0 {
            words::redirect(io, &mut s)?;
        }
        self.push(s);
        Ok(())
    }

    /// Words a compound command expands (`for x in $(…)`, `case $(…) in`): their substitutions.
    fn expand_only(&mut self, ws: &[&ast::Word]) -> Result<(), String> {
        let mut s = Simple::default();
        for w in ws {
            words::word(&w.value, &mut s)?;
        }
        if !s.subs.is_empty() {
            self.push(s);
        }
        Ok(())
    }

    fn arithmetic(&mut self, e: Option<&ast::UnexpandedArithmeticExpr>) -> Result<(), String> {
        let Some(e) = e else { return Ok(()) };
        let mut s = Simple::default();
        words::word(&e.value, &mut s)?;
        if !s.subs.is_empty() {
            self.push(s);
        }
        Ok(())
    }

    fn compound(&mut self, cc: &ast::CompoundCommand) -> Result<(), String> {
        use ast::CompoundCommand as C;
        match cc {
            C::IfClause(_) | C::WhileClause(_) | C::UntilClause(_) | C::CaseClause(_)
                if self.conditional == 0 =>
            {
                self.conditional(|b| b.compound(cc))
            }
            C::Arithmetic(a) => self.arithmetic(Some(&a.expr)),
            C::ArithmeticForClause(f) => {
                self.arithmetic(f.initializer.as_ref())?;
                self.arithmetic(f.condition.as_ref())?;
                self.arithmetic(f.updater.as_ref())?;
                self.list(&f.body.list)
            }
            C::BraceGroup(g) => self.list(&g.list),
            C::Subshell(s) => self.scoped(|b| b.list(&s.list)),
            C::ForClause(f) => {
                let values: Vec<&ast::Word> = f.values.iter().flatten().collect();
                self.expand_only(&values)?;
                let mut scratch = Simple::default();
                let mut texts = Vec::new();
                for v in &values {
                    texts.push(words::word(&v.value, &mut scratch)?);
                }
                // `for x; do` loops over the script's arguments: unknown.
                let known = f.values.is_some() && texts.len() <= MAX_LOOP_VALUES;
                if known {
                    self.loops.push((f.variable_name.clone(), texts));
                }
                let r = self.list(&f.body.list);
                if known {
                    self.loops.pop();
                }
                r
            }
            C::CaseClause(c) => {
                self.expand_only(&[&c.value])?;
                for item in &c.cases {
                    self.expand_only(&item.patterns.iter().collect::<Vec<_>>())?;
                    if let Some(body) = &item.cmd {
                        self.list(body)?;
                    }
                }
                Ok(())
            }
            C::IfClause(i) => {
                self.list(&i.condition)?;
                self.list(&i.then)?;
                for e in i.elses.iter().flatten() {
                    if let Some(cond) = &e.condition {
                        self.list(cond)?;
                    }
                    self.list(&e.body)?;
                }
                Ok(())
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.list(&w.0)?;
                self.list(&w.1.list)
            }
            C::Coprocess(c) => self.scoped(|b| b.command(&c.body)),
        }
    }

    fn simple(&mut self, c: &ast::SimpleCommand) -> Result<(), String> {
        let mut s = Simple::default();
        for item in c.prefix.iter().flat_map(|p| p.0.iter()) {
            item_into(item, &mut s)?;
        }
        if let Some(name) = &c.word_or_name {
            let text = words::word(&name.value, &mut s)?;
            s.words.push(text);
        }
        for item in c.suffix.iter().flat_map(|p| p.0.iter()) {
            item_into(item, &mut s)?;
        }
        self.push(s);
        Ok(())
    }
}

/// One word, assignment, redirection or process substitution of a simple command.
fn item_into(item: &ast::CommandPrefixOrSuffixItem, s: &mut Simple) -> Result<(), String> {
    use ast::CommandPrefixOrSuffixItem as I;
    match item {
        // `VAR=value cmd`: the assignment stays a word (the rules skip assignments); the
        // substitutions in its value run.
        I::Word(w) | I::AssignmentWord(_, w) => {
            let text = words::word(&w.value, s)?;
            s.words.push(text);
        }
        I::IoRedirect(io) => words::redirect(io, s)?,
        I::ProcessSubstitution(kind, sub) => {
            let src = sub.list.to_string();
            let sigil = match kind {
                ast::ProcessSubstitutionKind::Read => '<',
                ast::ProcessSubstitutionKind::Write => '>',
            };
            s.words.push(format!("{sigil}({src})"));
            s.proc_subs.push(src.clone());
            s.subs.push(src);
        }
    }
    Ok(())
}

#[path = "shell_words.rs"]
mod words;

#[cfg(test)]
#[path = "shell_tests.rs"]
mod tests;
