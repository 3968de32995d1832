//! The demo data of the local stack: three accounts and, for `acct_demo` (and a little
//! for `acct_other`), customers, voice agents, a credit pool and ledger, and calls over the
//! last 30 days, so analytics answers mean something. Deterministic: the same seed gives
//! the same data, relative to the day it runs.

use knotie::domain::analytics::{self, Call, Outcome};
use knotie::domain::credits::{self, ledger_item, Transaction};
use knotie::domain::{agents, customers};
use knotie::identity::AccountId;
use knotie::store::accounts::Account;
use knotie::store::Store;
use knotie::Error;
use time::{Duration, OffsetDateTime};

/// `(id, name, plan, API access, calls to seed)`
pub const DEMO_ACCOUNTS: [(&str, &str, &str, bool, usize); 3] = [
    ("acct_demo", "Demo Agency", "pro", true, 3_000),
    ("acct_noapi", "Starter Agency", "starter", false, 0),
    ("acct_other", "Other Agency", "pro", true, 200),
];

const CUSTOMERS: [(&str, &str, &str, &str); 6] = [
    (
        "Bright Smile Dental",
        "frontdesk@brightsmile.example",
        "+1 415 555 0142",
        "Books, moves and confirms dental appointments.",
    ),
    (
        "Oakridge Realty",
        "leads@oakridge.example",
        "+1 512 555 0178",
        "Qualifies buyer leads and schedules viewings.",
    ),
    (
        "Summit Plumbing & Heating",
        "office@summitph.example",
        "+1 303 555 0115",
        "Takes emergency calls and books technicians.",
    ),
    (
        "Harbor View Veterinary",
        "hello@harborvet.example",
        "+44 20 7946 0321",
        "Answers pet-care questions and books visits.",
    ),
    (
        "Peak Fitness Studio",
        "team@peakfit.example",
        "+61 2 5550 1234",
        "Handles class bookings and membership questions.",
    ),
    (
        "Lumen Law Group",
        "intake@lumenlaw.example",
        "+1 212 555 0199",
        "Screens new client inquiries for the attorneys.",
    ),
];

/// `(customer index, name, voice, language, paused)`
const AGENTS: [(usize, &str, &str, &str, bool); 9] = [
    (0, "Sofia — Reception", "aria", "en-US", false),
    (0, "Sofia — Recall reminders", "aria", "es-MX", false),
    (1, "Max — Buyer leads", "orion", "en-US", false),
    (2, "Dispatch — 24/7 emergencies", "atlas", "en-US", false),
    (2, "Dispatch — Spanish line", "juniper", "es-ES", false),
    (3, "Ruby — Front desk", "willow", "en-GB", false),
    (4, "Coach Kai — Bookings", "nova", "en-AU", false),
    (5, "Intake — New matters", "sage", "en-US", false),
    (5, "Intake — After hours", "ember", "en-US", true),
];

const SUMMARIES: [(Outcome, &str); 8] = [
    (
        Outcome::Completed,
        "Booked an appointment and sent a confirmation text.",
    ),
    (
        Outcome::Completed,
        "Answered questions about opening hours and pricing.",
    ),
    (
        Outcome::Completed,
        "Rescheduled an existing booking to next week.",
    ),
    (
        Outcome::Transferred,
        "Caller asked for a person; transferred to the team.",
    ),
    (
        Outcome::Transferred,
        "Urgent request; escalated to the on-call line.",
    ),
    (
        Outcome::Voicemail,
        "Reached voicemail on a callback; left a message.",
    ),
    (Outcome::NoAnswer, "Outbound reminder not answered."),
    (Outcome::Failed, "Call dropped after a few seconds."),
];

pub async fn demo(store: &Store, now: OffsetDateTime) -> Result<(), Error> {
    for (id, name, plan, api_access, calls) in DEMO_ACCOUNTS {
        let id = AccountId::parse(id).expect("demo account ids are valid");
        let already = !customers::all(store, &id).await?.is_empty();
        let profile = Account {
            id: id.clone(),
            name: name.into(),
            plan: plan.into(),
            api_access,
            credit_pool: 0,
        };
        store.put_account(&profile).await?;
        if calls > 0 && !already {
            account_data(store, &profile, calls, now).await?;
        }
    }
    Ok(())
}

