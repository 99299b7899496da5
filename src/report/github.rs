//! `check --format github`: GitHub Actions workflow commands, one annotation per line of the
//! text output (`::error file=PATH,line=L,col=C,title=…::MESSAGE`), which the Actions runner
//! turns into annotations on the pull request's files. Objects the target no longer serves
//! and objects that need a human are errors; warnings stay warnings; deprecated-but-served
//! objects, pins and notes are notices.

use std::io::{self, Write};

use crate::catalogue::Level;
use crate::plan::Status;

use super::machine::{Collector, RunInfo};
use super::text::{self, Verbosity};
use super::workflow_command::annotation;

pub fn write(w: &mut dyn Write, c: &Collector, info: &RunInfo) -> io::Result<()> {
    for o in &c.objects {
        let r = &o.report;
        let who = o.who();
        let title = format!("kubemig {}", o.rule_id());
        let served = info
            .catalogue
            .version(&r.from, &r.kind)
            .is_some_and(|v| v.served_at(info.target()));
        let command = match r.status {
            Status::Blocked => Some("error"),
            Status::Migrated if !served || r.field.is_some() => Some("error"),
            Status::Migrated => Some("warning"),
            // The findings say it (as the text output does).
            Status::Deprecated | Status::Noted => None,
        };
        // A blocked object's annotation carries the reason, so it is not repeated.
        let reason = (r.status == Status::Blocked)
            .then(|| o.findings.iter().find(|(_, _, f)| f.level.blocks()))
            .flatten();
        if let Some(command) = command {
            let tail = match (r.status, reason) {
                (Status::Migrated, _) => "; `kubemig fix` rewrites it".to_string(),
                (_, Some((_, _, f))) => format!(": [{}] {}", f.code, f.message),
                _ => String::new(),
            };
            annotation(
                w,
                command,
                &o.path,
                Some((o.line, o.column)),
                &title,
                &format!("{who}: {}{tail}", o.headline()),
            )?;
        }
        for (line, col, f) in &o.findings {
            if !text::shows(f.level, r.status, Verbosity::Normal, false)
                || reason.is_some_and(|(_, _, first)| std::ptr::eq(first, f))
            {
                continue;
            }
            let command = match f.level {
                Level::Info | Level::Pin => "notice",
                Level::Warn => "warning",
                Level::Manual | Level::Error => "error",
            };
            let label = match f.level {
                Level::Info if r.status == Status::Deprecated => "note",
                l => l.as_str(),
            };
            annotation(
                w,
                command,
                &o.path,
                Some((*line, *col)),
                &format!("kubemig {}", f.code),
                &format!("{who}: {label} [{}]: {}", f.code, f.message),
            )?;
        }
    }
    for e in &c.errors {
        annotation(w, "error", &e.path, e.position, "kubemig error", &e.message)?;
    }
    Ok(())
}
