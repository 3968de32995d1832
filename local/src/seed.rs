//! The demo accounts of the local stack. Writing them again is harmless.

use knotie::identity::AccountId;
use knotie::store::accounts::Account;
use knotie::store::Store;

pub async fn demo_accounts(store: &Store) -> Result<(), knotie::Error> {
    let accounts = [
        ("acct_demo", "Demo Agency", "pro", true),
        ("acct_noapi", "Starter Agency", "starter", false),
        ("acct_other", "Other Agency", "pro", true),
    ];
    for (id, name, plan, api_access) in accounts {
        let id = AccountId::parse(id).expect("demo account ids are valid");
        store
            .put_account(&Account {
                id,
                name: name.into(),
                plan: plan.into(),
                api_access,
            })
            .await?;
    }
    Ok(())
}