/// Customers, agents, credits and `calls` calls for one account.
pub async fn account_data(
    store: &Store,
    profile: &Account,
    calls: usize,
    now: OffsetDateTime,
) -> Result<(), Error> {
    let account = &profile.id;
    let mut rng = fastrand::Rng::with_seed(0x6b6e_6f74);
    let start = now - Duration::days(30);

    let mut customer_ids = Vec::new();
    for (i, (name, email, phone, _)) in CUSTOMERS.iter().enumerate() {
        let fields = customers::CustomerFields {
            name: Some((*name).into()),
            email: Some((*email).into()),
            phone: Some((*phone).into()),
            status: Some(if i == 4 {
                customers::CustomerStatus::Paused
            } else {
                customers::CustomerStatus::Active
            }),
        };
        customer_ids.push(
            customers::create(store, account, fields, start + Duration::minutes(i as i64))
                .await?
                .customer_id,
        );
    }
    let mut agent_list = Vec::new();
    for (i, (customer, name, voice, language, paused)) in AGENTS.iter().enumerate() {
        let fields = agents::AgentFields {
            name: Some((*name).into()),
            voice: Some((*voice).into()),
            language: Some((*language).into()),
            prompt: Some(format!(
                "You are {name}, the voice assistant of {}. {} Be warm, brief and accurate; \
                 offer a human when you are unsure.",
                CUSTOMERS[*customer].0, CUSTOMERS[*customer].3
            )),
            status: Some(if *paused {
                agents::AgentStatus::Paused
            } else {
                agents::AgentStatus::Active
            }),
        };
        let at = start + Duration::minutes(10 + i as i64);
        agent_list
            .push(agents::create(store, account, &customer_ids[*customer], fields, at).await?);
    }

    // Calls: busier on weekdays and in business hours; each costs a credit per started minute.
    let active: Vec<&agents::Agent> = agent_list
        .iter()
        .filter(|a| a.status == agents::AgentStatus::Active)
        .collect();
    let mut call_list = Vec::with_capacity(calls);
    while call_list.len() < calls {
        let at = start + Duration::seconds(rng.i64(0..30 * 86_400));
        let weekend = at.weekday().number_days_from_monday() >= 5;
        if (weekend && rng.u8(0..3) > 0) || !(8..20).contains(&at.hour()) && rng.u8(0..5) > 0 {
            continue;
        }
        let agent = active[rng.usize(0..active.len())];
        let (outcome, summary) = SUMMARIES[weighted(&mut rng)];
        let duration = match outcome {
            Outcome::Completed => rng.i64(60..480),
            Outcome::Transferred => rng.i64(30..240),
            Outcome::Voicemail => rng.i64(15..45),
            Outcome::NoAnswer => 0,
            Outcome::Failed => rng.i64(3..30),
        };
        call_list.push(Call {
            call_id: knotie::ids::new("call_", at)?,
            agent_id: agent.agent_id.clone(),
            customer_id: agent.customer_id.clone(),
            started_at: at.unix_timestamp(),
            duration_seconds: duration,
            outcome,
            credits_used: (duration + 59) / 60,
            caller: format!("+1 ••• ••• {:04}", rng.u16(0..10_000)),
            summary: summary.into(),
        });
    }
    analytics::record_calls(store, account, &call_list).await?;

    // Credits: two purchases into the pool (the billing system's part), then an
    // allocation per customer that covers its usage with room to spare, and the usage.
    let mut pool = 0;
    let mut purchases = Vec::new();
    for (days, amount) in [(31, 40_000), (12, 25_000)] {
        pool += amount;
        let at = now - Duration::days(days);
        let purchase = Transaction {
            transaction_id: knotie::ids::new(credits::TRANSACTION_PREFIX, at)?,
            kind: "purchase".into(),
            customer_id: None,
            amount,
            pool_balance: pool,
            customer_balance: None,
            note: Some("Credit pack purchase".into()),
            created_by: "billing".into(),
            created_at: knotie::domain::rfc3339(at.unix_timestamp()),
        };
        purchases.push(ledger_item(account, &purchase, at));
    }
    store.put_all(purchases).await?;
    store
        .put_account(&Account {
            credit_pool: pool,
            ..profile.clone()
        })
        .await?;
    for (i, id) in customer_ids.iter().enumerate() {
        let used: i64 = call_list
            .iter()
            .filter(|c| &c.customer_id == id)
            .map(|c| c.credits_used)
            .sum();
        let amount = (used + 1_500 + 500 * i as i64) / 100 * 100;
        let at = start + Duration::hours(1 + i as i64);
        let key = format!("seed-allocation-{id}");
        credits::allocate(
            store,
            account,
            "seed",
            id,
            amount,
            &key,
            Some("Monthly allocation"),
            at,
        )
        .await?;
        credits::record_usage(store, account, id, used, "Calls over the last 30 days", now).await?;
    }
    Ok(())
}

fn weighted(rng: &mut fastrand::Rng) -> usize {
    // completed ×3 each, transferred ×2 each, the rest ×1: about 80 % successes.
    const WEIGHTS: [u32; 8] = [7, 6, 5, 3, 2, 2, 2, 1];
    let mut pick = rng.u32(0..WEIGHTS.iter().sum());
    WEIGHTS
        .iter()
        .position(|w| {
            pick < *w || {
                pick -= w;
                false
            }
        })
        .unwrap_or(0)
}
