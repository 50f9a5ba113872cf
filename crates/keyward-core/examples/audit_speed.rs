//! Times an audit on a large register: each tick (record a finding, fold it, then what the
//! screen asks: the progress and the next locker to do), and completing it (the report is made
//! when the completion is folded):
//!
//!     cargo run --release -p keyward-core --example generate -- 20000 > register.json
//!     cargo run --release -p keyward-core --example audit_speed -- register.json [ticks]
//!
//! An audit of the area with the most lockers (`site` as a third argument: the whole site),
//! `ticks` lockers (2,000 unless given) ticked in walking order, one in ten with a key
//! missing; prints the median, p95 and worst time per tick and the time to complete (native
//! code; the PWA's WebAssembly is slower). The report covers the audit's scope; a whole-site
//! audit times the report at the register's full size.

use chrono::Duration as Span;
use keyward_core::backup::Backup;
use keyward_core::*;
use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("a backup file from the generate example");
    let ticks: usize = args
        .next()
        .map_or(2_000, |n| n.parse().expect("a number of ticks"));
    let whole_site = args.next().as_deref() == Some("site");
    let backup = Backup::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let register = Register::fold(&backup.events);
    let site = register.sites().next().unwrap().id;
    let mut now = backup.events.last().unwrap().at;
    let mut entropy = SplitMix(2026);
    let device = DeviceId::generate(now, &mut entropy);
    let mut register = register;
    let mut run = |register: &mut Register, command: Command| {
        now += Span::seconds(3);
        let mut ctx = Context {
            actor: "Benchmark".into(),
            device,
            now,
            entropy: &mut entropy,
        };
        let event = register.execute(command, &mut ctx).unwrap();
        register.apply(&event);
        event
    };
    let scope = if whole_site {
        AuditScope::Site
    } else {
        let area = register
            .areas_of(site)
            .into_iter()
            .max_by_key(|a| register.lockers().filter(|l| l.area == a.id).count())
            .unwrap()
            .id;
        AuditScope::Area { area }
    };
    let audit = match run(&mut register, Command::StartAudit { site, scope }).change {
        Change::AuditStarted { audit, .. } => audit,
        c => panic!("{c:?}"),
    };
    let walk: Vec<LockerId> = {
        let a = register.audit(audit).unwrap();
        register.audit_lockers(a).iter().map(|l| l.id).collect()
    };
    println!("audit of {} lockers started", walk.len());
    let mut times = Vec::new();
    for (i, locker) in walk.iter().take(ticks).enumerate() {
        let kind = if i % 10 == 0 {
            FindingKind::KeyMissing
        } else {
            FindingKind::AsExpected
        };
        let t = Instant::now();
        run(
            &mut register,
            Command::RecordFinding {
                audit,
                locker: *locker,
                kind,
                notes: String::new(),
            },
        );
        let a = register.audit(audit).unwrap();
        let progress = register.audit_progress(a);
        std::hint::black_box((progress.done, progress.next_after(*locker)));
        times.push(t.elapsed());
    }
    report("tick to the next locker ready", &mut times);
    let t = Instant::now();
    run(&mut register, Command::CompleteAudit { audit });
    let report = &register
        .audit(audit)
        .unwrap()
        .completed
        .as_ref()
        .unwrap()
        .report;
    println!(
        "completed with its report ({} lines, {} lockers) in {:?}",
        report.total_lines(),
        report.lockers,
        t.elapsed()
    );
    let t = Instant::now();
    let csv = report.csv();
    println!("CSV of {} bytes in {:?}", csv.len(), t.elapsed());
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: {} ticks, median {:?}, p95 {:?}, worst {:?}",
        times.len(),
        at(0.5),
        at(0.95),
        times[times.len() - 1]
    );
}
