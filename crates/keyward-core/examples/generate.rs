//! Generates a large register as a Keyward backup file, through the same commands a person
//! would use, for benchmarks and load tests:
//!
//!     cargo run --release -p keyward-core --example generate -- 20000 > register.json
//!
//! The register: one site, 20 areas, the lockers in ranges, a keyed lock and two keys on each,
//! a quarter as many people as lockers, half the lockers issued, one in ten of those returned,
//! a few out of service. SplitMix, so every run gives the same file.

use chrono::{Duration, TimeZone, Utc};
use keyward_core::backup::Backup;
use keyward_core::*;

const FIRST: [&str; 12] = [
    "Sam", "Alex", "Jordan", "Priya", "Mohammed", "Olivia", "Noah", "Amelia", "Leo", "Isla",
    "Zara", "Oscar",
];
const LAST: [&str; 10] = [
    "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Patel", "Khan", "Evans", "Walker",
];

struct Generator {
    register: Register,
    events: Vec<Event>,
    entropy: SplitMix,
    now: chrono::DateTime<Utc>,
    device: DeviceId,
}

impl Generator {
    fn run(&mut self, command: Command) -> Event {
        self.now += Duration::seconds(7);
        let mut ctx = Context {
            actor: "Benchmark".into(),
            device: self.device,
            now: self.now,
            entropy: &mut self.entropy,
        };
        let event = self
            .register
            .execute(command.clone(), &mut ctx)
            .unwrap_or_else(|e| panic!("{command:?}: {e}"));
        self.register.apply(&event);
        self.events.push(event.clone());
        event
    }
}

fn main() {
    let lockers: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("the number of lockers, e.g. 20000"))
        .unwrap_or(20_000);
    let mut entropy = SplitMix(20_261_126);
    let now = Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap();
    let device = DeviceId::generate(now, &mut entropy);
    let mut g = Generator {
        register: Register::new(),
        events: Vec::new(),
        entropy,
        now,
        device,
    };
    let Change::SiteCreated { site, .. } = g
        .run(Command::CreateSite {
            name: "Benchmark Academy".into(),
        })
        .change
    else {
        unreachable!()
    };
    let areas = 20;
    let per_area = lockers.div_ceil(areas);
    let mut left = lockers;
    for a in 1..=areas {
        if left == 0 {
            break;
        }
        let Change::AreaAdded { area, .. } = g
            .run(Command::AddArea {
                site,
                name: format!(
                    "Block {} floor {}",
                    (b'A' + (a as u8 - 1) / 4) as char,
                    (a - 1) % 4
                ),
            })
            .change
        else {
            unreachable!()
        };
        let count = per_area.min(left);
        left -= count;
        g.run(Command::AddLockerRange {
            site,
            area,
            from: format!("B{a:02}-0001"),
            to: format!("B{a:02}-{count:04}"),
            allow_similar: false,
        });
    }
    let locker_ids: Vec<LockerId> = g.register.lockers().map(|l| l.id).collect();
    let mut keys = Vec::new();
    for (i, locker) in locker_ids.iter().enumerate() {
        let Change::LockFitted { lock, .. } = g
            .run(Command::FitLock {
                locker: *locker,
                kind: LockKind::Keyed,
                code: format!("K{:05}", i * 7 % 99_991),
                suite: format!("S{}", i % 12),
            })
            .change
        else {
            unreachable!()
        };
        let Change::KeysAdded { keys: added, .. } = g
            .run(Command::AddKeys {
                lock,
                kind: KeyKind::User,
                count: 2,
                storage: format!("Cabinet {}, hook {}", i / 200 + 1, i % 200 + 1),
            })
            .change
        else {
            unreachable!()
        };
        keys.push((*locker, added[0].id));
    }
    let people: Vec<PersonId> = (0..lockers / 4)
        .map(|i| {
            let Change::PersonAdded { person, .. } = g
                .run(Command::AddPerson {
                    site,
                    details: PersonDetails {
                        name: format!(
                            "{} {}",
                            FIRST[i % FIRST.len()],
                            LAST[(i / FIRST.len()) % LAST.len()]
                        ),
                        kind: if i % 10 == 0 {
                            PersonKind::Staff
                        } else {
                            PersonKind::Pupil
                        },
                        reference: format!("P{i:05}"),
                        department: format!("Year {}", 7 + i % 7),
                    },
                })
                .change
            else {
                unreachable!()
            };
            person
        })
        .collect();
    for (n, (locker, key)) in keys.iter().enumerate().filter(|(n, _)| n % 2 == 0) {
        if people.is_empty() {
            break;
        }
        let date = g.now.date_naive();
        g.run(Command::IssueKey {
            key: *key,
            locker: *locker,
            holder: Holder::Person(people[(n / 2) % people.len()]),
            date,
            expected_return: None,
            confirmation: Confirmation::TypedName("Benchmark".into()),
            notes: String::new(),
            due_time: None,
        });
        if n % 20 == 0 {
            g.run(Command::ReturnKey {
                key: *key,
                brought_by: String::new(),
                received_by: "Benchmark".into(),
                condition: Condition::Fine,
                notes: String::new(),
            });
        }
    }
    for locker in locker_ids.iter().skip(3).step_by(97) {
        g.run(Command::SetLockerService {
            locker: *locker,
            out_of_service: Some("Door hinge broken".into()),
        });
    }
    eprintln!(
        "{} lockers, {} people, {} events",
        g.register.lockers().count(),
        people.len(),
        g.events.len()
    );
    serde_json::to_writer(std::io::stdout().lock(), &Backup::new(g.events)).expect("write stdout");
}
