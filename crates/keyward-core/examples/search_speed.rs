//! Times the register search per keystroke, and `find_people`, on a large register:
//!
//!     cargo run --release -p keyward-core --example generate -- 20000 > register.json
//!     cargo run --release -p keyward-core --example search_speed -- register.json
//!
//! Each query is typed a character at a time, as in the search box; prints the median, p95
//! and worst time per keystroke (native code; the PWA's WebAssembly is slower).

use keyward_core::backup::Backup;
use keyward_core::search::{Index, Query};
use keyward_core::*;
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("a backup file from the generate example");
    let backup = Backup::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut register = Register::new();
    for event in &backup.events {
        register.apply(event);
    }
    let site = register.sites().next().unwrap().id;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    let started = Instant::now();
    let index = Index::build(&register, site, today);
    println!(
        "index of {} lockers built in {:?}",
        index.len(),
        started.elapsed()
    );
    let typed = [
        "B07-0123",
        "b7-123",
        "B07 123",
        "sam smith",
        "zoë",
        "p01234",
        "k01234",
        "cabinet",
        "https://keys.example/l/ABCDEFGH",
    ];
    let mut lockers = Vec::new();
    let mut people = Vec::new();
    for text in typed {
        for end in 1..=text.len() {
            if !text.is_char_boundary(end) {
                continue;
            }
            let query = Query {
                text: text[..end].to_string(),
                codes: true,
                ..Default::default()
            };
            let t = Instant::now();
            std::hint::black_box(index.search(&query, 50).total);
            lockers.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(register.find_people(site, &text[..end]).len());
            people.push(t.elapsed());
        }
    }
    report("register search", &mut lockers);
    report("find_people", &mut people);
}

fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    println!(
        "{what}: {} keystrokes, median {:?}, p95 {:?}, worst {:?}",
        times.len(),
        at(0.5),
        at(0.95),
        times[times.len() - 1]
    );
}
