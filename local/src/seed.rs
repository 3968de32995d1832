//! The demo data of the local stack: three accounts and, for `acct_demo` (and a little
//! for `acct_other`), customers, voice agents, a credit pool and ledger, and calls over the
//! last 30 days, so analytics answers mean something. Deterministic: the same seed gives
//! the same data, relative to the day it runs.

use knotie::model::account::Account;
use knotie::model::agents::{Agent, AgentFields, AgentStatus, Language, Voice};
use knotie::model::calls::{Call, Outcome};
use knotie::model::credits::{Transaction, TransactionKind};
use knotie::model::customers::{CustomerFields, CustomerStatus};
use knotie::model::ids::{AccountId, CallId, TransactionId};
use knotie::model::time::Timestamp;
use knotie::rules::credits::{self, AllocationRequest};
use knotie::rules::{agents, customers};
use knotie::store::Store;
use knotie::Error;
use time::Duration;

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
const AGENTS: [(usize, &str, Voice, Language, bool); 9] = [
    (0, "Sofia — Reception", Voice::Aria, Language::EnUs, false),
    (
        0,
        "Sofia — Recall reminders",
        Voice::Aria,
        Language::EsMx,
        false,
    ),
    (1, "Max — Buyer leads", Voice::Orion, Language::EnUs, false),
    (
        2,
        "Dispatch — 24/7 emergencies",
        Voice::Atlas,
        Language::EnUs,
        false,
    ),
    (
        2,
        "Dispatch — Spanish line",
        Voice::Juniper,
        Language::EsEs,
        false,
    ),
    (3, "Ruby — Front desk", Voice::Willow, Language::EnGb, false),
    (
        4,
        "Coach Kai — Bookings",
        Voice::Nova,
        Language::EnAu,
        false,
    ),
    (
        5,
        "Intake — New matters",
        Voice::Sage,
        Language::EnUs,
        false,
    ),
    (
        5,
        "Intake — After hours",
        Voice::Ember,
        Language::EnUs,
        true,
    ),
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

pub async fn demo(store: &Store, now: Timestamp) -> Result<(), Error> {
    for (id, name, plan, api_access, calls) in DEMO_ACCOUNTS {
        let id = AccountId::parse(id).expect("demo account ids are valid");
        let already = !store.all_customers(&id).await?.is_empty();
        let profile = Account {
            id: id.clone(),
            name: name.into(),
            plan: plan.into(),
            api_access,
            credit_pool: 0,
            policy: knotie::model::policy::Policy::default(),
        };
        store.put_account(&profile, now).await?;
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
    now: Timestamp,
) -> Result<(), Error> {
    let account = &profile.id;
    let stamp = Timestamp::from_datetime;
    let now = now.as_datetime();
    let mut rng = fastrand::Rng::with_seed(0x6b6e_6f74);
    let start = now - Duration::days(30);

    let mut customer_ids = Vec::new();
    for (i, (name, email, phone, _)) in CUSTOMERS.iter().enumerate() {
        let fields = CustomerFields {
            name: Some((*name).into()),
            email: Some((*email).into()),
            phone: Some((*phone).into()),
            status: Some(if i == 4 {
                CustomerStatus::Paused
            } else {
                CustomerStatus::Active
            }),
        };
        customer_ids.push(
            customers::create(
                store,
                account,
                fields,
                stamp(start + Duration::minutes(i as i64)),
                None,
            )
            .await?
            .customer_id,
        );
    }
    let mut agent_list = Vec::new();
    for (i, (customer, name, voice, language, paused)) in AGENTS.iter().enumerate() {
        let fields = AgentFields {
            name: Some((*name).into()),
            voice: Some(*voice),
            language: Some(*language),
            prompt: Some(format!(
                "You are {name}, the voice assistant of {}. {} Be warm, brief and accurate; \
                 offer a human when you are unsure.",
                CUSTOMERS[*customer].0, CUSTOMERS[*customer].3
            )),
            status: Some(if *paused {
                AgentStatus::Paused
            } else {
                AgentStatus::Active
            }),
        };
        let at = stamp(start + Duration::minutes(10 + i as i64));
        let customer = customer_ids[*customer].as_str();
        agent_list.push(agents::create(store, account, customer, fields, at, None).await?);
    }

    // Calls: busier on weekdays and in business hours; each costs a credit per started minute.
    let active: Vec<&Agent> = agent_list
        .iter()
        .filter(|a| a.status == AgentStatus::Active)
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
            call_id: CallId::new(stamp(at))?,
            agent_id: agent.agent_id.clone(),
            customer_id: agent.customer_id.clone(),
            started_at: stamp(at),
            duration_seconds: duration,
            outcome,
            credits_used: (duration + 59) / 60,
            caller: format!("+1 ••• ••• {:04}", rng.u16(0..10_000)),
            summary: summary.into(),
        });
    }
    store.record_calls(account, &call_list).await?;

    // Credits: two purchases into the pool (the billing system's part), then an
    // allocation per customer that covers its usage with room to spare, and the usage.
    let mut pool = 0;
    let mut purchases = Vec::new();
    // The second pack is bigger when a long history needs it.
    let used: i64 = call_list.iter().map(|c| c.credits_used).sum();
    for (days, amount) in [(31, 40_000), (12, (used + 10_000).max(25_000))] {
        pool += amount;
        let at = stamp(now - Duration::days(days));
        purchases.push(Transaction {
            transaction_id: TransactionId::new(at)?,
            kind: TransactionKind::Purchase,
            customer_id: None,
            amount,
            pool_balance: pool,
            customer_balance: None,
            note: Some("Credit pack purchase".into()),
            created_by: "billing".into(),
            created_at: at,
        });
    }
    store.put_transactions(account, &purchases).await?;
    let funded = Account {
        credit_pool: pool,
        policy: knotie::model::policy::Policy::default(),
        ..profile.clone()
    };
    store.put_account(&funded, stamp(now)).await?;
    for (i, id) in customer_ids.iter().enumerate() {
        let used: i64 = call_list
            .iter()
            .filter(|c| &c.customer_id == id)
            .map(|c| c.credits_used)
            .sum();
        let amount = (used + 1_500 + 500 * i as i64) / 100 * 100;
        let at = stamp(start + Duration::hours(1 + i as i64));
        let key = format!("seed-allocation-{id}");
        let request = AllocationRequest {
            customer_id: id.as_str(),
            amount,
            idempotency_key: &key,
            note: Some("Monthly allocation"),
        };
        credits::allocate(store, account, "seed", request, at, None).await?;
        let note = "Calls over the last 30 days";
        store
            .charge_usage(account, id, used, note, stamp(now))
            .await?;
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
